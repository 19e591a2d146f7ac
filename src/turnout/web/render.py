"""What every dashboard page shares: the template environment, pagination, the frame.

Templates are autoescaped Jinja2 loaded from the package (no file paths, so an
installed wheel serves the same pages as a checkout). :meth:`Web.page` adds what
the frame needs (who is signed in, the CSRF token, the navigation) so a route
hands over only its own data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar
from urllib.parse import parse_qsl

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse

from turnout.domain.access import Principal
from turnout.errors import InvalidInput
from turnout.services.registry import Registry
from turnout.web.session import CSRF_FIELD, UI_PREFIX, session_principal

__all__ = ["NAV", "Page", "Web", "build_environment", "form_fields", "paginate", "query_int"]

T = TypeVar("T")

NAV: tuple[tuple[str, str], ...] = (
    ("aliases", "Aliases"),
    ("rollouts", "Rollouts"),
    ("shadow", "Shadow"),
    ("versions", "Versions"),
    ("deprecations", "Deprecations"),
    ("audit", "Audit"),
)
"""(path under /ui, label) of every page in the top navigation, in order."""


def _when(value: datetime | None) -> str:
    """Times in the dashboard read like the CLI's: UTC, to the second."""
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else "-"


def build_environment() -> Environment:
    """The template environment: autoescape on for every template, undefined is an error."""
    env = Environment(
        loader=PackageLoader("turnout.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    return env


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list: its items, which page it is, and how many there are."""

    items: Sequence[T]
    number: int
    pages: int
    total: int

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def paginate(items: Sequence[T], number: int, size: int) -> Page[T]:
    """Slice ``items`` to page ``number`` (1-based); past the end shows the last page."""
    pages = max(1, -(-len(items) // size))
    number = min(max(1, number), pages)
    start = (number - 1) * size
    return Page(items[start : start + size], number, pages, len(items))


def query_int(request: Request, name: str, default: int, least: int = 1) -> int:
    """An integer query parameter (``?page=2``); anything else is a 400, not a crash."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(
            f"query parameter {name!r} must be a whole number, not {raw!r}"
        ) from None
    if value < least:
        raise InvalidInput(f"query parameter {name!r} must be {least} or more")
    return value


_FORM_LIMIT = 64 * 1024  # the dashboard's forms carry a token, a reason, a few numbers


async def form_fields(request: Request) -> dict[str, str]:
    """The fields of a URL-encoded form (the only kind the dashboard posts).

    Parsed here rather than with python-multipart: one content type, bounded size,
    and no dependency for it. A repeated field keeps its first value; a body of any
    other type has no fields.
    """
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return {}  # no fields, so no CSRF token: any other body is refused as forged (403)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _FORM_LIMIT:
            raise InvalidInput("form too large")
    fields: dict[str, str] = {}
    for key, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        fields.setdefault(key, value)
    return fields


@dataclass(frozen=True, slots=True)
class Web:
    """The dashboard's dependencies, handed to every route module."""

    registry: Registry
    env: Environment
    page_size: int = 50

    async def principal(self, request: Request) -> Principal:
        """The signed-in principal (sets the CSRF token for the page's forms)."""
        return await session_principal(request, self.registry.tokens)

    async def call(self, fn: Callable[[], T]) -> T:
        """Run a blocking registry call off the event loop."""
        return await run_in_threadpool(fn)

    def page(
        self,
        request: Request,
        template: str,
        values: Mapping[str, object],
        status: int = 200,
    ) -> HTMLResponse:
        """Render ``template`` inside the frame (navigation, who is signed in)."""
        principal = getattr(request.state, "principal", None)
        context: dict[str, object] = {
            "ui": UI_PREFIX,
            "nav": NAV,
            "principal": principal if isinstance(principal, Principal) else None,
            "csrf": getattr(request.state, "csrf", ""),
            "csrf_field": CSRF_FIELD,
            "path": request.url.path,
            **values,
        }
        html = self.env.get_template(template).render(context)
        return HTMLResponse(html, status_code=status, headers={"cache-control": "no-store"})
