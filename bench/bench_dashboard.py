"""The dashboard at scale: page times with 1,000 aliases and a million logged requests.

Seeds a throw-away SQLite registry (or --db) with --aliases aliases over a few
sim versions and --requests request-log rows spread over the last day (a tenth
of them in the last 15 minutes, the health window), serves the real
``turnout serve`` app on 127.0.0.1, signs in with an admin token and times each
page (median of --repeat loads, first load excluded), beside the admin API's
alias list as a reference for what a page costs.

    .venv/bin/python bench/bench_dashboard.py [--aliases 1000] [--requests 1000000]
"""

from __future__ import annotations

import argparse
import re
import socket
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn

from turnout.domain.access import LOCAL_ADMIN, Role
from turnout.domain.requests import RequestRecord
from turnout.wiring import build_server_app, open_registry

VERSIONS = [f"sim/chat-2025-{month:02d}-01" for month in range(1, 7)]
_CSRF = re.compile(r'name="csrf" value="([^"]*)"')


def seed(db_url: str, aliases: int, requests: int) -> str:
    """Registry, aliases and request log; returns an admin token's secret."""
    registry = open_registry(db_url)
    try:
        for version in VERSIONS:
            registry.versions.add(LOCAL_ADMIN, version, {"latency_ms": 10})
        for i in range(aliases):
            primary = VERSIONS[i % len(VERSIONS)]
            fallback = VERSIONS[(i + 1) % len(VERSIONS)]
            registry.aliases.set(LOCAL_ADMIN, f"app-{i:04d}", primary, fallbacks=[fallback])
        now = datetime.now(UTC)
        batch: list[RequestRecord] = []
        for n in range(requests):
            recent = n % 10 == 0
            at = now - timedelta(seconds=(n % 900) if recent else 900 + n % 85_000)
            i = n % aliases
            batch.append(
                RequestRecord(
                    f"req_{n:012x}",
                    at,
                    f"app-{i:04d}",
                    VERSIONS[i % len(VERSIONS)],
                    "stable",
                    None,
                    500 if n % 97 == 0 else 200,
                    None,
                    5.0 + n % 50,
                    None,
                    20,
                    10,
                    None,
                    False,
                )
            )
            if len(batch) == 20_000:
                registry.ctx.store.log_requests(batch)
                batch = []
        registry.ctx.store.log_requests(batch)
        return registry.tokens.create(LOCAL_ADMIN, "bench-admin", Role.ADMIN).secret
    finally:
        registry.close()


def serve(db_url: str, workdir: Path) -> tuple[str, uvicorn.Server]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = build_server_app(db_url, snapshot_path=workdir / "snapshot.json")
    config = uvicorn.Config(app, log_level="warning", lifespan="on", loop="uvloop")
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


def timed(client: httpx.Client, path: str, repeat: int) -> tuple[float, int]:
    client.get(path)  # first load: caches, connections
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return statistics.median(times), len(response.content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aliases", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="turnout-ui-bench-") as tmp:
        workdir = Path(tmp)
        db_url = f"sqlite:///{workdir / 'registry.db'}"
        started = time.perf_counter()
        secret = seed(db_url, args.aliases, args.requests)
        print(
            f"seeded {args.aliases} aliases, {args.requests} requests in "
            f"{time.perf_counter() - started:.0f} s"
        )
        url, server = serve(db_url, workdir)
        try:
            with httpx.Client(base_url=url, timeout=60) as client:
                form = client.get("/ui/signin")
                token = _CSRF.search(form.text)
                assert token is not None
                client.post(
                    "/ui/signin",
                    data={"csrf": token.group(1), "token": secret, "next": "/ui/aliases"},
                )
                pages = [
                    "/ui/aliases",
                    "/ui/aliases?page=10",
                    "/ui/aliases/app-0042",
                    "/ui/versions",
                    f"/ui/versions/{VERSIONS[0]}",
                    "/ui/deprecations",
                    "/ui/audit",
                    "/ui/rollouts",
                ]
                print("\n| page | median ms | bytes |\n|---|---|---|")
                for path in pages:
                    ms, size = timed(client, path, args.repeat)
                    print(f"| {path} | {ms:.0f} | {size} |")
                api = httpx.Client(
                    base_url=url, headers={"authorization": f"Bearer {secret}"}, timeout=60
                )
                ms, size = timed(api, "/api/v1/aliases", args.repeat)
                print(f"| /api/v1/aliases (reference: all aliases as JSON) | {ms:.0f} | {size} |")
        finally:
            server.should_exit = True


if __name__ == "__main__":
    main()
