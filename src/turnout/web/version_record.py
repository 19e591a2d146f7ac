"""One version's record page: the record, its lineage, who serves it, its eval runs.

The versions list shows every record in a row; this page is where one version
is looked at whole, to answer "what is this, where did it come from, and what
evidence is there for it" before promoting or retiring it. Lineage is the chain
the record keeps (model -> prompt version -> dataset version); the aliases are
read live, in every role a version can have (primary, canary, fallback,
shadow), since the record alone cannot say what depends on it today.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from turnout.domain.access import Operation, Principal, authorize
from turnout.domain.aliases import Alias
from turnout.domain.eval_runs import EvalRun
from turnout.domain.ids import VersionId
from turnout.domain.versions import Version
from turnout.services.evals import EvalService
from turnout.web.render import Web
from turnout.web.session import UI_PREFIX

__all__ = ["EVAL_RUNS", "ServedBy", "VersionRecord", "routes", "served_by"]

EVAL_RUNS = 50
"""The newest eval runs listed on a version's page (``turnout eval list`` shows more)."""


@dataclass(frozen=True, slots=True)
class ServedBy:
    alias: str
    role: str  # "primary", "canary 10%", "fallback 1", "shadow 5%"


@dataclass(frozen=True, slots=True)
class VersionRecord:
    version: Version
    status: str
    lineage: tuple[tuple[str, str], ...]  # (kind, value): model, prompt, dataset
    served_by: tuple[ServedBy, ...]
    runs: tuple[EvalRun, ...]


def served_by(vid: VersionId, aliases: list[Alias]) -> tuple[ServedBy, ...]:
    """Every alias that may send ``vid`` a request (or a shadow copy of one), and how."""
    found = []
    for alias in sorted(aliases, key=lambda a: a.name):
        target = alias.target
        if target.version == vid:
            found.append(ServedBy(alias.name, "primary"))
        if target.canary is not None and target.canary.version == vid:
            found.append(ServedBy(alias.name, f"canary {target.canary.weight / 100:g}%"))
        found.extend(
            ServedBy(alias.name, f"fallback {i}")
            for i, fallback in enumerate(target.fallbacks, start=1)
            if fallback == vid
        )
        found.extend(
            ServedBy(alias.name, f"shadow {shadow.sample * 100:g}%")
            for shadow in target.shadows
            if shadow.candidate == vid
        )
    return tuple(found)


def _record(web: Web, principal: Principal, version_id: str) -> VersionRecord:
    authorize(principal, Operation.READ)
    registry = web.registry
    version = registry.versions.get(version_id)
    lineage = [("model", f"{version.provider} / {version.model}")]
    if version.prompt_version:
        lineage.append(("prompt", version.prompt_version))
    if version.dataset_version:
        lineage.append(("dataset", version.dataset_version))
    runs = EvalService(registry.ctx).list(version=str(version.id), limit=EVAL_RUNS)
    return VersionRecord(
        version,
        version.status_on(registry.ctx.today()).value,
        tuple(lineage),
        served_by(version.id, registry.aliases.all()),
        tuple(runs),
    )


def routes(web: Web) -> list[BaseRoute]:
    async def record_page(request: Request) -> Response:
        principal = await web.principal(request)
        version_id = request.path_params["version"]
        record = await web.call(lambda: _record(web, principal, version_id))
        return web.page(request, "version.html", {"record": record})

    return [Route(f"{UI_PREFIX}/versions/{{version:path}}", record_page, methods=["GET"])]
