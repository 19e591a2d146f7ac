"""Fallback chains that have fallen behind: the versions an outage would land on.

A fallback is only useful if it can serve when the primary cannot: it must be a
pinned release that is not retired (nor about to be), and — when the alias has
a promotion policy — it must carry an eval run of the same suites, or an outage
would quietly promote a version nobody evaluated. ``turnout health`` and
``turnout plan`` list what this finds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from turnout.domain.aliases import Alias
from turnout.domain.versions import Version, VersionStatus

__all__ = ["FallbackProblem", "check_fallbacks"]

RETIRING_SOON_DAYS = 30
"""A fallback retiring within this many days is flagged (it will not be there for long)."""


@dataclass(frozen=True, slots=True)
class FallbackProblem:
    alias: str
    fallback: str
    problem: str


def check_fallbacks(
    alias: Alias,
    versions: Mapping[str, Version],
    today: date,
    evaluated: Mapping[tuple[str, str], bool],
) -> list[FallbackProblem]:
    """Problems of ``alias``'s fallback chain.

    ``evaluated[(suite, version)]`` says whether the version has a run of that
    suite (only the suites of the alias's promotion policy are asked about).
    """
    problems: list[FallbackProblem] = []
    policy = alias.target.promotion
    for vid in alias.target.fallbacks:
        name = str(vid)

        def flag(text: str, fallback: str = name) -> None:
            problems.append(FallbackProblem(alias.name, fallback, text))

        version = versions.get(name)
        if version is None:
            flag("is not registered")
            continue
        if version.floating_allowed:
            flag("is a floating id: the provider may re-point it")
        status = version.status_on(today)
        if status is VersionStatus.RETIRED:
            flag("is retired: the provider no longer serves it")
        elif version.retirement_date is not None:
            days = (version.retirement_date - today).days
            if days <= RETIRING_SOON_DAYS:
                flag(f"retires in {days} days ({version.retirement_date.isoformat()})")
        if policy is not None:
            for suite in policy.suites:
                if not evaluated.get((suite, name), False):
                    flag(
                        f"has no eval run of suite '{suite}' (the alias's promotion policy): "
                        f"turnout eval run SUITE_FILE --version {name}"
                    )
    return problems
