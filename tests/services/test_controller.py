"""The controller loop: only the lock holder acts, and webhooks carry the evidence.

The webhook receiver is a real HTTP server on 127.0.0.1 (Slack-compatible body).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from tests.conftest import FakeClock
from tests.support.rollouts import ALIAS, CANARY, FAST, Traffic

from turnout.domain.access import LOCAL_ADMIN
from turnout.domain.rollouts import RolloutPlan, RolloutStatus
from turnout.services.controller import RolloutController
from turnout.services.registry import Registry
from turnout.store import SqlStore
from turnout.store.leader import leader_lock
from turnout.webhooks import HttpWebhookSender


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict[str, Any]]

    def do_POST(self) -> None:
        length = int(self.headers["content-length"])
        type(self).received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    handler = type("Receiver", (_Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()


def test_the_lock_holder_rolls_back_and_the_webhook_says_why(
    rollout_setup: Registry,
    traffic: Traffic,
    clock: FakeClock,
    store: SqlStore,
    hook: tuple[str, list[dict[str, Any]]],
) -> None:
    url, received = hook
    plan = RolloutPlan.from_dict({**FAST, "webhooks": [url]})
    rollout_setup.rollouts.start(LOCAL_ADMIN, ALIAS, CANARY, plan=plan)
    sender = HttpWebhookSender(timeout_s=2)
    leader = RolloutController(
        rollout_setup.rollouts, leader_lock(store.engine, "a:1", clock), sender, interval_s=1
    )
    follower = RolloutController(
        rollout_setup.rollouts, leader_lock(store.engine, "b:2", clock), sender, interval_s=1
    )
    try:
        changes = []
        for _ in range(100):
            traffic.serve(500, 0.02, 0.30)
            clock.advance(5)
            changes += leader.run_once()
            assert follower.run_once() == []
            assert not follower.leading
            if changes:
                break
        assert leader.leading
        assert rollout_setup.rollouts.latest(ALIAS).status is RolloutStatus.ROLLED_BACK
        sender.flush()
    finally:
        sender.close()
        leader.stop()
        follower.stop()
    [body] = received
    assert body["text"].startswith(":rotating_light: turnout rollout")
    assert "automatic rollback" in body["text"]
    assert body["turnout"]["event"] == "rollout.rollback"
    assert any(item["verdict"] == "harm" for item in body["turnout"]["evidence"])
