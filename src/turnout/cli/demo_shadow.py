"""The shadow part of ``turnout demo``: live traffic copied to candidates, silently.

A gateway (the app ``turnout serve`` runs) serves ``prod-chat`` to simulated users
for a few seconds while the alias's shadow candidates receive a copy of every
request after each answer is sent. The terminal counts what the users were
served and the pairs stored; the report that follows reads those pairs.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console

from turnout.cli.demo_live import serve_in_thread
from turnout.cli.demo_rollout import UserTraffic

__all__ = ["run_shadow_traffic"]


def run_shadow_traffic(
    console: Console, db_url: str, snapshot_path: Path, alias: str, seconds: float
) -> None:
    """Serve ``alias`` to simulated users for ``seconds``, with its shadows running."""
    from turnout.wiring import build_server_app, open_registry

    url, stop_server = serve_in_thread(build_server_app(db_url, snapshot_path))
    traffic = UserTraffic(url, alias, concurrency=8)
    console.print(f"[dim]gateway on {url}; users call {alias} for {seconds:g} s[/dim]")
    traffic.start()
    started = time.monotonic()
    try:
        while time.monotonic() - started < seconds:
            time.sleep(1.0)
            served = sum(traffic.by_arm.values())
            errors = sum(traffic.errors_by_arm.values())
            console.print(
                f"  t={time.monotonic() - started:3.0f}s  users served {served} "
                f"({errors} errors); the candidates' answers are never sent to them",
                highlight=False,
            )
    finally:
        traffic.stop()
        stop_server()  # stops the dispatcher, then writes the pairs already made
    registry = open_registry(db_url)
    try:
        counts = registry.shadow.status(alias, window=None).counts
    finally:
        registry.close()
    for count in counts:
        console.print(
            f"  [bold]{count.candidate}[/bold]: {count.pairs} pairs stored "
            f"({count.candidate_errors} candidate errors)",
            highlight=False,
        )
