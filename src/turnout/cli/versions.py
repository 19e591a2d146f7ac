"""``turnout version add|list|show|note``: the pinned versions and their records."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer
from rich.markup import escape

from turnout.cli.output import when
from turnout.cli.state import state_of
from turnout.domain.versions import ParamValue, Version, parse_param
from turnout.serialize import version_json

app = typer.Typer(
    help="Register pinned model versions and read their records.", no_args_is_help=True
)


def _params(pairs: list[str]) -> dict[str, ParamValue]:
    return dict(parse_param(pair) for pair in pairs)


@app.command("add")
def add(
    ctx: typer.Context,
    version_id: Annotated[
        str,
        typer.Argument(
            metavar="ID", help="provider/model_id, pinned (e.g. openai/gpt-4o-2024-11-20)."
        ),
    ],
    param: Annotated[
        list[str],
        typer.Option("--param", "-p", help="Default request param KEY=VALUE (repeatable)."),
    ] = [],  # noqa: B006
    prompt_version: Annotated[
        str | None, typer.Option(help="Prompt version this model is used with (lineage).")
    ] = None,
    dataset_version: Annotated[
        str | None, typer.Option(help="Dataset version it was evaluated on (lineage).")
    ] = None,
    allow_floating: Annotated[
        bool,
        typer.Option(
            "--allow-floating",
            help="Register a floating id anyway "
            "(non-protected aliases only; recorded as a warning).",
        ),
    ] = False,
) -> None:
    """Register a pinned version. Floating ids (latest, gpt-4o...) are refused."""
    state = state_of(ctx)
    version = state.client().add_version(
        version_id, _params(param), prompt_version, dataset_version, allow_floating
    )
    out = state.output
    if out.json:
        out.emit_json(version_json(version))
        return
    out.line(f"added [bold]{version.id}[/bold]")
    for warning in version.warnings:
        out.warn(warning)
    if version.retirement_date:
        out.warn(f"{version.id} retires on {version.retirement_date.isoformat()}")


@app.command("list")
def list_versions(ctx: typer.Context) -> None:
    """List registered versions."""
    state = state_of(ctx)
    found = state.client().list_versions()
    out = state.output
    if out.json:
        out.emit_json([version_json(v) for v in found])
        return
    if not found:
        out.line("no versions yet: turnout version add PROVIDER/MODEL-ID")
        return
    out.table(
        None,
        ["version", "status", "introduced", "promoted", "prompt", "dataset", "retires"],
        [
            [
                str(v.id),
                v.status.value + (" (floating)" if v.floating_allowed else ""),
                when(v.introduced_at),
                when(v.promoted_at),
                v.prompt_version or "-",
                v.dataset_version or "-",
                v.retirement_date.isoformat() if v.retirement_date else "-",
            ]
            for v in found
        ],
    )


@app.command("show")
def show(ctx: typer.Context, version_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Show one version's full record: lineage, promotion, scores, caveats, dates."""
    state = state_of(ctx)
    version = state.client().get_version(version_id)
    if state.output.json:
        state.output.emit_json(version_json(version))
        return
    _print_record(state.output.line, version)


@app.command("note")
def note(
    ctx: typer.Context,
    version_id: Annotated[str, typer.Argument(metavar="ID")],
    text: Annotated[str, typer.Argument(help="The known issue or caveat, in words.")],
) -> None:
    """Append a known issue / caveat to a version's record."""
    state = state_of(ctx)
    version = state.client().add_known_issue(version_id, text)
    if state.output.json:
        state.output.emit_json(version_json(version))
    else:
        state.output.line(f"noted on {version.id}: {escape(text)}")


def _print_record(line: Callable[[str], None], version: Version) -> None:
    params = ", ".join(f"{k}={v}" for k, v in sorted(version.params.items())) or "-"
    scores = ", ".join(f"{k}={v:g}" for k, v in sorted(version.eval_scores.items())) or "-"
    rows = [
        ("version", str(version.id)),
        ("status", version.status.value),
        ("params", escape(params)),
        ("introduced", f"{when(version.introduced_at)} by {version.introduced_by}"),
        ("promoted", when(version.promoted_at)),
        ("prompt version", version.prompt_version or "-"),
        ("dataset version", version.dataset_version or "-"),
        ("eval scores", escape(scores)),
        ("deprecated", version.deprecation_date.isoformat() if version.deprecation_date else "-"),
        ("retires", version.retirement_date.isoformat() if version.retirement_date else "-"),
    ]
    for label, value in rows:
        line(f"[bold]{label:>16}[/bold]  {value}")
    for warning in version.warnings:
        line(f"[bold]{'warning':>16}[/bold]  [yellow]{escape(warning)}[/yellow]")
    for issue in version.known_issues:
        line(
            f"[bold]{'known issue':>16}[/bold]  {escape(issue.text)} "
            f"({when(issue.added_at)}, {issue.added_by})"
        )
