"""``turnout shadow start|stop|status|report|replay``: candidates that see live
traffic silently, and the evidence they collect."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from turnout.cli.output import Output, when
from turnout.cli.progress import ProgressBar
from turnout.cli.state import State, state_of
from turnout.errors import InvalidInput
from turnout.serialize import revision_json
from turnout.services.aliases import AliasChange

if TYPE_CHECKING:
    from turnout.services.shadow_analysis import ReplayOutcome, ShadowAnalysis

app = typer.Typer(
    help="Send a copy of live requests to candidate versions and compare the answers.",
    no_args_is_help=True,
)

Reason = Annotated[
    str | None,
    typer.Option("--reason", "-r", help="Why (required on protected aliases; kept in history)."),
]


def _report_change(out: Output, change: AliasChange) -> None:
    revision = change.revision
    if out.json:
        out.emit_json({"revision": revision_json(revision), "changed": change.changed})
        return
    if not change.changed:
        out.line(f"{revision.alias}: nothing to change (revision {revision.revision})")
        return
    out.line(f"{revision.alias} -> revision {revision.revision}: {revision.target.describe()}")


@app.command("start")
def start(
    ctx: typer.Context,
    alias: Annotated[str, typer.Argument(help="Alias whose traffic is copied, e.g. prod-chat.")],
    candidate: Annotated[
        str, typer.Option("--candidate", "-c", help="Registered pinned version to shadow.")
    ],
    sample: Annotated[
        float, typer.Option("--sample", help="Fraction of the alias's requests copied (0-1].")
    ] = 0.1,
    max_rps: Annotated[
        float | None,
        typer.Option("--max-rps", help="Cap on copies per second, per gateway process."),
    ] = None,
    max_cost_per_day: Annotated[
        float | None,
        typer.Option(
            "--max-cost-per-day",
            help="Cap on the candidate's list-price spend (USD) per UTC day, per process.",
        ),
    ] = None,
    reason: Reason = None,
) -> None:
    """Shadow ALIAS with --candidate (again: change that candidate's sample or caps).

    The gateway sends the copy after the client has its answer, so the client
    never waits for the candidate and never sees its output; copies over a cap
    or over the queue bound are dropped and counted in /metrics.
    """
    state = state_of(ctx)
    change = state.client().start_shadow(
        alias, candidate, sample, max_rps, max_cost_per_day, reason
    )
    _report_change(state.output, change)


@app.command("stop")
def stop(
    ctx: typer.Context,
    alias: str,
    candidate: Annotated[
        str | None,
        typer.Option("--candidate", "-c", help="Stop only this candidate (default: all)."),
    ] = None,
    reason: Reason = None,
) -> None:
    """Stop shadowing ALIAS (its collected pairs stay for reports)."""
    state = state_of(ctx)
    _report_change(state.output, state.client().stop_shadow(alias, candidate, reason))


@app.command("status")
def status(
    ctx: typer.Context,
    alias: str,
    window_hours: Annotated[
        float, typer.Option("--window-hours", help="Count pairs of the last N hours.")
    ] = 24.0,
) -> None:
    """ALIAS's shadow candidates, their caps, and the pairs each collected."""
    state = state_of(ctx)
    found = state.client().shadow_status(alias, window_hours)
    out = state.output
    if out.json:
        out.emit_json(found)
        return
    out.line(f"[bold]{alias}[/bold] serves {found['version']}")
    rows = found.get("candidates")
    if not isinstance(rows, list) or not rows:
        out.line(f"no shadow candidates: turnout shadow start {alias} --candidate VERSION")
        return
    out.table(
        f"shadow candidates (pairs in the last {window_hours:g} h)",
        ["candidate", "state", "sample", "max rps", "max $/day", "pairs", "errors c/p", "last"],
        [_row(row) for row in rows if isinstance(row, dict)],
    )


def _row(row: dict[str, object]) -> list[str]:
    policy = row.get("policy")
    policy = policy if isinstance(policy, dict) else {}
    sample = policy.get("sample")
    last = row.get("last_pair_at")
    return [
        str(row["candidate"]),
        "active" if row.get("active") else "stopped",
        f"{float(sample) * 100:g}%" if isinstance(sample, int | float) else "-",
        _opt(policy.get("max_rps")),
        _opt(policy.get("max_cost_per_day")),
        str(row.get("pairs", 0)),
        f"{row.get('candidate_errors', 0)}/{row.get('primary_errors', 0)}",
        str(last)[:19].replace("T", " ") if last else when(None),
    ]


def _opt(value: object) -> str:
    return f"{value:g}" if isinstance(value, int | float) else "-"


def _instant(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{option} must be an ISO 8601 time, not {text!r}") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _names(text: str | None) -> tuple[str, ...]:
    from turnout.services.shadow_compare import DEFAULT_COMPARATORS  # rapidfuzz: lazily

    if text is None:
        return DEFAULT_COMPARATORS
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise InvalidInput("--comparators needs at least one name")
    return names


@app.command("report")
def report(
    ctx: typer.Context,
    alias: str,
    candidate: Annotated[
        str | None,
        typer.Option("--candidate", "-c", help="The candidate (needed if several have pairs)."),
    ] = None,
    hours: Annotated[
        float | None,
        typer.Option("--hours", help="Only pairs of the last N hours (default: all)."),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only pairs at or after this ISO time.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Only pairs before this ISO time.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most the newest N pairs.")] = 5000,
    comparators: Annotated[
        str | None,
        typer.Option(
            "--comparators",
            help="Comma-separated comparators (default: every built-in; 'embedding' needs "
            "turnout[semantic]).",
        ),
    ] = None,
    judge: Annotated[
        str | None,
        typer.Option("--judge", help="A registered version that grades each pair (judge)."),
    ] = None,
    judge_both_orders: Annotated[
        bool,
        typer.Option(
            "--judge-both-orders",
            help="Ask the judge twice per pair, answers swapped, and average: cancels its "
            "preference for the first answer at twice the cost.",
        ),
    ] = False,
    source: Annotated[
        str | None, typer.Option("--source", help="Only 'live' or only 'replay' pairs.")
    ] = None,
    worst: Annotated[
        int, typer.Option("--worst", help="How many worst disagreements to show.")
    ] = 10,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write a standalone HTML page here.")
    ] = None,
) -> None:
    """Agreement and quality deltas with 95% intervals, latency/cost deltas, error
    rates and the worst disagreements side by side, for ALIAS's shadow pairs."""
    from turnout.services.shadow_analysis import ReportRequest
    from turnout.shadow_render import render_report_html, render_report_rich

    state = state_of(ctx)
    start, end = _instant(since, "--since"), _instant(until, "--until")
    if hours is not None:
        if not hours > 0:
            raise InvalidInput(f"--hours must be positive, not {hours:g}")
        start = datetime.now(UTC) - timedelta(hours=hours)
    if source not in (None, "live", "replay"):
        raise InvalidInput(f"--source must be 'live' or 'replay', not {source!r}")
    if worst < 0 or limit < 1:
        raise InvalidInput("--worst must be >= 0 and --limit >= 1")
    request = ReportRequest(
        alias,
        candidate,
        start,
        end,
        limit,
        _names(comparators),
        judge,
        source,
        worst,
        judge_both_orders,
    )
    found = asyncio.run(_with_analysis(state, lambda analysis: analysis.report(request)))
    if html is not None:
        try:
            html.write_text(render_report_html(found), encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(f"cannot write {html}: {exc.strerror}") from None
    out = state.output
    if out.json:
        out.emit_json(found.to_dict())
        return
    out.out.print(render_report_rich(found))
    if html is not None:
        out.line(f"wrote {html}")


@app.command("replay")
def replay(
    ctx: typer.Context,
    alias: str,
    candidate: Annotated[
        str, typer.Option("--candidate", "-c", help="Registered pinned version to ask.")
    ],
    limit: Annotated[
        int, typer.Option("--limit", help="Replay the newest N captured requests.")
    ] = 100,
    concurrency: Annotated[int, typer.Option("--concurrency", help="Calls in flight at once.")] = 4,
) -> None:
    """Ask --candidate the requests ALIAS's shadows captured, offline, and store the
    pairs (source 'replay'); then `turnout shadow report ALIAS -c CANDIDATE`."""
    state = state_of(ctx)
    if limit < 1 or concurrency < 1:
        raise InvalidInput("--limit and --concurrency must be at least 1")
    out = state.output

    async def go(analysis: ShadowAnalysis) -> ReplayOutcome:
        with ProgressBar(out, limit, "replaying") as advance:
            return await analysis.replay(alias, candidate, limit, concurrency, advance)

    outcome = asyncio.run(_with_analysis(state, go))
    if out.json:
        out.emit_json(
            {
                "alias": outcome.alias,
                "candidate": outcome.candidate,
                "pairs": outcome.pairs,
                "candidate_errors": outcome.candidate_errors,
            }
        )
        return
    out.line(
        f"replayed {outcome.pairs} requests of {alias} against {candidate} "
        f"({outcome.candidate_errors} failed); see: turnout shadow report {alias} "
        f"--candidate {candidate} --source replay"
    )


T = TypeVar("T")


async def _with_analysis(state: State, work: Callable[[ShadowAnalysis], Awaitable[T]]) -> T:
    """Run ``work`` with a :class:`ShadowAnalysis` whose model caller is closed after."""
    from turnout.services.shadow_analysis import ShadowAnalysis
    from turnout.wiring import build_model_caller

    registry = state.local_registry("shadow report and replay")
    caller = build_model_caller(registry)
    try:
        return await work(ShadowAnalysis(registry.ctx, registry.shadow, caller))
    finally:
        await caller.aclose()
