"""The live part of ``turnout demo``: a real gateway serving traffic while the alias flips.

A gateway (the same app ``turnout serve`` runs) listens on a free loopback port;
a client thread sends chat requests to ``prod-chat`` the whole time; the demo
flips the alias and rolls it back; each line of output counts, per half second,
which pinned version answered (from the ``x-turnout-version`` header).
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import uvicorn
from rich.console import Console

__all__ = ["LiveTraffic", "serve_in_thread"]


def serve_in_thread(app: object, startup_timeout: float = 15.0) -> tuple[str, Callable[[], None]]:
    """Run ``app`` under uvicorn on a free 127.0.0.1 port; return its URL and a stopper."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        ws="none",
        lifespan="on",
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the demo gateway did not start")
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()

    return f"http://127.0.0.1:{port}", stop


class LiveTraffic:
    """A client thread sending requests to one alias, tallying the version that served each."""

    def __init__(self, base_url: str, alias: str, rate_per_s: float = 40.0) -> None:
        self._url = f"{base_url}/v1/chat/completions"
        self._alias = alias
        self._pause = 1.0 / rate_per_s
        self._tally: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-traffic", daemon=True)
        self.errors = 0
        self.total = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def take(self) -> Counter[str]:
        with self._lock:
            tally, self._tally = self._tally, Counter()
        return tally

    def _run(self) -> None:
        body = {"model": self._alias, "messages": [{"role": "user", "content": "What is 6 * 7?"}]}
        with httpx.Client(timeout=10) as client:
            while not self._stop.is_set():
                try:
                    response = client.post(self._url, json=body)
                    served = response.headers.get("x-turnout-version", "?")
                    if response.status_code != 200:
                        self.errors += 1
                        served = f"error {response.status_code}"
                except httpx.HTTPError:
                    self.errors += 1
                    served = "error"
                with self._lock:
                    self._tally[served] += 1
                    self.total += 1
                self._stop.wait(self._pause)


def run_live(
    console: Console,
    db_url: str,
    snapshot_path: Path,
    steps: list[tuple[float, str, Callable[[], None]]],
    duration: float,
    note: str = "(sim/chat-2025-01-01 is configured to fail 1% of requests)",
) -> None:
    """Serve ``db_url``, send traffic, run each ``(at_seconds, label, action)``, print tallies."""
    from turnout.wiring import build_server_app

    url, stop_server = serve_in_thread(build_server_app(db_url, snapshot_path))
    traffic = LiveTraffic(url, "prod-chat")
    console.print(f"[dim]gateway on {url}; a client sends requests to prod-chat non-stop[/dim]")
    traffic.start()
    started = time.monotonic()
    pending = sorted(steps, key=lambda step: step[0])
    try:
        tick = 0.5
        next_tick = started + tick
        while time.monotonic() - started < duration:
            now = time.monotonic()
            while pending and now - started >= pending[0][0]:
                _, label, action = pending.pop(0)
                action()
                console.print(f"[bold yellow]  ~ {label}[/bold yellow]")
            if now >= next_tick:
                tally = traffic.take()
                cells = "  ".join(
                    f"{version}: {count:>3}" for version, count in sorted(tally.items())
                )
                console.print(f"  t={now - started:4.1f}s  {cells}", highlight=False)
                next_tick += tick
            time.sleep(0.02)
    finally:
        traffic.stop()
        stop_server()
    console.print(f"[dim]{traffic.total} requests, {traffic.errors} errors {note}[/dim]")
