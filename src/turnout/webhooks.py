"""Posting rollout events to webhooks (Slack-compatible JSON), off the controller's path.

A bounded queue and one sender thread: a slow or dead webhook endpoint delays
nobody, and when the queue is full the event is dropped and counted (the
decision itself is already in the store, the alias history and the audit log).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Mapping

import httpx

__all__ = ["HttpWebhookSender"]

log = logging.getLogger(__name__)

_STOP: tuple[str, Mapping[str, object]] = ("", {})


class HttpWebhookSender:
    def __init__(self, timeout_s: float = 5.0, capacity: int = 1000) -> None:
        self._queue: queue.Queue[tuple[str, Mapping[str, object]]] = queue.Queue(capacity)
        self._timeout = timeout_s
        self._thread: threading.Thread | None = None
        self.sent = 0
        self.failed = 0
        self.dropped = 0

    def send(self, url: str, body: Mapping[str, object]) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)
            self._thread.start()
        try:
            self._queue.put_nowait((url, body))
        except queue.Full:
            self.dropped += 1

    def _run(self) -> None:
        with httpx.Client(timeout=self._timeout) as client:
            while True:
                url, body = self._queue.get()
                if not url:
                    return
                try:
                    response = client.post(url, json=dict(body))
                    response.raise_for_status()
                    self.sent += 1
                except httpx.HTTPError as exc:
                    self.failed += 1
                    # the URL may carry a token (Slack's do): log the host only
                    host = httpx.URL(url).host
                    log.warning("webhook to %s failed: %s", host, type(exc).__name__)
                finally:
                    self._queue.task_done()

    def flush(self, timeout_s: float = 10.0) -> None:
        """Wait until queued events were posted (tests, shutdown)."""
        done = threading.Event()

        def waiter() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=waiter, daemon=True).start()
        done.wait(timeout_s)

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(self._timeout + 1)
            self._thread = None
