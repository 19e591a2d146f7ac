"""Deprecation warnings over the registry, and their webhook notices at 90/30/7 days.

:meth:`DeprecationService.findings` is what ``turnout deprecations``, the admin
API and ``alias set`` show; :meth:`DeprecationService.for_desired` is what
``plan`` shows before anything is written. :class:`DeprecationNotifier` runs
inside the rollout controller's loop (which already has exactly one leader),
at most once an hour, and sends one Slack-compatible message per version per
newly crossed threshold. Whether a notice is due is decided and recorded in the
same write transaction (``uow.catalog.claim_notice``), so two controllers, or one
restarted, never send the same notice twice; the message is posted only after
that transaction commits (at most once: a failed post is not retried).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol

from turnout.domain.access import Operation, Principal, authorize
from turnout.domain.aliases import AliasTarget
from turnout.domain.deprecations import (
    DEFAULT_WINDOW_DAYS,
    NOTICE_THRESHOLDS,
    Finding,
    crossed_thresholds,
    find_deprecations,
)
from turnout.domain.plan import DesiredState
from turnout.errors import InvalidInput, TurnoutError
from turnout.ports import UnitOfWork
from turnout.services.catalog import CatalogService
from turnout.services.context import ServiceContext

__all__ = ["DeprecationNotifier", "DeprecationService", "NoticeSender", "notice_body"]

log = logging.getLogger(__name__)


class DeprecationService:
    def __init__(self, ctx: ServiceContext, catalog: CatalogService) -> None:
        self._ctx = ctx
        self._catalog = catalog

    def findings(
        self, principal: Principal, within_days: int = DEFAULT_WINDOW_DAYS
    ) -> list[Finding]:
        """Versions any alias uses that retire within ``within_days`` (or already have)."""
        authorize(principal, Operation.READ)
        _check_window(within_days)
        with self._ctx.store.unit_of_work() as uow:
            return self.findings_in(uow, within_days)

    def findings_in(self, uow: UnitOfWork, within_days: int) -> list[Finding]:
        targets = {alias.name: alias.target for alias in uow.aliases.all()}
        own = {v.id: v.retirement_date for v in uow.versions.all()}
        catalog = self._catalog.effective_in(uow)
        return find_deprecations(targets, own, catalog, self._ctx.today(), within_days)

    def for_desired(
        self, principal: Principal, desired: DesiredState, within_days: int = DEFAULT_WINDOW_DAYS
    ) -> list[Finding]:
        """What :meth:`findings` would say once ``desired`` (a config file) is applied.

        Aliases the file does not declare keep their targets; shadows the file
        leaves alone (``shadows`` absent) are kept too.
        """
        authorize(principal, Operation.READ)
        _check_window(within_days)
        with self._ctx.store.unit_of_work() as uow:
            current = {alias.name: alias.target for alias in uow.aliases.all()}
            own = {v.id: v.retirement_date for v in uow.versions.all()}
            catalog = self._catalog.effective_in(uow)
        targets: dict[str, AliasTarget] = dict(current)
        for alias in desired.aliases:
            before = current.get(alias.name)
            shadows = alias.shadows if alias.shadows is not None else ()
            if alias.shadows is None and before is not None:
                shadows = before.shadows
            targets[alias.name] = replace(alias.target, shadows=shadows)
        # versions the file adds are not registered yet: the catalog's date applies
        return find_deprecations(targets, own, catalog, self._ctx.today(), within_days)


def _check_window(days: int) -> None:
    if days < 0:
        raise InvalidInput(f"the window must be 0 or more days, not {days}")


class NoticeSender(Protocol):
    def send(self, url: str, body: Mapping[str, object]) -> None:
        """Queue one POST; never blocks the caller, never raises."""


def notice_body(finding: Finding, threshold: int) -> dict[str, object]:
    """A Slack-compatible body (``text``) with the finding as structured fields."""
    icon = ":rotating_light:" if finding.days_left <= 7 else ":warning:"
    return {
        "text": f"{icon} turnout: {finding.describe()}",
        "turnout": {"event": "version.retiring", "threshold_days": threshold, **finding.to_dict()},
    }


class DeprecationNotifier:
    """Sends webhook notices when versions in use cross 90, 30 and 7 days to retirement."""

    def __init__(
        self,
        service: DeprecationService,
        ctx: ServiceContext,
        urls: Sequence[str],
        sender: NoticeSender,
        every: timedelta = timedelta(hours=1),
        thresholds: Sequence[int] = NOTICE_THRESHOLDS,
    ) -> None:
        self._service = service
        self._ctx = ctx
        self._urls = tuple(urls)
        self._sender = sender
        self._every = every
        self._thresholds = tuple(thresholds)
        self._last: datetime | None = None

    def run_if_due(self) -> int:
        """Check if the last check is an interval old (by the service clock); notices sent."""
        now = self._ctx.now()
        if not self._urls or (self._last is not None and now - self._last < self._every):
            return 0
        self._last = now
        try:
            return self.check()
        except TurnoutError as exc:  # the store went away: try again at the next interval
            log.warning("deprecation notices: %s", exc.message)
            return 0

    def check(self) -> int:
        """Claim and send every notice due now; return how many messages were sent."""
        widest = max(self._thresholds, default=0)
        due: list[tuple[Finding, int]] = []
        with self._ctx.store.unit_of_work(write=True) as uow:
            now = self._ctx.now()
            for finding in self._service.findings_in(uow, widest):
                claimed = [
                    threshold
                    for threshold in crossed_thresholds(finding.days_left, self._thresholds)
                    if uow.catalog.claim_notice(finding.version, threshold, finding.retires, now)
                ]
                if claimed:  # first seen at 20 days: one message (30), not two (90 and 30)
                    due.append((finding, min(claimed)))
        for finding, threshold in due:
            body = notice_body(finding, threshold)
            for url in self._urls:
                self._sender.send(url, body)
        return len(due)
