"""How long from a flip returning to every gateway replica serving the new version?

Starts ``--replicas`` real ``turnout serve`` processes (one worker each) on a fresh
PostgreSQL database (created here, dropped at the end) and, separately, on one
SQLite file; registers two sim versions with ``latency_ms=0`` and flips
``prod-chat`` between them ``--flips`` times. After each flip *returns* the clock
starts, and every replica is polled concurrently with a tight loop of chat
requests until its ``x-turnout-version`` header shows the new version; a flip's
sample is the slowest replica. Two ways to flip:

* ``sdk``: ``registry.aliases.set(...)`` in this process (timed from its return);
* ``cli``: the real ``turnout alias set`` subprocess (timed from the process exit;
  the CLI's own start-up, ~0.5 s, is not counted, and replicas may already have
  swapped while it was exiting).

Targets: PostgreSQL (LISTEN/NOTIFY) p99 < 100 ms; SQLite (50 ms marker poll) < 1 s.
The machine is shared: read the shape, not the last millisecond.

Run: ``.venv/bin/python bench/bench_propagation.py [--flips 50] [--replicas 3]
[--stores postgresql,sqlite] [--variants sdk,cli] [--pg-admin URL]``.
Everything listens on 127.0.0.1 and every process, file and database is removed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from sqlalchemy import create_engine, text

from turnout.domain.access import LOCAL_ADMIN
from turnout.services.registry import Registry
from turnout.wiring import open_registry

HOST = "127.0.0.1"
ALIAS = "prod-chat"
VERSIONS = ("sim/chat-2025-01-01", "sim/chat-2025-02-01")
TARGET_P99_MS = {"postgresql": 100.0, "sqlite": 1000.0}
FLIP_DEADLINE_S = 10.0
"""A flip not served everywhere by then counts as a failure (and as this many ms)."""
START_TIMEOUT_S = 30.0
BODY = {"model": ALIAS, "messages": [{"role": "user", "content": "ping"}], "max_tokens": 1}


def turnout_exe() -> str:
    found = shutil.which("turnout", path=os.path.dirname(sys.executable))
    if not found:
        raise SystemExit(f"no turnout console script next to {sys.executable}; pip install -e .")
    return found


def clean_env() -> dict[str, str]:
    """This environment minus ``TURNOUT_*`` (each replica gets its own snapshot file)."""
    return {key: value for key, value in os.environ.items() if not key.startswith("TURNOUT_")}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


# --- gateway processes -------------------------------------------------------------------------


@dataclass
class Replica:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


def _spawn(db_url: str, workdir: Path, name: str) -> Replica:
    port = free_port()
    log = workdir / f"{name}.log"
    env = {**clean_env(), "TURNOUT_SNAPSHOT_FILE": str(workdir / f"{name}.snapshot.json")}
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [turnout_exe(), "--db", db_url, "serve", "--host", HOST, "--port", str(port)],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Replica(name, proc, port, log)


def _ready(replica: Replica) -> bool:
    try:
        with urllib.request.urlopen(f"{replica.url}/readyz", timeout=1.0) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _stop(replica: Replica) -> None:
    if replica.proc.poll() is None:
        replica.proc.send_signal(signal.SIGTERM)
        try:
            replica.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            replica.proc.kill()
            replica.proc.wait(timeout=10)


@contextlib.contextmanager
def replicas(db_url: str, count: int, workdir: Path) -> Iterator[list[Replica]]:
    """``count`` gateways on ``db_url``, ready; all stopped (SIGTERM, then SIGKILL) on exit."""
    started = [_spawn(db_url, workdir, f"replica{i + 1}") for i in range(count)]
    try:
        for i in range(count):
            deadline = time.monotonic() + START_TIMEOUT_S
            retries = 2
            while not _ready(started[i]):
                replica = started[i]
                if replica.proc.poll() is not None:
                    log = replica.log.read_text(errors="replace")
                    if "address already in use" in log.lower() and retries:
                        retries -= 1  # lost the race for the free port: try another
                        started[i] = _spawn(db_url, workdir, replica.name)
                        continue
                    raise RuntimeError(f"{replica.name} exited:\n{log}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{replica.name} not ready after {START_TIMEOUT_S} s")
                time.sleep(0.05)
        yield started
    finally:
        for replica in started:
            _stop(replica)


# --- measuring ---------------------------------------------------------------------------------


async def _served(session: aiohttp.ClientSession, replica: Replica) -> str:
    async with session.post(f"{replica.url}/v1/chat/completions", json=BODY) as response:
        await response.read()
        if response.status != 200:
            raise RuntimeError(f"{replica.name}: HTTP {response.status}")
        return response.headers["x-turnout-version"]


async def _until_served(
    session: aiohttp.ClientSession, replica: Replica, version: str, started: float
) -> float:
    """Milliseconds from ``started`` until ``replica`` answers with ``version``."""
    deadline = started + FLIP_DEADLINE_S
    while time.perf_counter() < deadline:
        if await _served(session, replica) == version:
            return (time.perf_counter() - started) * 1000
    return math.inf


Flip = Callable[[str], None]


async def measure(fleet: list[Replica], flip: Flip, flips: int, current: str) -> list[float]:
    """Per flip, the slowest replica's time to serve the new version, in ms."""
    samples = []
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        for replica in fleet:  # warm: a pooled connection per replica, the current version
            if await _served(session, replica) != current:
                raise RuntimeError(f"{replica.name} does not serve {current} before flipping")
        for _ in range(flips):
            target = VERSIONS[1] if current == VERSIONS[0] else VERSIONS[0]
            flip(target)  # blocks the loop on purpose: nothing is polled before it returns
            started = time.perf_counter()
            waits = await asyncio.gather(
                *(_until_served(session, r, target, started) for r in fleet)
            )
            samples.append(max(waits))
            current = target
    return samples


def sdk_flip(registry: Registry) -> Flip:
    def flip(version: str) -> None:
        registry.aliases.set(LOCAL_ADMIN, ALIAS, version)

    return flip


def cli_flip(db_url: str, workdir: Path) -> Flip:
    command = [turnout_exe(), "--db", db_url, "alias", "set", ALIAS]

    def flip(version: str) -> None:
        subprocess.run(
            [*command, version],
            cwd=workdir,
            env=clean_env(),
            capture_output=True,
            check=True,
            timeout=60,
        )  # returns once the process has exited: that is when the clock starts

    return flip


# --- stores ------------------------------------------------------------------------------------


@contextlib.contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh database on the server at ``admin_url``; dropped on exit."""
    name = f"turnout_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@contextlib.contextmanager
def store_url(kind: str, admin_url: str, workdir: Path) -> Iterator[str]:
    if kind == "postgresql":
        with postgres_database(admin_url) as url:
            yield url
    else:
        yield f"sqlite:///{workdir / 'bench.db'}"


Row = tuple[str, str, list[float]]


def bench_store(kind: str, args: argparse.Namespace) -> list[Row]:
    rows: list[Row] = []
    with (
        tempfile.TemporaryDirectory(prefix="turnout-bench-") as scratch,
        store_url(kind, args.pg_admin, Path(scratch)) as url,
    ):
        workdir = Path(scratch)
        registry = open_registry(url)
        try:
            for version in VERSIONS:
                registry.versions.add(LOCAL_ADMIN, version, params={"latency_ms": 0})
            registry.aliases.set(LOCAL_ADMIN, ALIAS, VERSIONS[0])
            with replicas(url, args.replicas, workdir) as fleet:
                flips = {"sdk": sdk_flip(registry), "cli": cli_flip(url, workdir)}
                for variant in args.variants:
                    current = str(registry.aliases.get(ALIAS).target.version)
                    samples = asyncio.run(measure(fleet, flips[variant], args.flips, current))
                    rows.append((kind, variant, samples))
                    print(
                        f"  {kind}/{variant}: {len(samples)} flips done",
                        file=sys.stderr,
                        flush=True,
                    )
        finally:
            registry.close()
    return rows


# --- report ------------------------------------------------------------------------------------


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation: every value printed was observed)."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def print_table(rows: list[Row], replicas_count: int) -> None:
    print(
        f"flip propagation: time from the flip returning to all {replicas_count} replicas "
        "serving the new version (ms; per flip, the slowest replica)"
    )
    head = ("store", "flip via", "flips", "p50", "p90", "p99", "max", "target p99", "met")
    print("| " + " | ".join(f"{h:>10}" for h in head) + " |")
    print("|" + "|".join("-" * 12 for _ in head) + "|")
    for kind, variant, samples in rows:
        target = TARGET_P99_MS[kind]
        p99 = percentile(samples, 99)
        cells = (
            kind,
            variant,
            str(len(samples)),
            *(f"{percentile(samples, q):.1f}" for q in (50, 90, 99)),
            f"{max(samples):.1f}",
            f"< {target:.0f}",
            "yes" if p99 < target else "NO",
        )
        print("| " + " | ".join(f"{c:>10}" for c in cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flips", type=int, default=50, help="flips per store and variant")
    parser.add_argument("--replicas", type=int, default=3, help="gateway processes per store")
    parser.add_argument(
        "--stores",
        default="postgresql,sqlite",
        help="comma-separated: postgresql, sqlite",
    )
    parser.add_argument("--variants", default="sdk,cli", help="comma-separated: sdk, cli")
    parser.add_argument(
        "--pg-admin",
        default=os.environ.get(
            "TURNOUT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL URL allowed to CREATE/DROP DATABASE (env TURNOUT_TEST_PG)",
    )
    args, _ignored = parser.parse_known_args()  # bench/run_all.py passes its own args along
    args.variants = [v for v in args.variants.split(",") if v]
    stores = [s for s in args.stores.split(",") if s]
    for name, allowed in (("store", {"postgresql", "sqlite"}), ("variant", {"sdk", "cli"})):
        unknown = set(stores if name == "store" else args.variants) - allowed
        if unknown:
            parser.error(f"unknown {name}(s): {', '.join(sorted(unknown))}")
    if not 1 <= args.flips <= 10_000 or not 1 <= args.replicas <= 16:
        parser.error("--flips must be in 1..10000 and --replicas in 1..16")
    # A SIGTERM (a CI timeout) unwinds like Ctrl+C, so the finally blocks stop every
    # replica and drop the database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    rows: list[Row] = []
    for kind in stores:
        rows.extend(bench_store(kind, args))
    print_table(rows, args.replicas)


if __name__ == "__main__":
    main()
