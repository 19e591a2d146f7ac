"""``turnout health``: live traffic, breaker and probe states per version, weak fallbacks."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from turnout.cli.output import Output, when
from turnout.cli.state import state_of
from turnout.errors import CheckFailed, InvalidInput
from turnout.services.health import HealthReport

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    app.command("health")(health)


def health(
    ctx: typer.Context,
    window_minutes: Annotated[
        float, typer.Option("--window-minutes", help="Traffic of the last N minutes.")
    ] = 15.0,
    fail: Annotated[
        bool,
        typer.Option("--fail", help="Exit 1 if a breaker is not closed or a fallback is weak."),
    ] = False,
) -> None:
    """Every version an alias uses: requests, error rate, p50/p95 latency, each replica's
    breaker state and the latest probe; then fallbacks that have fallen behind."""
    if not window_minutes > 0:
        raise InvalidInput(f"--window-minutes must be positive, not {window_minutes:g}")
    state = state_of(ctx)
    registry = state.local_registry("health")
    report = registry.health.report(timedelta(minutes=window_minutes))
    out = state.output
    if out.json:
        out.emit_json(_json(report))
    else:
        _print(out, report, window_minutes)
    if fail and not report.healthy:
        raise CheckFailed("unhealthy: a breaker is not closed or a fallback has fallen behind")


def _rate(report_rate: float | None) -> str:
    return "-" if report_rate is None else f"{report_rate:.1%}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _print(out: Output, report: HealthReport, window_minutes: float) -> None:
    if not report.versions:
        out.line("no aliases yet: nothing to watch")
        return
    out.table(
        f"versions in use (traffic of the last {window_minutes:g} min)",
        ["version", "used by", "requests", "errors", "p50 ms", "p95 ms", "breakers", "probe"],
        [
            [
                use.version,
                ", ".join(use.uses),
                str(use.traffic.requests),
                _rate(use.traffic.error_rate),
                _ms(use.traffic.p50_ms),
                _ms(use.traffic.p95_ms),
                ", ".join(f"{e.state} ({e.source})" for e in use.breakers) or "closed",
                f"{use.probe.state} {when(use.probe.at)}" if use.probe else "-",
            ]
            for use in report.versions
        ],
    )
    if report.fallback_problems:
        out.table(
            "fallbacks that have fallen behind",
            ["alias", "fallback", "problem"],
            [[p.alias, p.fallback, p.problem] for p in report.fallback_problems],
        )
    if report.events:
        out.table(
            "recent events",
            ["when (UTC)", "version", "kind", "state", "detail", "seen by"],
            [
                [when(e.at), e.version, e.kind, e.state, e.detail, e.source]
                for e in report.events[:10]
            ],
        )
    out.line("healthy" if report.healthy else "[yellow]attention needed[/yellow]")


def _json(report: HealthReport) -> dict[str, object]:
    return {
        "since": report.since.isoformat(),
        "healthy": report.healthy,
        "versions": [
            {
                "version": use.version,
                "uses": list(use.uses),
                "requests": use.traffic.requests,
                "errors": use.traffic.errors,
                "error_rate": use.traffic.error_rate,
                "p50_ms": use.traffic.p50_ms,
                "p95_ms": use.traffic.p95_ms,
                "breakers": [
                    {"source": e.source, "state": e.state, "at": e.at.isoformat()}
                    for e in use.breakers
                ],
                "probe": {"state": use.probe.state, "detail": use.probe.detail}
                if use.probe
                else None,
            }
            for use in report.versions
        ],
        "fallback_problems": [
            {"alias": p.alias, "fallback": p.fallback, "problem": p.problem}
            for p in report.fallback_problems
        ],
        "events": [
            {
                "at": e.at.isoformat(),
                "version": e.version,
                "kind": e.kind,
                "state": e.state,
                "detail": e.detail,
                "source": e.source,
            }
            for e in report.events
        ],
    }
