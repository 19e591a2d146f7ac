"""``turnout demo``: the story of a model change, told with the real commands.

Every step prints the command line a user would type and runs exactly that
command in-process against a throw-away SQLite registry with ``sim`` versions,
so the demo needs no keys and no network, and shows real output.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.rule import Rule

from turnout.cli.demo_chapters import tell_evidence, tell_trouble
from turnout.cli.state import state_of

QUESTION = "What is 17 + 25?"


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


class _Story:
    """Runs turnout commands in-process against one registry, narrating each."""

    def __init__(self, app: typer.Typer, db_url: str, console: Console) -> None:
        self.app = app
        self.db_url = db_url
        self.console = console

    def chapter(self, title: str, text: str) -> None:
        self.console.print()
        self.console.print(Rule(f"[bold cyan]{title}[/bold cyan]", align="left"))
        self.console.print(f"[dim]{text}[/dim]")

    def run(self, line: str, expect: int = 0) -> int:
        self.console.print(f"[bold green]$[/bold green] turnout {line}", highlight=False)
        with contextlib.redirect_stderr(sys.stdout):  # errors in the story, in order
            code = self.app(
                ["--db", self.db_url, *shlex.split(line)],
                prog_name="turnout",
                standalone_mode=False,
            )
        sys.stdout.flush()
        result = int(code or 0)
        if result != expect:
            raise RuntimeError(f"demo step 'turnout {line}' exited {result}, expected {expect}")
        return result

    def live(self) -> None:
        """Serve traffic through a real gateway while the alias flips and rolls back."""
        from turnout.cli.demo_live import run_live
        from turnout.client import LocalClient
        from turnout.wiring import open_registry

        client = LocalClient(open_registry(self.db_url))

        def flip() -> None:
            client.set_alias("prod-chat", "sim/chat-2025-06-01", reason="live flip")

        def roll_back() -> None:
            client.rollback_alias("prod-chat", reason="live rollback")

        snapshot = Path(self.db_url.removeprefix("sqlite:///")).with_name("snapshot.json")
        try:
            run_live(
                self.console,
                self.db_url,
                snapshot,
                [
                    (
                        1.6,
                        "turnout alias set prod-chat sim/chat-2025-06-01 --reason 'live flip'",
                        flip,
                    ),
                    (3.6, "turnout alias rollback prod-chat --reason 'live rollback'", roll_back),
                ],
                duration=5.2,
            )
        finally:
            client.close()

    def rollout(self, candidate: str) -> str:
        """Roll prod-chat out to ``candidate`` under live traffic, gates shown live."""
        import yaml

        from turnout.cli.demo_rollout import DEMO_POLICY, run_rollout

        folder = Path(self.db_url.removeprefix("sqlite:///")).parent
        policy = folder / "demo-policy.yaml"
        if not policy.exists():
            policy.write_text(yaml.safe_dump(DEMO_POLICY, sort_keys=False), encoding="utf-8")
            self.console.print(f"[dim]{policy.name} (short steps, for a demo):[/dim]")
            self.console.print(policy.read_text(encoding="utf-8").rstrip(), highlight=False)

        def start() -> None:
            self.run(
                f"rollout start prod-chat --to {candidate} --policy {policy} "
                "--reason 'demo: gradual rollout'"
            )

        snapshot = folder / "snapshot.json"
        return run_rollout(self.console, self.db_url, snapshot, start)

    def shadow_traffic(self, seconds: float) -> None:
        """Users call prod-chat through a real gateway while its shadows run."""
        from turnout.cli.demo_shadow import run_shadow_traffic

        snapshot = Path(self.db_url.removeprefix("sqlite:///")).with_name("snapshot.json")
        run_shadow_traffic(self.console, self.db_url, snapshot, "prod-chat", seconds)

    def outage(self) -> None:
        """Traffic through a real gateway while the primary fails, then recovers."""
        from turnout.cli.demo_live import run_live

        folder = Path(self.db_url.removeprefix("sqlite:///")).parent
        failing, healthy = folder / "outage.yaml", folder / "recovered.yaml"
        version = "sim/chat-2025-12-01"
        for path, rate in ((failing, 1.0), (healthy, 0.0)):
            path.write_text(
                f"versions:\n  - id: {version}\n    prompt_version: support-v14\n"
                f"    params: {{latency_ms: 12, quality: 1.0, error_rate: {rate}}}\n",
                encoding="utf-8",
            )

        def fail() -> None:
            self.run(f"apply -f {failing} --reason 'demo: the provider goes down'")

        def recover() -> None:
            self.run(f"apply -f {healthy} --reason 'demo: the provider is back'")

        run_live(
            self.console,
            self.db_url,
            folder / "snapshot.json",
            [
                (1.6, f"{version} starts failing every request", fail),
                (5.1, f"{version} recovers", recover),
            ],
            duration=9.2,
            note="seen by the client, through the whole outage",
        )

    def ask(self, alias: str) -> None:
        """Resolve the alias in-process (as the SDK does) and ask the sim model."""
        from turnout.client import LocalClient
        from turnout.providers.base import ChatRequest
        from turnout.providers.sim import SimProvider
        from turnout.wiring import open_registry

        client = LocalClient(open_registry(self.db_url))
        try:
            resolution = client.resolve(alias)
            version = client.get_version(resolution.version)
        finally:
            client.close()
        body = {"model": alias, "messages": [{"role": "user", "content": QUESTION}], "seed": 7}
        request = ChatRequest.from_openai(body, model=version.model, defaults=version.params)

        async def call() -> str:
            provider = SimProvider(seed=7)
            try:
                result: Any = await provider.complete(request)
                return str(result["choices"][0]["message"]["content"])
            finally:
                await provider.aclose()

        answer = asyncio.run(call())
        self.console.print(
            f"[bold green]>[/bold green] {alias} [dim]resolves to[/dim] [bold]{resolution.version}"
            f"[/bold] [dim](revision {resolution.revision})[/dim]: {QUESTION} -> {answer}",
            highlight=False,
        )


def demo(
    ctx: typer.Context,
    keep: Annotated[
        Path | None, typer.Option("--keep", help="Keep the demo registry in this directory.")
    ] = None,
    ui: Annotated[
        bool,
        typer.Option("--ui", help="Then serve the dashboard on the demo registry until Ctrl+C."),
    ] = False,
    port: Annotated[int, typer.Option("--port", help="Port of the --ui server.")] = 8600,
) -> None:
    """Tell turnout's story on a temporary registry: pin, flip, roll back, audit."""
    from turnout.cli.main import app

    state = state_of(ctx)
    console = state.output.out
    with tempfile.TemporaryDirectory(prefix="turnout-demo-") as scratch:
        folder = keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        db_url = f"sqlite:///{folder / 'demo.db'}"
        story = _Story(app, db_url, console)
        console.print(
            f"[bold]turnout demo[/bold] [dim]registry: {db_url} "
            "(sim provider: no keys, no network)[/dim]"
        )
        _tell(story)
        if ui:
            _open_dashboard(console, db_url, folder, port)
        if keep:
            console.print(
                f"\n[dim]registry kept: turnout --db {db_url} alias history prod-chat[/dim]"
            )


def _tell(story: _Story) -> None:
    story.chapter(
        "1. Pin versions", "Versions are pinned provider releases with their params and lineage."
    )
    story.run(
        "version add sim/chat-2025-01-01 --param latency_ms=20 --param error_rate=0.01 "
        "--param quality=0.9 --prompt-version support-v12 --dataset-version tickets-2025-06"
    )
    story.run(
        "version add sim/chat-2025-06-01 --param latency_ms=15 --param quality=0.97 "
        "--prompt-version support-v13 --dataset-version tickets-2025-09"
    )

    story.chapter(
        "2. Point an alias", "Apps call 'prod-chat'; it is protected, so changes need a reason."
    )
    story.run("alias set prod-chat sim/chat-2025-01-01 --protect --reason 'launch support bot'")
    story.ask("prod-chat")
    time.sleep(0.05)
    before_flip = datetime.now(UTC)
    time.sleep(0.05)

    story.chapter("3. Flip", "Upgrading is one explicit, reviewed, audited change.")
    story.run("alias set prod-chat sim/chat-2025-06-01", expect=2)
    story.run("alias set prod-chat sim/chat-2025-06-01 --reason 'evals +7pts on tickets-2025-09'")
    story.ask("prod-chat")

    story.chapter("4. Roll back", "One command restores the previous revision, as a new revision.")
    story.run("alias rollback prod-chat --reason 'escalations up after the upgrade'")
    story.ask("prod-chat")
    story.run("alias history prod-chat")

    story.chapter(
        "5. What served prod-chat then?", "Point-in-time resolution answers incident questions."
    )
    story.run(f"alias resolve prod-chat --at {before_flip.isoformat(timespec='milliseconds')}")
    story.run("alias resolve prod-chat")

    story.chapter(
        "6. Floating ids are refused",
        "'gpt-4o' is re-pointed by its provider; turnout names pinned releases.",
    )
    story.run("version add openai/gpt-4o", expect=2)
    story.run("version add anthropic/claude-3-5-sonnet-latest", expect=2)

    story.chapter(
        "7. Live: flips under traffic",
        "The gateway resolves the alias on every request; a flip reaches it in milliseconds.",
    )
    story.live()

    story.chapter(
        "8. Gradual rollout: a healthy candidate",
        "10% -> 50% -> 100% of users (sticky by user), advancing only when every gate "
        "is ok against the stable arm measured over the same period.",
    )
    story.run(
        "version add sim/chat-2025-09-01 --param latency_ms=15 --param quality=0.97 "
        "--prompt-version support-v13"
    )
    status = story.rollout("sim/chat-2025-09-01")
    if status != "completed":
        raise RuntimeError(f"demo rollout ended {status}, expected completed")

    story.chapter(
        "9. Gradual rollout: a regressing candidate",
        "This one fails 30% of requests. Each failed canary call is retried on the stable "
        "version, so users see no error, but the failures are logged: the error gate's "
        "e-value crosses 1/alpha and the controller rolls it back, evidence in the history.",
    )
    story.run(
        "version add sim/chat-2025-10-01 --param latency_ms=15 --param error_rate=0.3 "
        "--prompt-version support-v14"
    )
    status = story.rollout("sim/chat-2025-10-01")
    if status != "rolled_back":
        raise RuntimeError(f"demo rollout ended {status}, expected rolled_back")
    story.run("rollout list prod-chat")
    story.run("alias history prod-chat")

    tell_evidence(story)
    tell_trouble(story)

    story.chapter(
        "16. The record and the audit chain", "Every write is in a hash-chained, verifiable log."
    )
    story.run("version show sim/chat-2025-12-01")
    story.run("audit --limit 5")
    story.run("audit --verify")


def _open_dashboard(console: Console, db_url: str, folder: Path, port: int) -> None:
    """Serve the populated demo registry, dashboard included, with an admin token to sign in."""
    from turnout.domain.access import LOCAL_ADMIN, Role
    from turnout.gateway.server import serve
    from turnout.wiring import SNAPSHOT_ENV, open_registry

    registry = open_registry(db_url)
    try:
        issued = registry.tokens.create(LOCAL_ADMIN, "demo-admin", Role.ADMIN)
    finally:
        registry.close()
    os.environ[SNAPSHOT_ENV] = str(folder / "snapshot.json")
    console.print()
    console.print(Rule("[bold cyan]The dashboard[/bold cyan]", align="left"))
    console.print(
        f"open [bold]http://127.0.0.1:{port}/ui/[/bold] and sign in with this admin token "
        f"(shown once):\n  [bold]{issued.secret}[/bold]\n[dim]Ctrl+C stops the server "
        "(and removes the demo registry unless --keep was given).[/dim]",
        highlight=False,
    )
    serve(db_url, "127.0.0.1", port, 1)
