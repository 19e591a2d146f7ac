"""The shadow pages: which aliases are shadowed, and ``turnout shadow report`` as a page.

The report is :func:`turnout.shadow_html.render_report_html` itself (the page the
CLI writes with ``--html``), served whole so the two can never disagree. It
styles itself inline and runs no script, so it gets its own Content-Security-
Policy: inline styles allowed, scripts none at all. It is computed in a worker
thread with its own event loop: scoring a few thousand pairs must not stall the
server's loop. A read-only report needs no model caller (no judge).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from turnout.domain.access import Operation, Principal, authorize
from turnout.domain.aliases import validate_alias_name
from turnout.domain.shadow import ShadowCount
from turnout.services.shadow_analysis import ReportRequest, ShadowAnalysis
from turnout.shadow_html import render_report_html
from turnout.web.render import Web
from turnout.web.session import UI_PREFIX

__all__ = ["REPORT_CSP", "ShadowRow", "routes"]

REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'none'; form-action 'none'; base-uri 'none'"
)


@dataclass(frozen=True, slots=True)
class ShadowRow:
    alias: str
    primary: str
    policies: tuple[str, ...]  # "candidate at 10%"
    counts: tuple[ShadowCount, ...]  # pairs per candidate over the last day


def _rows(web: Web, principal: Principal) -> list[ShadowRow]:
    authorize(principal, Operation.READ)
    rows = []
    for alias in web.registry.aliases.all():
        if not alias.target.shadows:
            continue
        status = web.registry.shadow.status(alias.name)
        policies = tuple(f"{s.candidate} at {s.sample * 100:g}%" for s in status.policies)
        rows.append(ShadowRow(alias.name, status.version, policies, status.counts))
    return rows


def _report_html(web: Web, principal: Principal, alias: str, candidate: str | None) -> str:
    authorize(principal, Operation.READ)
    analysis = ShadowAnalysis(web.registry.ctx, web.registry.shadow)
    report = asyncio.run(analysis.report(ReportRequest(alias, candidate)))
    back = f'<p><a href="{UI_PREFIX}/shadow">&larr; back to the dashboard</a></p>'
    return render_report_html(report).replace("<body>", f"<body>{back}", 1)


def routes(web: Web) -> list[BaseRoute]:
    async def index(request: Request) -> Response:
        principal = await web.principal(request)
        wanted = request.query_params.get("alias", "").strip()
        if wanted:  # the "open a report" form: any alias, shadowed now or before
            target = f"{UI_PREFIX}/shadow/{validate_alias_name(wanted)}"
            return RedirectResponse(target, status_code=303)
        rows = await web.call(lambda: _rows(web, principal))
        return web.page(request, "shadow.html", {"rows": rows})

    async def report(request: Request) -> Response:
        principal = await web.principal(request)
        alias = validate_alias_name(request.path_params["alias"])
        candidate = request.query_params.get("candidate") or None
        html = await web.call(lambda: _report_html(web, principal, alias, candidate))
        headers = {"content-security-policy": REPORT_CSP, "cache-control": "no-store"}
        return HTMLResponse(html, headers=headers)

    return [
        Route(f"{UI_PREFIX}/shadow", index, methods=["GET"]),
        Route(f"{UI_PREFIX}/shadow/{{alias}}", report, methods=["GET"]),
    ]
