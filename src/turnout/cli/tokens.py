"""``turnout token create|list|revoke``: API tokens for the admin API and gateway."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from turnout.cli.output import when
from turnout.cli.state import state_of
from turnout.domain.access import Role
from turnout.errors import InvalidInput
from turnout.serialize import token_json

app = typer.Typer(
    help="Create, list and revoke API tokens (stored only as hashes).", no_args_is_help=True
)


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", "-n", help="Who or what holds the token.")],
    role: Annotated[
        str, typer.Option("--role", help="viewer | operator | deployer | admin")
    ] = "viewer",
    expires_in_days: Annotated[
        float | None, typer.Option("--expires-in-days", help="Expire after this many days.")
    ] = None,
) -> None:
    """Create a token; the secret is printed once and never stored."""
    state = state_of(ctx)
    if expires_in_days is not None and expires_in_days <= 0:
        raise InvalidInput("--expires-in-days must be positive")
    expires = timedelta(days=expires_in_days) if expires_in_days is not None else None
    issued = state.client().create_token(name, Role.parse(role), expires)
    out = state.output
    if out.json:
        out.emit_json({**token_json(issued.token), "secret": issued.secret})
        return
    out.line(f"created token '{issued.token.name}' ({issued.token.role}), id {issued.token.id}")
    out.line("secret (shown once, store it now):")
    out.out.print(issued.secret, markup=False, highlight=False)


@app.command("list")
def list_tokens(ctx: typer.Context) -> None:
    """List tokens (never their secrets)."""
    state = state_of(ctx)
    found = state.client().list_tokens()
    out = state.output
    if out.json:
        out.emit_json([token_json(t) for t in found])
        return
    out.table(
        None,
        ["id", "name", "role", "prefix", "created", "by", "expires", "revoked"],
        [
            [
                str(t.id),
                t.name,
                t.role.value,
                t.prefix + "...",
                when(t.created_at),
                t.created_by,
                when(t.expires_at),
                when(t.revoked_at),
            ]
            for t in found
        ],
    )


@app.command("revoke")
def revoke(
    ctx: typer.Context, name_or_id: Annotated[str, typer.Argument(metavar="NAME_OR_ID")]
) -> None:
    """Revoke a token at once; requests with it get 401 from then on."""
    state = state_of(ctx)
    token = state.client().revoke_token(name_or_id)
    if state.output.json:
        state.output.emit_json(token_json(token))
    else:
        state.output.line(f"revoked token '{token.name}' (id {token.id})")
