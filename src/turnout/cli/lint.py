"""``turnout lint PATH...``: floating and retiring model ids in code and config, for CI.

Pure with respect to the registry: it reads files and the bundled catalog, never
a database. Today's date comes from the system clock here, at the edge; the rule
itself (:mod:`turnout.domain.lint`) takes it as a parameter.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from turnout.cli.state import state_of
from turnout.errors import CheckFailed, InvalidInput


def register(app: typer.Typer) -> None:
    app.command("lint")(lint)


def lint(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(metavar="PATH", help="Files and directories to scan (recursively)."),
    ],
    within: Annotated[
        int,
        typer.Option("--within", help="Report pinned ids that retire within this many days."),
    ] = 90,
    output_format: Annotated[
        str, typer.Option("--format", help="Output: text, json, or github (Actions annotations).")
    ] = "text",
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", help="Skip paths matching this glob (repeatable)."),
    ] = None,
) -> None:
    """Find floating, retired and soon-retired model ids passed to LLM SDKs or in config.

    Exit 1 when anything is found. A `# turnout: ignore` (or `// turnout: ignore`)
    comment on a line silences it.
    """
    from turnout.catalog_file import load_bundled_catalog
    from turnout.domain.lint import IdLinter
    from turnout.lint import scan
    from turnout.lint.report import FORMATS, github_lines, json_data, summary, text_lines

    out = state_of(ctx).output
    chosen = "json" if out.json else output_format.lower()
    if chosen not in FORMATS:
        raise InvalidInput(f"--format must be one of {', '.join(FORMATS)}, not {output_format!r}")
    if within < 0:
        raise InvalidInput(f"--within must be 0 or more days, not {within}")
    today = datetime.now(UTC).date()
    report = scan(paths, IdLinter(load_bundled_catalog(), today, within), exclude or ())
    if chosen == "json":
        out.emit_json(json_data(report))
    else:
        lines = (
            [*github_lines(report), summary(report)] if chosen == "github" else text_lines(report)
        )
        for line in lines:
            typer.echo(line)
    if report.findings:
        raise CheckFailed(
            f"lint found {len(report.findings)} model id problem"
            f"{'' if len(report.findings) == 1 else 's'}"
        )
