"""``turnout rollout start|status|pause|resume|approve|abort|list``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from turnout.cli.output import Output, when
from turnout.cli.state import state_of
from turnout.domain.rollouts import Rollout, RolloutStatus, parse_steps
from turnout.errors import InvalidInput
from turnout.serialize import rollout_json, rollout_report_json

app = typer.Typer(
    help="Move an alias to a new version step by step, with gates and automatic rollback.",
    no_args_is_help=True,
)

Reason = Annotated[
    str | None,
    typer.Option("--reason", "-r", help="Why (required on protected aliases; kept in history)."),
]


def _load_policy(path: Path) -> dict[str, object]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"cannot read policy file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise InvalidInput(f"policy file {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"policy file {path} must hold a mapping (steps, gates, ...)")
    return data


def share_text(rollout: Rollout) -> str:
    """Who serves what now, in words (a finished rollout has no canary weight)."""
    if rollout.status is RolloutStatus.COMPLETED:
        return f"{rollout.candidate} serves 100%"
    if not rollout.status.active:
        return f"{rollout.stable} serves 100% again"
    return f"canary at {rollout.weight / 100:g}%"


def _headline(rollout: Rollout) -> str:
    total = len(rollout.plan.steps)
    step = f"step {rollout.step + 1}/{total}" if rollout.step >= 0 else "not started"
    return (
        f"rollout {rollout.id} on [bold]{rollout.alias}[/bold]: {rollout.stable} -> "
        f"{rollout.candidate} — {rollout.status.value}, {step}, {share_text(rollout)}"
    )


def _report_change(out: Output, rollout: Rollout) -> None:
    if out.json:
        out.emit_json(rollout_json(rollout))
        return
    out.line(_headline(rollout))
    if rollout.reason:
        out.line(f"  reason: {rollout.reason}")


@app.command("start")
def start(
    ctx: typer.Context,
    alias: Annotated[str, typer.Argument(help="Alias to move, e.g. prod-chat.")],
    to: Annotated[str, typer.Option("--to", help="Registered pinned version to roll out.")],
    steps: Annotated[
        str | None,
        typer.Option("--steps", help="Canary percentages, last one 100 (default 1,10,50,100)."),
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            help="YAML policy: steps, min_samples, min/max_duration_s, gates, alpha, "
            "approval_before, webhooks.",
        ),
    ] = None,
    reason: Reason = None,
) -> None:
    """Start a rollout: ALIAS keeps its version as the stable arm, --to is the canary."""
    state = state_of(ctx)
    percents = parse_steps(steps) if steps is not None else None
    loaded = _load_policy(policy) if policy is not None else None
    rollout = state.client().start_rollout(alias, to, percents, loaded, reason)
    _report_change(state.output, rollout)


@app.command("status")
def status(ctx: typer.Context, alias: str) -> None:
    """The newest rollout on ALIAS: step, weight, samples per arm, every gate's verdict."""
    state = state_of(ctx)
    report = state.client().rollout_status(alias)
    out = state.output
    if out.json:
        out.emit_json(rollout_report_json(report))
        return
    rollout = report.rollout
    out.line(_headline(rollout))
    step = rollout.current
    if step is not None and rollout.status.active:
        out.line(
            f"  this step: {report.step_canary_requests}/{step.min_samples} canary requests, "
            f"{rollout.elapsed_s(datetime.now(UTC)):.0f}s "
            f"of at least {step.min_duration_s:g}s"
        )
    out.line(
        f"  since the start: {report.canary_requests} canary, "
        f"{report.stable_requests} stable requests (alpha {rollout.plan.alpha:g})"
    )
    if rollout.reason:
        out.line(f"  reason: {rollout.reason}")
    out.table(
        "gates",
        ["metric", "tolerance", "estimate", "interval", "e-value", "samples c/s", "verdict"],
        [
            [
                result.metric.value,
                result.tolerance,
                _fmt(result.estimate),
                f"[{_fmt(result.interval[0])}, {_fmt(result.interval[1])}]"
                if result.interval
                else "-",
                _fmt(result.e_value),
                f"{result.samples[0]}/{result.samples[1]}",
                result.verdict.value,
            ]
            for result in report.results
        ],
    )


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}"


def _action(ctx: typer.Context, alias: str, action: str, reason: str | None) -> None:
    state = state_of(ctx)
    _report_change(state.output, state.client().rollout_action(alias, action, reason))


@app.command("pause")
def pause(ctx: typer.Context, alias: str, reason: Reason = None) -> None:
    """Hold the canary at its weight (gates still watch it and may roll it back)."""
    _action(ctx, alias, "pause", reason)


@app.command("resume")
def resume(ctx: typer.Context, alias: str, reason: Reason = None) -> None:
    """Let a paused rollout advance again."""
    _action(ctx, alias, "resume", reason)


@app.command("approve")
def approve(ctx: typer.Context, alias: str, reason: Reason = None) -> None:
    """Start the step that waits for a person's approval."""
    _action(ctx, alias, "approve", reason)


@app.command("abort")
def abort(ctx: typer.Context, alias: str, reason: Reason = None) -> None:
    """Stop the rollout: the stable version serves 100% again (it can be started anew)."""
    _action(ctx, alias, "abort", reason)


@app.command("list")
def list_rollouts(
    ctx: typer.Context,
    alias: Annotated[str | None, typer.Argument(help="Only this alias.")] = None,
) -> None:
    """Recent rollouts, newest first."""
    state = state_of(ctx)
    found = state.client().list_rollouts(alias)
    out = state.output
    if out.json:
        out.emit_json([rollout_json(r) for r in found])
        return
    if not found:
        out.line("no rollouts yet: turnout rollout start ALIAS --to VERSION")
        return
    out.table(
        None,
        ["id", "alias", "stable", "candidate", "status", "canary", "started", "by"],
        [
            [
                str(r.id),
                r.alias,
                str(r.stable),
                str(r.candidate),
                r.status.value,
                f"{r.weight / 100:g}%" if r.status.active else "-",
                when(r.started_at),
                r.actor,
            ]
            for r in found
        ],
    )
