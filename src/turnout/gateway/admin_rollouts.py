"""Admin routes for rollouts: start one, watch it, pause, resume, approve, abort, list.

The rollout service decides what the caller may do, as for the local client:
any token may read; a change needs an operator, and on a protected alias a
deployer with a reason. Request bodies carry the same values as the
``turnout rollout`` options, and responses are the JSON ``--json`` prints
(``turnout.serialize``), so the CLI, the API and the SDK cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, ConfigDict

from turnout.domain.access import Operation, Principal, authorize
from turnout.domain.aliases import validate_alias_name
from turnout.domain.rollouts import RolloutPlan, Transition
from turnout.errors import InvalidInput
from turnout.gateway.auth import CurrentPrincipal
from turnout.serialize import rollout_json, rollout_report_json
from turnout.services.registry import Registry
from turnout.services.rollouts import RolloutService

__all__ = ["ROLLOUT_ACTIONS", "RolloutActionBody", "StartRolloutBody", "add_rollout_routes"]

ROLLOUT_ACTIONS = ("pause", "resume", "approve", "abort")
"""The ``{action}`` values of ``POST /aliases/{name}/rollout/{action}``."""


class StartRolloutBody(BaseModel):
    """Roll ``to`` out on the alias; ``steps`` overrides the policy's percentages."""

    model_config = ConfigDict(extra="forbid")

    to: str
    steps: list[float] | None = None
    policy: dict[str, Any] | None = None
    reason: str | None = None


class RolloutActionBody(BaseModel):
    """Why the rollout is paused, resumed, approved or aborted (kept in its history)."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = None


Move = Callable[[Principal, str, str | None], Transition]


def _moves(service: RolloutService) -> dict[str, Move]:
    return {
        "pause": service.pause,
        "resume": service.resume,
        "approve": service.approve,
        "abort": service.abort,
    }


def add_rollout_routes(router: APIRouter, registry: Registry) -> None:
    rollouts = registry.rollouts
    moves = _moves(rollouts)

    @router.post(
        "/aliases/{name}/rollout",
        status_code=201,
        tags=["rollouts"],
        summary="Start a rollout on an alias",
    )
    def start_rollout(
        name: str, body: StartRolloutBody, principal: CurrentPrincipal
    ) -> dict[str, Any]:
        alias = validate_alias_name(name)
        plan = RolloutPlan.from_dict(body.policy) if body.policy is not None else None
        rollout = rollouts.start(principal, alias, body.to, body.steps, plan, body.reason)
        return rollout_json(rollout)

    @router.get(
        "/aliases/{name}/rollout",
        tags=["rollouts"],
        summary="The alias's newest rollout with every gate's verdict",
    )
    def rollout_status(name: str, principal: CurrentPrincipal) -> dict[str, Any]:
        authorize(principal, Operation.READ)
        return rollout_report_json(rollouts.status(validate_alias_name(name)))

    @router.post(
        "/aliases/{name}/rollout/{action}",
        tags=["rollouts"],
        summary="Pause, resume, approve or abort the alias's rollout",
    )
    def rollout_action(
        name: str,
        action: str,
        principal: CurrentPrincipal,
        body: Annotated[RolloutActionBody | None, Body()] = None,
    ) -> dict[str, Any]:
        move = moves.get(action)
        if move is None:
            raise InvalidInput(
                f"rollout action {action!r} is not one of {', '.join(ROLLOUT_ACTIONS)}"
            )
        reason = body.reason if body is not None else None
        return rollout_json(move(principal, validate_alias_name(name), reason).rollout)

    @router.get("/rollouts", tags=["rollouts"], summary="Recent rollouts, newest first")
    def list_rollouts(
        principal: CurrentPrincipal,
        alias: Annotated[str | None, Query(description="Only this alias")] = None,
        limit: Annotated[int, Query(ge=1, le=1000, description="At most this many")] = 50,
    ) -> dict[str, Any]:
        authorize(principal, Operation.READ)
        name = validate_alias_name(alias) if alias is not None else None
        return {"data": [rollout_json(r) for r in rollouts.history(name, limit)]}
