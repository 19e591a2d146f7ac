"""Online scorers during a rollout: the gateway scores both arms' answers and the
scores land in the feedback table next to the request log, for the quality gate."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import create_engine, select
from tests.gateway.conftest import ALIAS, DEADLINE_S, wait_until
from tests.support.canary import set_canary

from turnout.domain.access import LOCAL_ADMIN
from turnout.services.registry import Registry
from turnout.store.schema import feedback, request_log

WRONG = "sim/chat-2025-07-01"  # answers arithmetic wrong every time


def _ask(url: str, user: str, stream: bool) -> httpx.Response:
    body = {
        "model": ALIAS,
        "user": user,
        "stream": stream,
        "messages": [{"role": "user", "content": "What is 17 + 25?"}],
    }
    return httpx.post(f"{url}/v1/chat/completions", json=body, timeout=DEADLINE_S)


def _scores(db_url: str) -> dict[str, list[tuple[str, float]]]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(request_log.c.arm, feedback.c.source, feedback.c.score).join(
                    feedback, feedback.c.request_id == request_log.c.request_id
                )
            ).all()
    finally:
        engine.dispose()
    found: dict[str, list[tuple[str, float]]] = {}
    for arm, source, score in rows:
        found.setdefault(arm, []).append((source, score))
    return found


@pytest.mark.parametrize("stream", [False, True], ids=["unstreamed", "streamed"])
def test_both_arms_are_scored_and_the_scores_feed_quality(
    seeded: Registry, gateway_url: str, db_url: str, stream: bool
) -> None:
    seeded.versions.add(LOCAL_ADMIN, WRONG, {"quality": 0.0})
    set_canary(seeded, ALIAS, WRONG, 5000, salt="s", rollout_id=9, scorers=("arithmetic",))
    marker = seeded.ctx.store.change_marker()
    wait_until(lambda: httpx.get(f"{gateway_url}/readyz").json()["marker"] >= marker, "the split")
    arms = [_ask(gateway_url, f"u{i}", stream).headers["x-turnout-arm"] for i in range(30)]
    assert set(arms) == {"stable", "canary"}
    metrics = httpx.get(f"{gateway_url}/metrics").text
    assert 'turnout_rollout_canary_percent{alias="prod-chat"} 50.0' in metrics

    def all_scored() -> dict[str, list[tuple[str, float]]] | None:
        found = _scores(db_url)
        return found if sum(map(len, found.values())) == 30 else None

    scores = wait_until(all_scored, "30 scores")
    assert {s for s, _ in scores["stable"] + scores["canary"]} == {"scorer:arithmetic"}
    assert {v for _, v in scores["stable"]} == {1.0}  # V1 answers right (quality 1.0)
    assert {v for _, v in scores["canary"]} == {0.0}  # WRONG never does


def test_no_rollout_no_scoring(seeded: Registry, gateway_url: str, db_url: str) -> None:
    assert _ask(gateway_url, "u1", False).status_code == 200
    wait_until(lambda: _row_count(db_url) >= 1, "the request logged")
    assert _scores(db_url) == {}


def _row_count(db_url: str) -> int:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return len(conn.execute(select(request_log.c.id)).all())
    finally:
        engine.dispose()
