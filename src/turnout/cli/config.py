"""``turnout init|plan|apply``: the registry declared in ``turnout.yaml``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from turnout.cli.state import State, state_of
from turnout.domain.deprecations import Finding
from turnout.errors import CheckFailed, InvalidInput

if TYPE_CHECKING:
    from turnout.client import LocalClient
    from turnout.domain.plan import DesiredState

ConfigPath = Annotated[Path, typer.Option("--file", "-f", help="The config file.")]


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("plan")(plan)
    app.command("apply")(apply)


def init(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Where to write the example.")] = Path(
        "turnout.yaml"
    ),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented example turnout.yaml (sim versions: runs with no keys)."""
    from turnout.config_file import example_config

    state = state_of(ctx)
    if path.exists() and not force:
        raise InvalidInput(f"{path} exists; pass --force to overwrite it")
    try:
        path.write_text(example_config(), encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror}") from exc
    state.output.line(f"wrote {path}; next: turnout plan -f {path}")


def _local(state: State) -> object:
    from turnout.client import LocalClient

    client = state.client()
    if not isinstance(client, LocalClient):
        raise InvalidInput(
            "plan and apply act on a database URL (--db sqlite:///... or postgresql://...)"
        )
    return client


def plan(
    ctx: typer.Context,
    file: ConfigPath = Path("turnout.yaml"),
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 if the registry differs (drift check for CI).")
    ] = False,
    reason: Annotated[
        str | None, typer.Option("--reason", "-r", help="Reason, as apply would record it.")
    ] = None,
) -> None:
    """Show what apply would change, checked exactly as apply checks it."""
    from turnout.client import LocalClient
    from turnout.config_file import load_config

    state = state_of(ctx)
    desired = load_config(file)
    client = _local(state)
    assert isinstance(client, LocalClient)
    result = client.registry.config.plan(client.principal, desired, reason)
    _print_plan(state, result)
    _warn_deprecations(state, client.registry.deprecations.for_desired(client.principal, desired))
    _warn_fallbacks(state, client, desired)
    protected = [
        c.subject
        for c in result.changes
        if c.kind.noun == "alias" and (wanted := desired.alias(c.subject)) and wanted.protected
    ]
    if protected and not reason:
        names = ", ".join(sorted(set(protected)))
        state.output.warn(f"protected alias(es) {names} change: apply needs --reason")
    if check and not result.empty:
        raise CheckFailed(f"the registry differs from {file}: {result.summary()}")


def apply(
    ctx: typer.Context,
    file: ConfigPath = Path("turnout.yaml"),
    reason: Annotated[
        str | None,
        typer.Option("--reason", "-r", help="Why (required when a protected alias changes)."),
    ] = None,
) -> None:
    """Make the registry match the file, in one transaction (refuses floating ids)."""
    from turnout.client import LocalClient
    from turnout.config_file import load_config

    state = state_of(ctx)
    desired = load_config(file)
    client = _local(state)
    assert isinstance(client, LocalClient)
    result = client.registry.config.apply(client.principal, desired, reason)
    _print_plan(state, result, applied=True)
    _warn_deprecations(state, client.registry.deprecations.findings(client.principal))
    _warn_fallbacks(state, client, desired)


def _warn_fallbacks(state: State, client: LocalClient, desired: DesiredState) -> None:
    """Fallbacks of the file's aliases that have fallen behind (as ``turnout health``)."""
    names = {alias.name for alias in desired.aliases}
    for problem in client.registry.health.fallback_problems(names):
        state.output.warn(f"alias {problem.alias}: fallback {problem.fallback} {problem.problem}")


def _warn_deprecations(state: State, findings: Sequence[Finding]) -> None:
    """One warning line per version in use retiring within 90 days (stderr: --json stays clean)."""
    for finding in findings:
        state.output.warn(finding.describe())


def _print_plan(state: State, result: object, applied: bool = False) -> None:
    from turnout.domain.plan import Plan

    assert isinstance(result, Plan)
    out = state.output
    if out.json:
        out.emit_json(
            {
                "applied": applied,
                "changes": [
                    {
                        "kind": c.kind.value,
                        "subject": c.subject,
                        "before": c.before,
                        "after": c.after,
                        "description": c.describe(),
                    }
                    for c in result.changes
                ],
                "unmanaged_aliases": list(result.unmanaged_aliases),
            }
        )
        return
    for change in result.changes:
        colour = "green" if change.kind.adds else "yellow"
        out.out.print(f"[{colour}]{escape(change.describe())}[/{colour}]", highlight=False)
    for name in result.unmanaged_aliases:
        out.line(f"[dim]  alias {name} is not in the file (left as it is)[/dim]")
    summary = result.summary()
    out.line(f"[bold]{'Applied. ' if applied and not result.empty else ''}{summary}[/bold]")
