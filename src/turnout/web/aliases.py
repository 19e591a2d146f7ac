"""The aliases pages: the paginated list with health, one alias's history, roll back.

The list reads every alias and one health report (the store aggregates the
request log per version), then renders one page of rows: one query for the
aliases and one aggregate for the traffic, whatever the page, so 1,000 aliases
cost no more round trips than ten. The table refreshes itself through htmx
(a fragment of the same route), so breaker states stay current.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from turnout.domain.access import Operation, Principal, authorize
from turnout.domain.aliases import Alias, AliasRevision, pick_rollback, validate_alias_name
from turnout.errors import InvalidInput, TurnoutError
from turnout.web.render import Page, Web, form_fields, paginate, query_int
from turnout.web.session import CSRF_FIELD, UI_PREFIX, check_csrf
from turnout.web.views import (
    AliasRow,
    RevisionRow,
    alias_row,
    may_change_alias,
    revision_row,
    uses_by_version,
)

__all__ = ["AliasDetail", "routes"]


@dataclass(frozen=True, slots=True)
class AliasDetail:
    """One alias as its page shows it, and what a rollback would restore."""

    row: AliasRow
    target: str
    history: tuple[RevisionRow, ...]  # newest first
    may_roll_back: bool
    restores: RevisionRow | None  # the revision a rollback restores, if there is one
    no_rollback: str | None  # why there is nothing to roll back to


def _list(web: Web, principal: Principal, query: str, number: int) -> Page[AliasRow]:
    authorize(principal, Operation.READ)
    aliases = web.registry.aliases.all()
    if query:
        aliases = [alias for alias in aliases if query in alias.name]
    page = paginate(aliases, number, web.page_size)
    uses = uses_by_version(web.registry.health.report())
    rows = [alias_row(alias, uses) for alias in page.items]
    return Page(rows, page.number, page.pages, page.total)


def _detail(web: Web, principal: Principal, name: str) -> AliasDetail:
    authorize(principal, Operation.READ)
    alias: Alias = web.registry.aliases.get(name)
    history: list[AliasRevision] = web.registry.aliases.history(name)
    uses = uses_by_version(web.registry.health.report())
    restores: RevisionRow | None = None
    no_rollback: str | None = None
    try:
        restores = revision_row(pick_rollback(history))
    except TurnoutError as exc:
        no_rollback = exc.message
    return AliasDetail(
        alias_row(alias, uses),
        alias.target.describe(),
        tuple(revision_row(rev) for rev in reversed(history)),
        may_change_alias(principal, alias),
        restores,
        no_rollback,
    )


def _form_int(value: object, name: str) -> int:
    if not isinstance(value, str) or not value.strip().isdigit():
        raise InvalidInput(f"form field {name!r} must be a revision number")
    return int(value)


def routes(web: Web) -> list[BaseRoute]:
    async def list_page(request: Request) -> Response:
        principal = await web.principal(request)
        query = request.query_params.get("q", "").strip()
        number = query_int(request, "page", 1)
        page = await web.call(lambda: _list(web, principal, query, number))
        values = {"page": page, "q": query}
        if request.headers.get("hx-request") == "true":  # the live table only
            return web.page(request, "aliases_table.html", values)
        return web.page(request, "aliases.html", values)

    async def detail_page(request: Request) -> Response:
        principal = await web.principal(request)
        name = validate_alias_name(request.path_params["name"])
        detail = await web.call(lambda: _detail(web, principal, name))
        restored = request.query_params.get("restored")
        values = {
            "alias": detail,
            "restored": restored if restored and restored.isdigit() else None,
        }
        return web.page(request, "alias.html", values)

    async def rollback(request: Request) -> Response:
        principal = await web.principal(request)
        name = validate_alias_name(request.path_params["name"])
        data = await form_fields(request)
        check_csrf(request, data.get(CSRF_FIELD))  # before anything is read or written
        to = _form_int(data.get("to"), "to")
        expected = _form_int(data.get("expected_revision"), "expected_revision")
        reason = data.get("reason")
        text = reason.strip() if isinstance(reason, str) and reason.strip() else None
        change = await web.call(
            lambda: web.registry.aliases.rollback(principal, name, to, text, expected)
        )
        target = f"{UI_PREFIX}/aliases/{name}?restored={change.revision.revision}"
        return RedirectResponse(target, status_code=303)

    return [
        Route(f"{UI_PREFIX}/aliases", list_page, methods=["GET"]),
        Route(f"{UI_PREFIX}/aliases/{{name}}", detail_page, methods=["GET"]),
        Route(f"{UI_PREFIX}/aliases/{{name}}/rollback", rollback, methods=["POST"]),
    ]
