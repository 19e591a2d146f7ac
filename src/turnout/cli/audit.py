"""``turnout audit [--verify]``: read the append-only log and check its hash chain."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from turnout.cli.output import when
from turnout.cli.state import state_of
from turnout.errors import CheckFailed
from turnout.serialize import audit_json, chain_break_json


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)


def audit(
    ctx: typer.Context,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify", help="Recompute the hash chain; exit 1 naming the first bad entry."
        ),
    ] = False,
    limit: Annotated[
        int, typer.Option("--limit", min=1, help="How many entries, newest first.")
    ] = 20,
    subject: Annotated[
        str | None,
        typer.Option("--subject", help="Only entries about this alias, version or token."),
    ] = None,
) -> None:
    """Show the audit log, or verify that no entry was altered or removed."""
    state = state_of(ctx)
    out = state.output
    client = state.client()
    if verify:
        checked, brk = client.verify_audit()
        if out.json:
            out.emit_json(chain_break_json(checked, brk))
        if brk is not None:
            raise CheckFailed(f"audit chain broken at entry {brk.seq}: {brk.reason}")
        out.line(f"audit chain intact: {checked} entries verified")
        return
    entries = client.audit_entries(limit, subject)
    if out.json:
        out.emit_json([audit_json(e) for e in entries])
        return
    out.table(
        None,
        ["seq", "when (UTC)", "actor", "action", "subject", "detail"],
        [
            [
                str(e.seq),
                when(e.at),
                e.actor,
                e.action,
                e.subject,
                json.dumps({k: v for k, v in e.detail.items() if v is not None}, sort_keys=True),
            ]
            for e in entries
        ],
    )
