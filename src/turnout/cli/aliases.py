"""``turnout alias set|list|show|history|rollback|resolve|protect|unprotect``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from turnout.cli.output import Output, when
from turnout.cli.state import state_of
from turnout.domain.deprecations import DEFAULT_WINDOW_DAYS
from turnout.domain.promotion import PromotionPolicy
from turnout.errors import InvalidInput, TurnoutError
from turnout.serialize import alias_json, revision_json
from turnout.services.aliases import AliasChange

if TYPE_CHECKING:
    from turnout.client import TurnoutClient

app = typer.Typer(
    help="Point aliases at versions, flip them, roll them back.", no_args_is_help=True
)

Reason = Annotated[
    str | None,
    typer.Option(
        "--reason", "-r", help="Why (required on protected aliases; kept in history and audit)."
    ),
]
Expect = Annotated[
    int | None,
    typer.Option(
        "--expect-revision",
        help="Only write if the alias is still at this revision (compare-and-set).",
    ),
]


def parse_time(text: str) -> datetime:
    """ISO 8601; a time without an offset is taken as UTC."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"time {text!r} is not ISO 8601 (e.g. 2026-11-25T14:30:00Z)") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _report(out: Output, change: AliasChange) -> None:
    rev = change.revision
    if out.json:
        out.emit_json({"changed": change.changed, "revision": revision_json(rev)})
        return
    if not change.changed:
        out.line(
            f"{rev.alias} already serves {rev.target.describe()} "
            f"(revision {rev.revision}); nothing to do"
        )
        return
    before = rev.previous.describe() if rev.previous else "(new)"
    out.line(
        f"{rev.alias}: {before} -> [bold]{rev.target.describe()}[/bold] (revision {rev.revision})"
    )


@app.command("set")
def set_alias(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Alias name, e.g. prod-chat.")],
    version: Annotated[str, typer.Argument(help="Registered pinned version id.")],
    fallback: Annotated[
        list[str] | None,
        typer.Option(
            "--fallback", help="Fallback version, in order (repeatable; replaces the chain)."
        ),
    ] = None,
    reason: Reason = None,
    expect_revision: Expect = None,
    allow_floating: Annotated[
        bool,
        typer.Option("--allow-floating", help="Let this non-protected alias serve a floating id."),
    ] = False,
    protect: Annotated[
        bool,
        typer.Option(
            "--protect", help="Mark the alias protected (deployer and a reason for every change)."
        ),
    ] = False,
) -> None:
    """Point NAME at VERSION: a new revision, compare-and-set, audited."""
    state = state_of(ctx)
    change = state.client().set_alias(
        name, version, fallback, reason, expect_revision, allow_floating, True if protect else None
    )
    _report(state.output, change)
    if change.changed:
        _warn_retiring(state.output, state.client(), change)


def _warn_retiring(out: Output, client: TurnoutClient, change: AliasChange) -> None:
    """Warn (stderr) when what the alias now serves retires within 90 days.

    The flip is already written: a failure to look the dates up (an older
    server without the route) must not turn it into an error.
    """
    served = {str(vid) for vid in change.revision.target.versions()}
    try:
        findings = client.deprecations(DEFAULT_WINDOW_DAYS)
    except TurnoutError:
        return
    for finding in findings:
        if finding.version in served:
            out.warn(finding.describe())


@app.command("rollback")
def rollback(
    ctx: typer.Context,
    name: str,
    to: Annotated[
        int | None,
        typer.Option(
            "--to", help="Restore this revision's target (default: the last different one)."
        ),
    ] = None,
    reason: Reason = None,
    expect_revision: Expect = None,
) -> None:
    """Restore an earlier revision's target, as a new revision."""
    state = state_of(ctx)
    _report(state.output, state.client().rollback_alias(name, to, reason, expect_revision))


@app.command("protect")
def protect(ctx: typer.Context, name: str, reason: Reason = None) -> None:
    """Protect NAME: later changes need deployer and a reason; floating ids are refused."""
    state = state_of(ctx)
    _report(state.output, state.client().protect_alias(name, True, reason))


@app.command("unprotect")
def unprotect(ctx: typer.Context, name: str, reason: Reason = None) -> None:
    """Lift the protection of NAME (admin only)."""
    state = state_of(ctx)
    _report(state.output, state.client().protect_alias(name, False, reason))


@app.command("list")
def list_aliases(ctx: typer.Context) -> None:
    """List aliases and what they serve now."""
    state = state_of(ctx)
    found = state.client().list_aliases()
    out = state.output
    if out.json:
        out.emit_json([alias_json(a) for a in found])
        return
    if not found:
        out.line("no aliases yet: turnout alias set NAME VERSION")
        return
    out.table(
        None,
        ["alias", "version", "fallbacks", "rev", "protected", "updated", "by"],
        [
            [
                a.name,
                str(a.target.version),
                ", ".join(map(str, a.target.fallbacks)) or "-",
                str(a.revision),
                "yes" if a.protected else "no",
                when(a.updated_at),
                a.updated_by,
            ]
            for a in found
        ],
    )


@app.command("show")
def show(ctx: typer.Context, name: str) -> None:
    """Show one alias's current state."""
    state = state_of(ctx)
    alias = state.client().get_alias(name)
    if state.output.json:
        state.output.emit_json(alias_json(alias))
        return
    state.output.line(
        f"{alias.name} -> [bold]{alias.target.describe()}[/bold] (revision {alias.revision}"
        f"{', protected' if alias.protected else ''}; "
        f"{when(alias.updated_at)} by {alias.updated_by})"
    )


@app.command("history")
def history(ctx: typer.Context, name: str) -> None:
    """Every revision of NAME: who, when, why, before -> after."""
    state = state_of(ctx)
    revisions = state.client().alias_history(name)
    out = state.output
    if out.json:
        out.emit_json([revision_json(r) for r in revisions])
        return
    out.table(
        f"history of {name}",
        ["rev", "when (UTC)", "who", "action", "before", "after", "reason"],
        [
            [
                str(r.revision),
                when(r.created_at),
                r.actor,
                r.action.value + (f" to {r.restored_from}" if r.restored_from else ""),
                r.previous.describe() if r.previous else "-",
                r.target.describe() + (" (protected)" if r.protected else ""),
                r.reason or "-",
            ]
            for r in revisions
        ],
    )


@app.command("resolve")
def resolve(
    ctx: typer.Context,
    name: str,
    at: Annotated[
        str | None,
        typer.Option("--at", help="ISO time (UTC if no offset): what did NAME serve then?"),
    ] = None,
) -> None:
    """Which version NAME serves now, or served at --at."""
    state = state_of(ctx)
    moment = parse_time(at) if at else None
    revision = state.client().resolve_at(name, moment)
    out = state.output
    if out.json:
        out.emit_json(
            {
                "alias": name,
                "at": moment.isoformat() if moment else None,
                "version": str(revision.target.version),
                "revision": revision_json(revision),
            }
        )
        return
    moment_text = f" at {moment.isoformat()}" if moment else ""
    out.line(
        f"{name}{moment_text} -> [bold]{revision.target.version}[/bold] "
        f"(revision {revision.revision}, since {when(revision.created_at)})"
    )


@app.command("policy")
def policy(
    ctx: typer.Context,
    name: str,
    suite: Annotated[
        list[str] | None,
        typer.Option("--suite", help="Eval suite a new version must pass (repeatable)."),
    ] = None,
    min_score: Annotated[
        float | None, typer.Option("--min-score", help="Each suite's run must score at least this.")
    ] = None,
    max_regression: Annotated[
        float,
        typer.Option(
            "--max-regression", help="How far below the current version's run a new one may score."
        ),
    ] = 0.0,
    min_shadow_pairs: Annotated[
        int,
        typer.Option("--min-shadow-pairs", help="Shadow pairs of the new version on NAME first."),
    ] = 0,
    max_age_days: Annotated[
        float, typer.Option("--max-age-days", help="Older eval runs do not count.")
    ] = 30.0,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the policy (admin only).")] = False,
    reason: Reason = None,
) -> None:
    """Require evidence before NAME serves a new version (alias set, apply, rollout start).

    Rolling back is never blocked. Setting a policy needs a deployer; clearing one an admin.
    """
    state = state_of(ctx)
    if clear:
        if suite or min_score is not None or min_shadow_pairs:
            raise InvalidInput("--clear takes no policy options")
        _report(state.output, state.client().set_promotion(name, None, reason))
        return
    wanted = PromotionPolicy(
        tuple(suite or ()), min_score, max_regression, min_shadow_pairs, max_age_days
    )
    _report(state.output, state.client().set_promotion(name, wanted, reason))
