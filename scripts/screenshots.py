"""Write the README's dashboard screenshots to docs/screenshots/.

    .venv/bin/python scripts/screenshots.py

Seeds a throw-away SQLite registry (sim versions, aliases with history, a few
hundred requests of traffic), serves the real ``turnout serve`` app on
127.0.0.1, signs in with a deployer token in Debian's chromium (Playwright) and
saves one PNG per page. Nothing here touches the network beyond 127.0.0.1.
"""

from __future__ import annotations

import socket
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import httpx
import uvicorn
from playwright.sync_api import Page, sync_playwright

from turnout.domain.access import LOCAL_ADMIN, Role
from turnout.domain.rollouts import RolloutPlan
from turnout.services.registry import Registry
from turnout.wiring import build_server_app, open_registry

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def seed(registry: Registry) -> str:
    """A registry worth looking at; returns a deployer token's secret."""
    today = registry.ctx.today()
    add = registry.versions.add
    add(
        LOCAL_ADMIN,
        "sim/chat-2025-01-01",
        {"latency_ms": 20, "error_rate": 0.02},
        prompt_version="support-v12",
        retirement_date=today + timedelta(days=21),
    )
    add(
        LOCAL_ADMIN,
        "sim/chat-2025-06-01",
        {"latency_ms": 15, "quality": 0.97},
        prompt_version="support-v13",
        dataset_version="tickets-2025-09",
    )
    add(
        LOCAL_ADMIN,
        "sim/chat-2025-09-01",
        {"latency_ms": 12},
        retirement_date=today + timedelta(days=75),
    )
    add(
        LOCAL_ADMIN,
        "sim/summarise-2025-03-01",
        {"latency_ms": 30, "error_rate": 0.03},
        retirement_date=today + timedelta(days=240),
    )
    registry.versions.add_known_issue(
        LOCAL_ADMIN, "sim/chat-2025-06-01", "drops trailing JSON fields past 4k tokens"
    )
    aliases = registry.aliases
    aliases.set(
        LOCAL_ADMIN,
        "prod-chat",
        "sim/chat-2025-01-01",
        ["sim/chat-2025-09-01"],
        reason="launch support bot",
        protected=True,
    )
    aliases.set(
        LOCAL_ADMIN, "prod-chat", "sim/chat-2025-06-01", reason="evals +7pts on tickets-2025-09"
    )
    aliases.set(LOCAL_ADMIN, "summarise", "sim/summarise-2025-03-01")
    aliases.set(LOCAL_ADMIN, "extract", "sim/chat-2025-09-01", ["sim/chat-2025-01-01"])
    aliases.set(LOCAL_ADMIN, "extract", "sim/chat-2025-06-01", reason="better JSON")
    add(LOCAL_ADMIN, "sim/summarise-2025-10-01", {"latency_ms": 25, "error_rate": 0.03})
    plan = RolloutPlan.from_dict(
        {
            "steps": [10, 50, 100],
            "min_samples": 500,
            "min_duration_s": 60,
            "gates": [
                {"metric": "error_rate", "max_ratio": 1.0},
                {"metric": "latency_p95", "max_ratio": 1.2},
            ],
        }
    )
    registry.rollouts.start(
        LOCAL_ADMIN, "summarise", "sim/summarise-2025-10-01", plan=plan, reason="faster"
    )
    registry.shadow.start(LOCAL_ADMIN, "prod-chat", "sim/chat-2025-09-01", 1.0, reason="compare")
    return registry.tokens.create(LOCAL_ADMIN, "dana", Role.DEPLOYER).secret


def serve(app: object) -> tuple[str, uvicorn.Server, threading.Thread]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, ws="none", lifespan="on", log_level="warning")  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    return f"http://127.0.0.1:{port}", server, thread


def traffic(url: str) -> None:
    """Requests through the gateway, so the health columns and rollout charts have numbers.

    The alias in a rollout gets enough requests (sixteen at a time, in waves a
    moment apart) for its gates to reach an estimate at several moments, so the
    rollout page shows charts rather than "no estimate yet".
    """
    with httpx.Client(base_url=url, timeout=10) as client:
        for i in range(120):
            for alias in ("prod-chat", "extract"):
                client.post("/v1/chat/completions", json=_ask(alias, i))

        def one(i: int) -> None:
            client.post("/v1/chat/completions", json=_ask("summarise", i))

        with ThreadPoolExecutor(max_workers=16) as pool:
            for wave in range(6):
                list(pool.map(one, range(wave * 400, (wave + 1) * 400)))
                time.sleep(1.0)
    time.sleep(1.5)  # the request log is written in batches off the hot path


def _ask(alias: str, i: int) -> dict[str, object]:
    question = {"role": "user", "content": f"What is {i} + {i}?"}
    return {"model": alias, "messages": [question], "user": f"user-{i}"}  # keys spread the split


def shoot(page: Page, url: str, name: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
    print(f"wrote docs/screenshots/{name}.png")


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        db_url = f"sqlite:///{folder}/registry.db"
        registry = open_registry(db_url)
        try:
            secret = seed(registry)
        finally:
            registry.close()
        base, server, thread = serve(
            build_server_app(db_url, snapshot_path=Path(folder) / "s.json")
        )
        try:
            traffic(base)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 720})
                page.goto(f"{base}/ui/signin")
                page.fill("#token", secret)
                page.click("button[type=submit]")
                page.wait_for_url("**/ui/aliases")
                shoot(page, f"{base}/ui/aliases", "aliases")
                shoot(page, f"{base}/ui/aliases/prod-chat", "alias")
                shoot(page, f"{base}/ui/versions", "versions")
                shoot(page, f"{base}/ui/deprecations", "deprecations")
                shoot(page, f"{base}/ui/audit", "audit")
                shoot(page, f"{base}/ui/rollouts/summarise", "rollout")
                shoot(page, f"{base}/ui/shadow/prod-chat", "shadow")
                page.goto(f"{base}/ui/signin")
                page.screenshot(path=str(OUT / "signin.png"))
                browser.close()
        finally:
            server.should_exit = True
            thread.join(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
