"""``turnout init|plan|apply``: the registry declared in ``turnout.yaml``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from turnout.cli.state import State, state_of
from turnout.errors import CheckFailed, InvalidInput

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
    state = state_of(ctx)
    found = _run(state, file, reason, applied=False)
    _print_plan(state, found)
    if check and found["changes"]:
        raise CheckFailed(f"the registry differs from {file}: {found['summary']}")


def apply(
    ctx: typer.Context,
    file: ConfigPath = Path("turnout.yaml"),
    reason: Annotated[
        str | None,
        typer.Option("--reason", "-r", help="Why (required when a protected alias changes)."),
    ] = None,
) -> None:
    """Make the registry match the file, in one transaction (refuses floating ids)."""
    state = state_of(ctx)
    _print_plan(state, _run(state, file, reason, applied=True))


def _run(state: State, file: Path, reason: str | None, applied: bool) -> dict[str, Any]:
    """Plan or apply on the registry at hand: a database here, or a server over HTTP.

    Both give the same JSON (``changes``, ``unmanaged_aliases``, ``summary``,
    ``warnings``): on a database it is computed in this process, over HTTP the
    server parses the file's text and computes it (``/api/v1/config/...``).
    """
    from turnout.client import LocalClient
    from turnout.config_file import load_config, read_config_text
    from turnout.http_client import HttpClient
    from turnout.serialize import plan_json
    from turnout.services.config_review import review

    client = state.client()
    if isinstance(client, HttpClient):
        text = read_config_text(file)
        if applied:
            return client.apply_config(text, str(file), reason)
        return client.plan_config(text, str(file), reason)
    if not isinstance(client, LocalClient):
        raise InvalidInput("plan and apply act on a database URL or a turnout server URL")
    desired = load_config(file)
    registry, principal = client.registry, client.principal
    service = registry.config
    result = (service.apply if applied else service.plan)(principal, desired, reason)
    warnings = review(registry, principal, desired, result, reason, applied)
    return {**plan_json(result, applied), "warnings": warnings}


def _print_plan(state: State, found: dict[str, Any]) -> None:
    """The changes, one line each, then the summary; warnings go to stderr."""
    from turnout.domain.plan import ChangeKind

    out = state.output
    if out.json:
        _warn(state, found)
        out.emit_json({key: value for key, value in found.items() if key != "warnings"})
        return
    for change in found["changes"]:
        colour = "green" if ChangeKind(change["kind"]).adds else "yellow"
        out.out.print(f"[{colour}]{escape(change['description'])}[/{colour}]", highlight=False)
    for name in found["unmanaged_aliases"]:
        out.line(f"[dim]  alias {name} is not in the file (left as it is)[/dim]")
    applied = found["applied"] and found["changes"]
    out.line(f"[bold]{'Applied. ' if applied else ''}{found['summary']}[/bold]")
    _warn(state, found)


def _warn(state: State, found: dict[str, Any]) -> None:
    """Retiring versions, fallbacks behind, protected aliases needing a reason (stderr)."""
    for line in found.get("warnings", ()):
        state.output.warn(str(line))
