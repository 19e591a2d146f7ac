"""The rollout part of ``turnout demo``: a real gateway, real traffic, the real controller.

A gateway (the app ``turnout serve`` runs) serves ``prod-chat`` to a pool of
simulated users (each with a sticky ``user`` key) while a rollout moves the alias
to a candidate. The controller looks every half second; the terminal shows the
step, the traffic per arm and every gate's verdict, live, until the rollout
completes or rolls itself back.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from turnout.cli.demo_live import serve_in_thread
from turnout.cli.rollouts import share_text
from turnout.domain.rollouts import RolloutStatus
from turnout.services.rollouts import RolloutReport

__all__ = ["DEMO_POLICY", "UserTraffic", "run_rollout"]

DEMO_POLICY: dict[str, object] = {
    "steps": [10, 50, 100],
    "min_samples": 150,
    "min_duration_s": 2,
    "max_duration_s": 60,
    "gates": [
        {"metric": "error_rate", "max_ratio": 1.0},
        {"metric": "latency_p95", "max_ratio": 1.2},
        {"metric": "quality", "max_decrease": 0.05},
    ],
    "scorers": ["arithmetic"],
}
"""Short steps for a demo; production policies wait minutes and hundreds of samples."""


class UserTraffic:
    """Many users (sticky ``user`` keys) calling one alias concurrently, from a thread."""

    def __init__(self, base_url: str, alias: str, concurrency: int = 12, users: int = 5000) -> None:
        self._url = f"{base_url}/v1/chat/completions"
        self._alias = alias
        self._concurrency = concurrency
        self._users = users
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-users", daemon=True)
        self.by_arm: Counter[str] = Counter()
        self.errors_by_arm: Counter[str] = Counter()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=15)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        limits = httpx.Limits(max_connections=self._concurrency)
        async with httpx.AsyncClient(timeout=10, limits=limits) as client:
            await asyncio.gather(*(self._user_loop(client, i) for i in range(self._concurrency)))

    async def _user_loop(self, client: httpx.AsyncClient, worker: int) -> None:
        n = worker
        while not self._stop.is_set():
            n += self._concurrency
            body = {
                "model": self._alias,
                "user": f"user-{n % self._users}",
                "messages": [{"role": "user", "content": "What is 6 * 7?"}],
            }
            try:
                response = await client.post(self._url, json=body)
                arm = response.headers.get("x-turnout-arm", "?")
                self.by_arm[arm] += 1
                if response.status_code != 200:
                    self.errors_by_arm[arm] += 1
            except httpx.HTTPError:
                self.errors_by_arm["transport"] += 1


def _view(report: RolloutReport, traffic: UserTraffic, elapsed: float) -> Group:
    rollout = report.rollout
    steps = len(rollout.plan.steps)
    done = steps if rollout.status is RolloutStatus.COMPLETED else max(rollout.step, 0)
    head = Text.from_markup(
        f"[bold]{rollout.alias}[/bold]: {rollout.stable} -> [bold]{rollout.candidate}[/bold]  "
        f"[cyan]{rollout.status.value}[/cyan], step {max(rollout.step, 0) + 1}/{steps}, "
        f"{share_text(rollout)}  (t={elapsed:4.1f}s)"
    )
    bar = Table.grid(padding=(0, 1))
    bar.add_row(ProgressBar(total=steps, completed=min(done, steps), width=40), f"{done}/{steps}")
    fallback = traffic.by_arm["fallback"]
    retried = f", canary failures retried on stable {fallback}" if fallback else ""
    arms = Text(
        f"served: stable {traffic.by_arm['stable']} ({traffic.errors_by_arm['stable']} errors), "
        f"canary {traffic.by_arm['canary']} ({traffic.errors_by_arm['canary']} errors)"
        f"{retried}; this step {report.step_canary_requests} canary samples",
        style="dim",
    )
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for column in ("gate", "tolerance", "estimate", "interval / e-value", "samples c/s", "verdict"):
        table.add_column(column)
    for result in report.results:
        if result.e_value is not None:
            evidence = f"e={result.e_value:.3g} (harm at {1 / result.alpha:.0f})"
        elif result.interval is not None:
            evidence = f"[{result.interval[0]:.3g}, {result.interval[1]:.3g}]"
        else:
            evidence = "-"
        colour = {"ok": "green", "harm": "red"}.get(result.verdict.value, "yellow")
        table.add_row(
            result.metric.value,
            result.tolerance,
            "-" if result.estimate is None else f"{result.estimate:.3g}",
            evidence,
            f"{result.samples[0]}/{result.samples[1]}",
            f"[{colour}]{result.verdict.value}[/{colour}]",
        )
    return Group(head, bar, arms, table)


def run_rollout(
    console: Console,
    db_url: str,
    snapshot_path: Path,
    start: Callable[[], None],
    timeout_s: float = 90.0,
) -> str:
    """Serve traffic, call ``start`` (which starts the rollout), watch it to the end.

    Returns the rollout's final status.
    """
    from turnout.client import LocalClient
    from turnout.wiring import build_controller, build_server_app, open_registry

    registry = open_registry(db_url)
    client = LocalClient(registry)
    url, stop_server = serve_in_thread(build_server_app(db_url, snapshot_path))
    traffic = UserTraffic(url, "prod-chat")
    controller = build_controller(registry, interval_s=0.5)
    try:
        traffic.start()
        time.sleep(0.5)
        start()
        controller.start()
        started = time.monotonic()
        with Live(console=console, refresh_per_second=4, transient=False) as live:
            while True:
                report = client.rollout_status("prod-chat")
                live.update(_view(report, traffic, time.monotonic() - started))
                if not report.rollout.status.active:
                    break
                if time.monotonic() - started > timeout_s:
                    client.rollout_action("prod-chat", "abort", "demo: out of time")
                    break
                time.sleep(0.25)
        final = client.rollout_status("prod-chat").rollout
        console.print()
        if final.reason:
            console.print(f"[bold]{final.status.value}[/bold]: {final.reason}", highlight=False)
        return final.status.value
    finally:
        controller.stop()
        traffic.stop()
        stop_server()
        client.close()
