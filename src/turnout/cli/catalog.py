"""``turnout catalog update|show|list``: the model catalog the registry uses.

The catalog is shipped with turnout and goes stale; ``update --from FILE``
merges a newer file (turnout's YAML or LiteLLM's price map) into the registry,
so every process on it sees the same retirement dates, prices and pinning facts.
These commands act on a database URL (the catalog lives beside the registry).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from turnout.cli.state import State, state_of
from turnout.domain.catalog import FACT_FIELDS
from turnout.errors import InvalidInput

if TYPE_CHECKING:
    from turnout.client import LocalClient
    from turnout.domain.catalog import CatalogEntry

app = typer.Typer(help="The model catalog: update it, look entries up.", no_args_is_help=True)

_FIELDS = FACT_FIELDS


def _local(state: State) -> LocalClient:
    from turnout.client import LocalClient

    client = state.client()
    if not isinstance(client, LocalClient):
        raise InvalidInput("catalog commands act on a database URL (--db sqlite:///... or ...)")
    return client


def _text(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _entry_json(entry: CatalogEntry) -> dict[str, object]:
    out: dict[str, object] = {"provider": entry.provider, "id": entry.model_id}
    for name in _FIELDS:
        value = getattr(entry, name)
        out[name] = value.isoformat() if isinstance(value, date) else value
    return out


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"date {text!r} must be YYYY-MM-DD") from None


@app.command("update")
def update(
    ctx: typer.Context,
    source: Annotated[
        Path,
        typer.Option(
            "--from", help="A turnout catalog YAML or LiteLLM model_prices_and_context_window.json."
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
    ] = False,
    checked: Annotated[
        str | None,
        typer.Option(
            "--checked", help="When LiteLLM's facts were read (YYYY-MM-DD; default today)."
        ),
    ] = None,
) -> None:
    """Merge a newer catalog file: newer checked dates win, unknowns never erase facts."""
    from turnout.catalog_import import load_catalog_update

    state = state_of(ctx)
    client = _local(state)
    registry = client.registry
    when = _parse_date(checked) if checked else registry.ctx.today()
    found = load_catalog_update(source, when)
    merge = registry.catalog.update(client.principal, found.updates, found.label, dry_run)
    out = state.output
    if out.json:
        out.emit_json(
            {
                "dry_run": dry_run,
                "format": found.format,
                "entries_read": len(found.updates),
                "changed_entries": len(merge.changed),
                "added": merge.added,
                "skipped": dict(found.skipped),
                "changes": [change.to_dict() for change in merge.changes],
            }
        )
        return
    if merge.changes:
        rows = [[c.version_id, c.field, f"{_text(c.old)} -> {_text(c.new)}"] for c in merge.changes]
        out.table("catalog changes", ["id", "field", "old -> new"], rows)
    skipped = ", ".join(f"{n} {why}" for why, n in found.skipped.items())
    out.line(
        f"{found.format} file {found.label}: {len(found.updates)} entries read, "
        f"{len(merge.changed)} changed ({merge.added} new)"
        + (f"; skipped {found.skipped_total}: {skipped}" if found.skipped else "")
    )
    if dry_run:
        out.line("dry run: nothing written")


@app.command("show")
def show(
    ctx: typer.Context,
    version_id: Annotated[str, typer.Argument(help="PROVIDER/ID, e.g. openai/gpt-4o-2024-08-06.")],
) -> None:
    """Every fact the effective catalog holds about one model id."""
    state = state_of(ctx)
    entry = _local(state).registry.catalog.show(version_id)
    if state.output.json:
        state.output.emit_json(_entry_json(entry))
        return
    rows = [[name, _text(getattr(entry, name))] for name in _FIELDS]
    state.output.table(entry.version_id, ["field", "value"], rows)


@app.command("list")
def list_entries(
    ctx: typer.Context,
    provider: Annotated[
        str | None, typer.Option("--provider", help="Only this provider (openai, google...).")
    ] = None,
    retiring_within: Annotated[
        int | None,
        typer.Option("--retiring-within", help="Only ids shut off in the next DAYS days."),
    ] = None,
) -> None:
    """The effective catalog (bundled file + updates), optionally filtered."""
    state = state_of(ctx)
    entries = _local(state).registry.catalog.list(provider, retiring_within)
    if state.output.json:
        state.output.emit_json([_entry_json(entry) for entry in entries])
        return
    rows = [
        [
            entry.version_id,
            "yes" if entry.pinned else "no",
            _text(entry.released),
            _text(entry.retires),
            _text(entry.replacement),
            _text(entry.checked),
        ]
        for entry in entries
    ]
    columns = ["id", "pinned", "released", "retires", "replacement", "checked"]
    state.output.table(None, columns, rows)
