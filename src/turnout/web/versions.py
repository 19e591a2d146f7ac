"""The versions page (each version's record) and the deprecations timeline.

The timeline is inline SVG computed here, not a chart library: a bar per version
in use from today to its retirement date, coloured by urgency, so the page needs
no script and the numbers are the ones ``turnout deprecations`` prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from turnout.domain.access import Operation, Principal, authorize
from turnout.domain.deprecations import Finding
from turnout.domain.versions import Version
from turnout.web.render import Page, Web, paginate, query_int
from turnout.web.session import UI_PREFIX

__all__ = ["Timeline", "TimelineBar", "VersionRow", "routes", "timeline", "urgency"]

_CHART_W = 640  # the SVG's drawing width for the bars (labels sit left of it)
_ROW_H = 28


@dataclass(frozen=True, slots=True)
class VersionRow:
    version: Version
    status: str
    uses: tuple[str, ...]


def _versions(web: Web, principal: Principal, query: str, number: int) -> Page[VersionRow]:
    authorize(principal, Operation.READ)
    today = web.registry.ctx.today()
    versions = web.registry.versions.all()
    if query:
        versions = [v for v in versions if query in str(v.id)]
    page = paginate(versions, number, web.page_size)
    uses = {use.version: use.uses for use in web.registry.health.report().versions}
    rows = [VersionRow(v, v.status_on(today).value, uses.get(str(v.id), ())) for v in page.items]
    return Page(rows, page.number, page.pages, page.total)


def urgency(days_left: int) -> str:
    """The colour class of a retirement ``days_left`` away (the notice thresholds 90/30)."""
    if days_left <= 0:
        return "retired"
    if days_left <= 30:
        return "critical"
    if days_left <= 90:
        return "warning"
    return "notice"


@dataclass(frozen=True, slots=True)
class TimelineBar:
    finding: Finding
    uses: str
    y: int
    x: float
    width: float
    urgency: str


@dataclass(frozen=True, slots=True)
class Timeline:
    bars: tuple[TimelineBar, ...]
    today_x: float
    width: int
    height: int
    start: date
    end: date


def timeline(findings: list[Finding], today: date, within_days: int) -> Timeline:
    """Bars on one day scale from the oldest retirement (or today) to the window's end."""
    first = min([0, *(f.days_left for f in findings)])
    last = max([within_days, *(f.days_left for f in findings), 1])
    span = last - first

    def x_of(days: int) -> float:
        return round((days - first) / span * _CHART_W, 1)

    bars = []
    for i, finding in enumerate(sorted(findings, key=lambda f: f.days_left)):
        left, right = sorted((x_of(0), x_of(finding.days_left)))
        bars.append(
            TimelineBar(
                finding,
                ", ".join(use.describe() for use in finding.uses),
                i * _ROW_H + 24,
                left,
                max(right - left, 3.0),
                urgency(finding.days_left),
            )
        )
    height = len(bars) * _ROW_H + 32
    start = date.fromordinal(today.toordinal() + first)
    end = date.fromordinal(today.toordinal() + last)
    return Timeline(tuple(bars), x_of(0), _CHART_W, height, start, end)


def routes(web: Web) -> list[BaseRoute]:
    async def versions_page(request: Request) -> Response:
        principal = await web.principal(request)
        query = request.query_params.get("q", "").strip()
        number = query_int(request, "page", 1)
        page = await web.call(lambda: _versions(web, principal, query, number))
        return web.page(request, "versions.html", {"page": page, "q": query})

    async def deprecations_page(request: Request) -> Response:
        principal = await web.principal(request)
        within = query_int(request, "within", 365, least=0)
        registry = web.registry
        findings = await web.call(lambda: registry.deprecations.findings(principal, within))
        chart = timeline(findings, registry.ctx.today(), within)
        return web.page(
            request, "deprecations.html", {"chart": chart, "within": within, "findings": findings}
        )

    return [
        Route(f"{UI_PREFIX}/versions", versions_page, methods=["GET"]),
        Route(f"{UI_PREFIX}/deprecations", deprecations_page, methods=["GET"]),
    ]
