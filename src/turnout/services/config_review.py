"""What a plan or an apply should warn about, beside the changes themselves.

The CLI prints these lines after a plan on a database URL; the admin API returns
them with a plan made over HTTP (``POST /api/v1/config/plan``), so a CI job with
only a token sees exactly what a developer at a database sees: versions in use
that retire soon, fallback chains that fell behind, and protected aliases whose
change will need a reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from turnout.domain.access import Principal
from turnout.domain.plan import DesiredState, Plan

if TYPE_CHECKING:  # the registry composes the services; importing it here would be a cycle
    from turnout.services.registry import Registry

__all__ = ["review"]


def review(
    registry: Registry,
    principal: Principal,
    desired: DesiredState,
    plan: Plan,
    reason: str | None,
    applied: bool,
) -> list[str]:
    """One line per warning, in the order the CLI has always printed them.

    After a plan, retirements are judged on the registry as it *would* be; after
    an apply, on the registry as it now is.
    """
    deprecations = registry.deprecations
    findings = (
        deprecations.findings(principal)
        if applied
        else deprecations.for_desired(principal, desired)
    )
    lines = [finding.describe() for finding in findings]
    names = {alias.name for alias in desired.aliases}
    lines += [
        f"alias {problem.alias}: fallback {problem.fallback} {problem.problem}"
        for problem in registry.health.fallback_problems(names)
    ]
    if not applied:
        protected = sorted(
            {
                change.subject
                for change in plan.changes
                if change.kind.noun == "alias"
                and (wanted := desired.alias(change.subject)) is not None
                and wanted.protected
            }
        )
        if protected and not reason:
            names_text = ", ".join(protected)
            lines.append(f"protected alias(es) {names_text} change: apply needs --reason")
    return lines
