"""The rollouts pages: recent rollouts, and one alias's rollout live, with its controls.

The live part is a fragment of the detail route that htmx polls every two
seconds while the rollout is active (the fragment drops its own trigger once the
rollout has finished, so a finished page stops polling). The history part (a
chart per gate replayed from the request log, and the decision log) costs a
replay per cut point, so it is its own fragment (``?part=history``), polled
every fifteen seconds instead. Pause, resume, approve
and abort call :class:`~turnout.services.rollouts.RolloutService` with the
signed-in principal, so the alias's protection and the roles apply as in the CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from turnout.domain.access import Operation, Principal, authorize
from turnout.domain.aliases import validate_alias_name
from turnout.domain.rollouts import Rollout, RolloutStatus, Transition
from turnout.errors import NotFound
from turnout.services.rollouts import RolloutReport
from turnout.web.decisions import DecisionRow, decision_log
from turnout.web.gate_charts import GateChart, cut_points, gate_charts
from turnout.web.render import Web, form_fields
from turnout.web.session import CSRF_FIELD, UI_PREFIX, check_csrf
from turnout.web.views import may_change_alias

__all__ = ["ACTIONS", "HistoryView", "RolloutView", "StepView", "routes"]

ACTIONS: dict[str, tuple[RolloutStatus, ...]] = {
    "pause": (RolloutStatus.RUNNING,),
    "resume": (RolloutStatus.PAUSED,),
    "approve": (RolloutStatus.AWAITING_APPROVAL,),
    "abort": (RolloutStatus.RUNNING, RolloutStatus.PAUSED, RolloutStatus.AWAITING_APPROVAL),
}
"""Each button and the states in which it is offered."""


@dataclass(frozen=True, slots=True)
class StepView:
    number: int  # 1-based
    percent: float
    state: str  # "done", "current", "todo"
    min_samples: int
    approval: bool


@dataclass(frozen=True, slots=True)
class RolloutView:
    report: RolloutReport
    steps: tuple[StepView, ...]
    elapsed_s: float
    actions: tuple[str, ...]  # buttons this principal may press now
    share: str

    @property
    def rollout(self) -> Rollout:
        return self.report.rollout


def _share(rollout: Rollout) -> str:
    if rollout.status is RolloutStatus.COMPLETED:
        return f"{rollout.candidate} serves 100%"
    if not rollout.status.active:
        return f"{rollout.stable} serves 100% again"
    return f"canary at {rollout.weight / 100:g}%"


def _steps(rollout: Rollout) -> tuple[StepView, ...]:
    done_all = rollout.status is RolloutStatus.COMPLETED
    return tuple(
        StepView(
            i + 1,
            step.weight / 100,
            "done"
            if done_all or i < rollout.step
            else ("current" if i == rollout.step and rollout.status.active else "todo"),
            step.min_samples,
            step.approval,
        )
        for i, step in enumerate(rollout.plan.steps)
    )


def _view(web: Web, principal: Principal, alias: str) -> RolloutView:
    authorize(principal, Operation.READ)
    report = web.registry.rollouts.status(alias)
    rollout = report.rollout
    may = may_change_alias(principal, web.registry.aliases.get(alias))
    actions = tuple(a for a, states in ACTIONS.items() if may and rollout.status in states)
    elapsed = rollout.elapsed_s(web.registry.ctx.now()) if rollout.status.active else 0.0
    return RolloutView(report, _steps(rollout), elapsed, actions, _share(rollout))


@dataclass(frozen=True, slots=True)
class HistoryView:
    rollout: Rollout
    charts: tuple[GateChart, ...]
    decisions: tuple[DecisionRow, ...]
    start: datetime
    end: datetime


def _history(web: Web, principal: Principal, rollout: Rollout) -> HistoryView:
    """Each gate replayed at the cut points, and every transition of ``rollout``."""
    authorize(principal, Operation.READ)
    registry = web.registry
    end = rollout.finished_at or registry.ctx.now()
    series = [
        (at, registry.rollouts.status_at(rollout, at).results) for at in cut_points(rollout, end)
    ]
    entries = registry.audit.entries(principal, None, rollout.alias)
    revisions = registry.aliases.history(rollout.alias)
    decisions = decision_log(rollout, entries, revisions)
    return HistoryView(
        rollout, gate_charts(rollout, series, end), decisions, rollout.started_at, end
    )


def routes(web: Web) -> list[BaseRoute]:
    async def list_page(request: Request) -> Response:
        principal = await web.principal(request)
        authorize(principal, Operation.READ)
        found = await web.call(lambda: web.registry.rollouts.history(None, web.page_size))
        return web.page(request, "rollouts.html", {"rollouts": found})

    async def detail_page(request: Request) -> Response:
        principal = await web.principal(request)
        alias = validate_alias_name(request.path_params["alias"])
        view = await web.call(lambda: _view(web, principal, alias))
        fragment = request.headers.get("hx-request") == "true"
        if fragment and request.query_params.get("part") != "history":
            return web.page(request, "rollout_live.html", {"view": view})
        history = await web.call(lambda: _history(web, principal, view.rollout))
        values = {"view": view, "history": history}
        return web.page(request, "rollout_history.html" if fragment else "rollout.html", values)

    async def act(request: Request) -> Response:
        principal = await web.principal(request)
        alias = validate_alias_name(request.path_params["alias"])
        action = request.path_params["action"]
        data = await form_fields(request)
        check_csrf(request, data.get(CSRF_FIELD))
        if action not in ACTIONS:
            raise NotFound(f"no rollout action {action!r}")
        reason = data.get("reason", "").strip() or None
        service = web.registry.rollouts
        moves: dict[str, Callable[[], Transition]] = {
            "pause": lambda: service.pause(principal, alias, reason),
            "resume": lambda: service.resume(principal, alias, reason),
            "approve": lambda: service.approve(principal, alias, reason),
            "abort": lambda: service.abort(principal, alias, reason),
        }
        await web.call(moves[action])
        return RedirectResponse(f"{UI_PREFIX}/rollouts/{alias}", status_code=303)

    return [
        Route(f"{UI_PREFIX}/rollouts", list_page, methods=["GET"]),
        Route(f"{UI_PREFIX}/rollouts/{{alias}}", detail_page, methods=["GET"]),
        Route(f"{UI_PREFIX}/rollouts/{{alias}}/{{action}}", act, methods=["POST"]),
    ]
