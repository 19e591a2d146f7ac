"""The rollout controller: look at every active rollout every few seconds.

It runs inside ``turnout serve`` (a daemon thread) or alone (``turnout
controller``). With many replicas only the holder of the leader lock looks;
the others wait and take over within a look of the holder going away. All the
controller's state is in the store (the rollout rows), so restarting any or all
processes mid-step loses nothing: the next look re-reads and carries on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Protocol

from turnout.domain.rollouts import Transition, TransitionKind
from turnout.errors import TurnoutError
from turnout.ports import LeaderLock
from turnout.services.deprecations import DeprecationNotifier
from turnout.services.rollouts import RolloutService

__all__ = ["ProbeSchedule", "RolloutController", "WebhookSender", "webhook_body"]

log = logging.getLogger(__name__)

_NOTIFY = frozenset(
    {
        TransitionKind.ROLLBACK,
        TransitionKind.COMPLETE,
        TransitionKind.ADVANCE,
        TransitionKind.STALL,
        TransitionKind.AWAIT_APPROVAL,
    }
)


class WebhookSender(Protocol):
    def send(self, url: str, body: Mapping[str, object]) -> None:
        """Queue one POST; never blocks the caller, never raises."""


def webhook_body(transition: Transition) -> dict[str, object]:
    """A Slack-compatible body (``text``) with the details as structured fields."""
    rollout = transition.rollout
    icon = {
        TransitionKind.ROLLBACK: ":rotating_light:",
        TransitionKind.COMPLETE: ":white_check_mark:",
        TransitionKind.STALL: ":warning:",
        TransitionKind.AWAIT_APPROVAL: ":raised_hand:",
    }.get(transition.kind, ":arrow_forward:")
    text = (
        f"{icon} turnout rollout {rollout.id} on `{rollout.alias}` "
        f"({rollout.stable} -> {rollout.candidate}): {transition.message}"
    )
    return {
        "text": text,
        "turnout": {
            "event": f"rollout.{transition.kind.value}",
            "rollout": rollout.id,
            "alias": rollout.alias,
            "stable": str(rollout.stable),
            "candidate": str(rollout.candidate),
            "status": rollout.status.value,
            "weight_pct": rollout.weight / 100,
            "evidence": [dict(item) for item in rollout.evidence],
        },
    }


class ProbeSchedule(Protocol):
    """Active health probes (:class:`turnout.services.probes.ProbeRunner`)."""

    def run_if_due(self) -> object: ...


class RolloutController:
    def __init__(
        self,
        service: RolloutService,
        lock: LeaderLock,
        webhooks: WebhookSender | None = None,
        interval_s: float = 2.0,
        deprecations: DeprecationNotifier | None = None,
        probes: ProbeSchedule | None = None,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self._deprecations = deprecations  # checked by the leader, at most once an hour
        self._probes = probes  # active health probes, run by the leader when due
        self._service = service
        self._lock = lock
        self._webhooks = webhooks
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.leading = False
        self.looks = 0
        self.last_error: str | None = None

    def run_once(self) -> list[Transition]:
        """One look if this process leads; the transitions applied."""
        self.leading = self._lock.acquire()
        if not self.leading:
            return []
        if self._deprecations is not None:
            self._deprecations.run_if_due()  # never raises for a store outage
        if self._probes is not None:
            self._probes.run_if_due()  # nor do the probes
        try:
            changes = self._service.tick()
        except TurnoutError as exc:  # the store went away mid-look: try again next time
            self.last_error = exc.message
            log.warning("rollout controller: %s", exc.message)
            return []
        self.looks += 1
        self.last_error = None
        for transition in changes:
            log.info(
                "rollout %s on %s: %s",
                transition.rollout.id,
                transition.rollout.alias,
                transition.message,
            )
            self._notify(transition)
        return changes

    def _notify(self, transition: Transition) -> None:
        if self._webhooks is None or transition.kind not in _NOTIFY:
            return
        body = webhook_body(transition)
        for url in transition.rollout.plan.webhooks:
            self._webhooks.send(url, body)

    def run_forever(self) -> None:
        """Look every ``interval_s`` until :meth:`stop` (the foreground command)."""
        try:
            while not self._stop.is_set():
                self.run_once()
                self._stop.wait(self._interval)
        finally:
            self._lock.release()

    def start(self) -> None:
        """Run in a daemon thread (inside ``turnout serve``)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self.run_forever, name="rollout-controller", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread (which releases the lock) or, if none runs, release it here."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
        else:
            self._lock.release()
