"""``turnout deprecations``: versions in use that the provider shuts off soon.

Exit 1 with ``--fail`` when any are found, so a CI job fails weeks before the
outage would have. Works on a database URL and, through the admin API, on an
``http(s)://`` registry with a viewer token.
"""

from __future__ import annotations

from typing import Annotated

import typer

from turnout.cli.state import state_of
from turnout.domain.deprecations import DEFAULT_WINDOW_DAYS
from turnout.errors import CheckFailed


def register(app: typer.Typer) -> None:
    app.command("deprecations")(deprecations)


def deprecations(
    ctx: typer.Context,
    within: Annotated[
        int, typer.Option("--within", help="Look this many days ahead.")
    ] = DEFAULT_WINDOW_DAYS,
    fail: Annotated[
        bool, typer.Option("--fail", help="Exit 1 if any version in use retires in the window.")
    ] = False,
) -> None:
    """Versions any alias uses (primary, fallback, canary, shadow) retiring within DAYS."""
    state = state_of(ctx)
    findings = state.client().deprecations(within)
    out = state.output
    if out.json:
        out.emit_json({"within_days": within, "data": [finding.to_dict() for finding in findings]})
    elif findings:
        rows = [
            [
                f.version,
                f.retires.isoformat(),
                str(f.days_left),
                ", ".join(use.describe() for use in f.uses),
                f.replacement or "-",
            ]
            for f in findings
        ]
        columns = ["version", "retires", "days left", "used by", "replacement"]
        out.table(f"retiring within {within} days", columns, rows)
    else:
        out.line(f"no version in use retires within {within} days")
    if fail and findings:
        raise CheckFailed(f"{len(findings)} version(s) in use retire within {within} days")
