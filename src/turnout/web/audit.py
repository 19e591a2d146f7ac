"""The audit page: the hash-chained log, filterable, paginated, with its verification.

The subject filter, the action filter (a prefix such as ``alias.`` or
``token.create``) and the newest-first order run in the store; unfiltered, it
reads only as many rows as the page needs.
Verification recomputes the whole chain, as ``turnout audit --verify`` does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from turnout.domain.access import Principal
from turnout.domain.audit import AuditEntry, ChainBreak
from turnout.web.render import Page, Web, paginate, query_int
from turnout.web.session import UI_PREFIX

__all__ = ["AuditRow", "AuditView", "routes"]


@dataclass(frozen=True, slots=True)
class AuditRow:
    seq: int
    at: str
    actor: str
    action: str
    subject: str
    detail: str  # compact JSON
    hash: str


def _row(entry: AuditEntry) -> AuditRow:
    detail = json.dumps(entry.detail, sort_keys=True, separators=(", ", ": "), default=str)
    return AuditRow(
        entry.seq,
        entry.at.strftime("%Y-%m-%d %H:%M:%S"),
        entry.actor,
        entry.action,
        entry.subject,
        detail,
        entry.hash[:12],
    )


@dataclass(frozen=True, slots=True)
class AuditView:
    page: Page[AuditRow]
    verified: int  # entries the chain head claims
    broken: ChainBreak | None


def _view(
    web: Web, principal: Principal, subject: str | None, action: str, number: int
) -> AuditView:
    audit = web.registry.audit
    verified, broken = audit.verify(principal)
    size = web.page_size
    if subject or action:  # both filters run in the store; the matches are paginated here
        entries = audit.entries(principal, None, subject, action or None)
        page = paginate(entries, number, size)
        chosen, number, pages, total = page.items, page.number, page.pages, page.total
    else:  # the head's sequence number is the count: read only up to this page
        total = verified
        pages = max(1, -(-total // size))
        number = min(number, pages)
        chosen = audit.entries(principal, number * size, None)[(number - 1) * size :]
    return AuditView(Page([_row(e) for e in chosen], number, pages, total), verified, broken)


def routes(web: Web) -> list[BaseRoute]:
    async def audit_page(request: Request) -> Response:
        principal = await web.principal(request)
        subject = request.query_params.get("subject", "").strip()
        action = request.query_params.get("action", "").strip()
        number = query_int(request, "page", 1)
        view = await web.call(lambda: _view(web, principal, subject or None, action, number))
        values = {"view": view, "subject": subject, "action": action}
        return web.page(request, "audit.html", values)

    return [Route(f"{UI_PREFIX}/audit", audit_page, methods=["GET"])]
