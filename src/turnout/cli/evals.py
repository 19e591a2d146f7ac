"""``turnout eval run|list|show|compare``: eval suites against pinned versions.

Runs call models from this process (the registry must be a database URL), so
everything that can be refused — the suite file, the options, an unknown
version or judge — is refused before the first call: bad input exits 2 and
stores nothing. A progress bar goes to stderr (only on a terminal), so
``--json`` output on stdout stays one parseable document.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from turnout.cli.output import Output, when
from turnout.cli.progress import ProgressBar
from turnout.cli.state import State, state_of
from turnout.errors import CheckFailed, InvalidInput

if TYPE_CHECKING:
    from turnout.domain.eval_runs import EvalRun
    from turnout.services.registry import Registry

app = typer.Typer(
    help="Run eval suites against versions; list, show and compare the stored runs.",
    no_args_is_help=True,
)


def _registry(state: State) -> Registry:
    return state.local_registry("eval commands")


def _run_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise InvalidInput(f"a run id is a number, not {text!r}") from None
    if value < 1:
        raise InvalidInput(f"a run id is a positive number, not {text!r}")
    return value


def _fraction(name: str, value: float | None) -> None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise InvalidInput(f"{name} must be between 0 and 1, not {value:g}")


def _cost(value: float | None) -> str:
    return f"${value:.4f}" if value is not None else "-"


@app.command("run")
def run(
    ctx: typer.Context,
    suite_file: Annotated[
        Path, typer.Argument(metavar="SUITE", help="Suite file: .yaml/.yml or .jsonl.")
    ],
    version: Annotated[
        str | None, typer.Option("--version", help="Registered pinned version to evaluate.")
    ] = None,
    alias: Annotated[
        str | None, typer.Option("--alias", help="Evaluate the version this alias points at.")
    ] = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", help="Model calls in flight at most.")
    ] = 8,
    threshold: Annotated[
        float, typer.Option("--threshold", help="A case passes at or above this score.")
    ] = 0.5,
    judge: Annotated[
        str | None,
        typer.Option("--judge", help="Judge version for judge scorers that name none."),
    ] = None,
    fail_under: Annotated[
        float | None,
        typer.Option("--fail-under", help="Exit 1 if the mean score is below this."),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds to wait for each model call.")
    ] = 60.0,
) -> None:
    """Run SUITE against --version or --alias, store the run and print a summary."""
    from turnout.eval_file import load_suite
    from turnout.services.evals import RunOptions
    from turnout.wiring import build_eval_service, build_model_caller

    state = state_of(ctx)
    suite = load_suite(suite_file)
    if (version is None) == (alias is None):
        raise InvalidInput("give exactly one of --version or --alias")
    if concurrency < 1:
        raise InvalidInput(f"--concurrency must be at least 1, not {concurrency}")
    _fraction("--threshold", threshold)
    _fraction("--fail-under", fail_under)
    options = RunOptions(threshold=threshold, judge=judge, timeout_s=timeout)
    registry = _registry(state)
    out = state.output

    async def go() -> EvalRun:
        caller = build_model_caller(registry)
        try:
            service = build_eval_service(registry, caller)
            with ProgressBar(out, len(suite.cases), "evaluating") as advance:
                return await service.run(
                    suite,
                    version,
                    alias=alias,
                    concurrency=concurrency,
                    options=options,
                    progress=advance,
                )
        finally:
            await caller.aclose()

    result = asyncio.run(go())
    if out.json:
        out.emit_json(_json(result, True))
    else:
        _summary(out, result)
    mean = result.aggregate.mean_score
    if fail_under is not None and mean < fail_under:
        raise CheckFailed(f"mean score {mean:.3f} is below --fail-under {fail_under:g}")


def _json(run: EvalRun, with_results: bool) -> dict[str, object]:
    from turnout.eval_json import eval_run_json

    return eval_run_json(run, with_results)


def _summary(out: Output, run: EvalRun) -> None:
    aggregate = run.aggregate
    target = f"{run.version} (alias {run.alias})" if run.alias else run.version
    out.line(f"eval run [bold]{run.id}[/bold]: suite {run.suite} on {target}")
    out.table(
        None,
        ["suite hash", "cases", "mean score", "passed", "errors", "cost", "took"],
        [
            [
                run.suite_hash[:12],
                str(aggregate.cases),
                f"{aggregate.mean_score:.3f}",
                f"{aggregate.passed}/{aggregate.cases} ({aggregate.pass_rate:.0%}) "
                f">= {aggregate.threshold:g}",
                str(aggregate.errors),
                _cost(aggregate.total_cost_usd),
                f"{(run.finished_at - run.started_at).total_seconds():.1f}s",
            ]
        ],
    )


@app.command("list")
def list_runs(
    ctx: typer.Context,
    suite: Annotated[str | None, typer.Option("--suite", help="Only runs of this suite.")] = None,
    version: Annotated[
        str | None, typer.Option("--version", help="Only runs of this version.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many runs, newest first.")] = 50,
) -> None:
    """Stored eval runs, newest first."""
    from turnout.services.evals import EvalService

    state = state_of(ctx)
    if limit < 1:
        raise InvalidInput(f"--limit must be at least 1, not {limit}")
    registry = _registry(state)
    runs = EvalService(registry.ctx).list(suite, version, limit)
    out = state.output
    if out.json:
        out.emit_json([_json(r, False) for r in runs])
        return
    if not runs:
        out.line("no eval runs yet: turnout eval run SUITE --version VERSION")
        return
    out.table(
        None,
        ["id", "suite", "hash", "version", "finished", "cases", "mean", "passed", "errors"],
        [
            [
                str(r.id),
                r.suite,
                r.suite_hash[:12],
                r.version,
                when(r.finished_at),
                str(r.aggregate.cases),
                f"{r.aggregate.mean_score:.3f}",
                f"{r.aggregate.pass_rate:.0%}",
                str(r.aggregate.errors),
            ]
            for r in runs
        ],
    )


@app.command("show")
def show(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(metavar="RUN_ID", help="The run's id.")],
) -> None:
    """One run: the summary, then every case, worst first."""
    from turnout.services.evals import EvalService

    state = state_of(ctx)
    number = _run_id(run_id)
    found = EvalService(_registry(state).ctx).get(number)
    out = state.output
    if out.json:
        out.emit_json(_json(found, True))
        return
    _summary(out, found)
    worst = sorted(found.results, key=lambda r: (r.score, r.case_id))
    out.table(
        None,
        ["case", "score", "scorers", "latency", "answer / error"],
        [
            [
                r.case_id,
                f"{r.score:.3f}",
                " ".join(
                    f"{i.name}={i.score:.2f}" + (f" ({i.note})" if i.note and not r.error else "")
                    for i in r.scores
                ),
                f"{r.latency_ms:.0f}ms",
                f"error: {r.error}" if r.error else _clip(r.answer),
            ]
            for r in worst
        ],
    )


def _clip(text: str, width: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


@app.command("compare")
def compare(
    ctx: typer.Context,
    run_a: Annotated[str, typer.Argument(metavar="RUN_A", help="The baseline run's id.")],
    run_b: Annotated[str, typer.Argument(metavar="RUN_B", help="The run compared with it.")],
) -> None:
    """Run B against run A: paired per-case differences with a 95% confidence interval."""
    from turnout.eval_json import eval_comparison_json
    from turnout.services.evals import EvalService

    state = state_of(ctx)
    first, second = _run_id(run_a), _run_id(run_b)
    comparison = EvalService(_registry(state).ctx).compare(first, second)
    out = state.output
    if out.json:
        out.emit_json(eval_comparison_json(comparison))
        return
    a, b = comparison.run_a, comparison.run_b
    out.line(f"B = run {b.id} ({b.version}) vs A = run {a.id} ({a.version}), suite {b.suite}")
    interval = comparison.interval
    ci = "-"
    if interval is not None and interval.low is not None and interval.high is not None:
        ci = f"[{interval.low:+.3f}, {interval.high:+.3f}]"
    out.table(
        None,
        ["paired cases", "mean A", "mean B", "mean B-A", "95% CI", "wins/losses/ties"],
        [
            [
                str(len(comparison.pairs)),
                f"{a.aggregate.mean_score:.3f}",
                f"{b.aggregate.mean_score:.3f}",
                f"{interval.mean:+.3f}" if interval is not None else "-",
                ci,
                f"{comparison.wins}/{comparison.losses}/{comparison.ties}",
            ]
        ],
    )
    for note in comparison.notes:
        out.warn(note)
    if comparison.only_a or comparison.only_b:
        out.warn(
            f"not paired: {len(comparison.only_a)} case(s) only in A, "
            f"{len(comparison.only_b)} only in B"
        )
