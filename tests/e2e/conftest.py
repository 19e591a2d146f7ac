"""End-to-end fixtures: real ``turnout serve`` processes, a fresh PostgreSQL database,
and a TCP forwarder that stands between the gateways and PostgreSQL.

* :class:`Fleet` starts gateway processes (``.venv/bin/turnout serve``), each on its
  own free 127.0.0.1 port, with its own ``TURNOUT_SNAPSHOT_FILE`` in ``tmp_path``
  and its own log file, and stops every one of them at the end of the test
  (SIGTERM, then SIGKILL): no process or port outlives a test.
* :class:`TcpProxy` is the forwarder of ``tests/services/test_snapshot_feed.py``:
  ``stop()`` closes the listening socket and aborts every forwarded connection
  (a crashed database or a network cut, as the gateways see it), ``start()``
  listens again on the same port. The shared server itself is never touched.
  ``blackhole()`` is the nastier partition: connections stay open, nothing crosses.
* ``e2e_pg_url`` is an empty PostgreSQL database of the test's own, dropped
  (after terminating any leftover connection) when the test ends; ``pg_registry``
  migrates it and registers two sim versions, the alias pointing at the first.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import make_url
from tests.support.pg import fresh_pg_database
from tests.support.tcp_proxy import TcpProxy

from turnout.domain.access import LOCAL_ADMIN
from turnout.services.registry import Registry
from turnout.wiring import open_registry

HOST = "127.0.0.1"
ALIAS = "prod-chat"
V1, V2 = "sim/chat-2025-01-01", "sim/chat-2025-02-01"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


# --- gateway processes -------------------------------------------------------------------------


@dataclass
class Gateway:
    """One ``turnout serve`` process and how to talk to it."""

    name: str
    db_url: str
    snapshot_file: Path
    log_path: Path
    http: httpx.Client
    options: tuple[str, ...] = ()
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def readyz(self) -> tuple[int, dict[str, Any]]:
        response = self.http.get(f"{self.url}/readyz")
        return response.status_code, response.json()

    def status(self) -> str:
        """``ok``, ``degraded`` or ``not_ready``, as /readyz reports it."""
        return str(self.readyz()[1]["status"])

    def chat(self, model: str = ALIAS) -> httpx.Response:
        return self.http.post(
            f"{self.url}/v1/chat/completions",
            json={"model": model, "messages": [{"role": "user", "content": "ping"}]},
        )

    def served(self, model: str = ALIAS) -> str:
        """The pinned version a chat request on ``model`` was served by (must succeed)."""
        response = self.chat(model)
        assert response.status_code == 200, f"{self.name}: {response.text}\n{self.log()}"
        body = response.json()
        version = response.headers["x-turnout-version"]
        assert body["model"] == version
        return version


class Fleet:
    """Starts gateway processes for one test and guarantees they are all stopped."""

    def __init__(self, exe: str, workdir: Path, env: dict[str, str], http: httpx.Client) -> None:
        self._exe = exe
        self._workdir = workdir
        self._env = env
        self._http = http
        self._running: list[Gateway] = []
        self._count = 0

    def start(
        self, db_url: str, snapshot_file: Path | None = None, options: tuple[str, ...] = ()
    ) -> Gateway:
        """Start one gateway and wait until /readyz answers 200."""
        files = [snapshot_file] if snapshot_file else None
        [gateway] = self.start_many(db_url, 1, files, options)
        return gateway

    def start_many(
        self,
        db_url: str,
        count: int,
        snapshot_files: list[Path] | None = None,
        options: tuple[str, ...] = (),
    ) -> list[Gateway]:
        """Start ``count`` gateways at once (they boot in parallel), then wait for each.

        ``options`` are extra ``serve`` options (``--workers 2``).
        """
        gateways = []
        for i in range(count):
            self._count += 1
            name = f"gw{self._count}"
            path = snapshot_files[i] if snapshot_files else self._workdir / name / "snapshot.json"
            log = self._workdir / f"{name}.log"
            gateway = Gateway(name, db_url, path, log, self._http, options)
            self._spawn(gateway)
            gateways.append(gateway)
        for gateway in gateways:
            self._wait_ready(gateway)
        return gateways

    def serve_args(self, gateway: Gateway) -> list[str]:
        return [self._exe, "--db", gateway.db_url, "serve", "--host", HOST, *gateway.options]

    def env_for(self, snapshot_file: Path) -> dict[str, str]:
        return {**self._env, "TURNOUT_SNAPSHOT_FILE": str(snapshot_file)}

    def stop(self, gateway: Gateway) -> int:
        """SIGTERM, then SIGKILL after a grace period; returns the exit status."""
        proc = gateway.proc
        if proc is None:
            return 0
        if gateway in self._running:
            self._running.remove(gateway)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=STOP_TIMEOUT_S)
        return proc.returncode

    def close(self) -> None:
        for gateway in list(self._running):
            self.stop(gateway)

    def _spawn(self, gateway: Gateway) -> None:
        gateway.port = free_port()
        with gateway.log_path.open("ab") as log:
            gateway.proc = subprocess.Popen(
                [*self.serve_args(gateway), "--port", str(gateway.port)],
                cwd=self._workdir,
                env=self.env_for(gateway.snapshot_file),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._running.append(gateway)

    def _wait_ready(self, gateway: Gateway, attempts: int = 3) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            proc = gateway.proc
            assert proc is not None
            if proc.poll() is not None:
                self._running.remove(gateway)
                if "address already in use" in gateway.log().lower() and attempts > 1:
                    self._spawn(gateway)  # lost the race for the free port: pick another
                    self._wait_ready(gateway, attempts - 1)
                    return
                pytest.fail(f"{gateway.name} exited with {proc.returncode}:\n{gateway.log()}")
            try:
                if self._http.get(f"{gateway.url}/readyz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        pytest.fail(f"{gateway.name} not ready after {START_TIMEOUT_S} s:\n{gateway.log()}")


def free_port() -> int:
    """A port that was free a moment ago (the fleet retries if another process takes it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def turnout_exe() -> str:
    """The installed console script (``.venv/bin/turnout``)."""
    found = shutil.which("turnout", path=os.path.dirname(sys.executable))
    assert found, f"no turnout console script next to {sys.executable}; pip install -e ."
    return found


@pytest.fixture(scope="session")
def e2e_env() -> dict[str, str]:
    """The environment minus anything that would retarget or reconfigure turnout."""
    dropped = {"TURNOUT_DB", "TURNOUT_TOKEN", "TURNOUT_DEBUG", "TURNOUT_SNAPSHOT_FILE"}
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    env.update({"NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200"})
    return env


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as client:
        yield client


@pytest.fixture
def fleet(
    turnout_exe: str, e2e_env: dict[str, str], tmp_path: Path, http: httpx.Client
) -> Iterator[Fleet]:
    started = Fleet(turnout_exe, tmp_path, e2e_env, http)
    try:
        yield started
    finally:
        started.close()


CliRun = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli(turnout_exe: str, e2e_env: dict[str, str], tmp_path: Path) -> CliRun:
    """``cli(db_url, *args)``: run the real CLI; it must exit 0 with no traceback."""

    def run(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [turnout_exe, "--db", db_url, *args],
            cwd=tmp_path,
            env=e2e_env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        shown = f"turnout {' '.join(args)}\n{result.stdout}{result.stderr}"
        assert result.returncode == 0, shown
        assert "Traceback" not in result.stderr, shown
        return result

    return run


# --- the registry ------------------------------------------------------------------------------


def seed(db_url: str) -> Registry:
    """Migrate ``db_url``, register V1 and V2 (no latency) and point the alias at V1."""
    registry = open_registry(db_url)
    for version in (V1, V2):
        registry.versions.add(LOCAL_ADMIN, version, params={"latency_ms": 0})
    registry.aliases.set(LOCAL_ADMIN, ALIAS, V1)
    return registry


@pytest.fixture
def e2e_pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test; dropped at its end."""
    with fresh_pg_database("turnout_e2e") as url:
        yield url


@pytest.fixture
def pg_registry(e2e_pg_url: str) -> Iterator[Registry]:
    """The test's own registry on the real PostgreSQL port (never through the proxy)."""
    registry = seed(e2e_pg_url)
    yield registry
    registry.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'registry.db'}"


@pytest.fixture
def sqlite_registry(sqlite_url: str) -> Iterator[Registry]:
    registry = seed(sqlite_url)
    yield registry
    registry.close()


# --- the forwarder -----------------------------------------------------------------------------


@pytest.fixture
def pg_proxy(e2e_pg_url: str) -> Iterator[TcpProxy]:
    """A running forwarder to the test database's server; ``url_for`` gives its URL."""
    target = make_url(e2e_pg_url)
    proxy = TcpProxy(target.host or HOST, target.port or 5432)
    try:
        proxy.start()
        yield proxy
    finally:
        proxy.close()
