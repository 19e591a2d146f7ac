"""An alias in a rollout, through the running gateway and the official SDK.

The split is written to the store (``prod-chat``: V1 stable, V2 canary) as the
rollout service writes it, while the gateway runs; its snapshot feed picks it up
like any other alias change. Each test waits until the gateway's snapshot has
reached the store's change marker (``/readyz``), so "all stable at weight 0" is
not merely "the split has not arrived yet".

Which arm a key lands on is the shared bucketing rule (``bucket(salt, key) <
weight``): the gateway must agree with it — and so with the SDK — key by key.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import openai
import pytest
from tests.gateway.conftest import (
    ALIAS,
    DEADLINE_S,
    MESSAGES,
    V1,
    V2,
    sample,
    wait_for_log,
    wait_until,
)
from tests.support.canary import set_canary

from turnout.domain.bucketing import bucket
from turnout.services.registry import Registry

SALT = "rollout-3-salt"
USERS = [f"user-{i}" for i in range(40)]

Split = Callable[[int], None]


def snapshot_marker(base_url: str) -> int:
    marker = httpx.get(f"{base_url}/readyz", timeout=DEADLINE_S).json().get("marker")
    return int(marker) if marker is not None else -1


@pytest.fixture
def split(seeded: Registry, gateway_url: str) -> Split:
    """``split(weight)``: V2 becomes the canary at ``weight``; returns once the gateway has it."""

    def apply(weight: int) -> None:
        set_canary(seeded, ALIAS, V2, weight, salt=SALT, rollout_id=3)
        marker = seeded.ctx.store.change_marker()
        wait_until(lambda: snapshot_marker(gateway_url) >= marker, f"snapshot marker {marker}")

    return apply


def expected_arm(key: str, weight: int) -> str:
    return "canary" if bucket(SALT, key) < weight else "stable"


def ask(
    oai: openai.OpenAI, user: str | None = None, header_key: str | None = None
) -> tuple[str, str, str]:
    """One request: (arm, version header, request id); the body's model must be the version."""
    headers = {"x-turnout-key": header_key} if header_key is not None else None
    raw = oai.chat.completions.with_raw_response.create(
        model=ALIAS, messages=MESSAGES, user=user or openai.omit, extra_headers=headers
    )
    version = raw.headers["x-turnout-version"]
    assert raw.headers["x-turnout-alias"] == ALIAS
    assert raw.parse().model == version
    return raw.headers["x-turnout-arm"], version, raw.headers["x-turnout-request-id"]


def test_each_user_sticks_to_its_arm(oai: openai.OpenAI, split: Split) -> None:
    split(5_000)
    arms = {}
    for user in USERS:
        arm, version, _ = ask(oai, user=user)
        assert arm == expected_arm(user, 5_000), user  # the same answer as the SDK's
        assert version == (V2 if arm == "canary" else V1)
        arms[user] = arm
    assert set(arms.values()) == {"stable", "canary"}
    for user in USERS[:10]:  # asked again: the same arm
        assert ask(oai, user=user)[0] == arms[user]


def test_the_key_header_picks_the_arm_as_the_user_field_does(
    oai: openai.OpenAI, split: Split
) -> None:
    split(5_000)
    by_header = {key: ask(oai, header_key=key)[0] for key in USERS[:16]}
    assert by_header == {key: ask(oai, user=key)[0] for key in USERS[:16]}
    assert set(by_header.values()) == {"stable", "canary"}


def test_without_a_key_both_arms_serve(oai: openai.OpenAI, split: Split) -> None:
    split(5_000)
    assert {ask(oai)[0] for _ in range(40)} == {"stable", "canary"}


def test_the_request_log_and_metrics_record_the_arm_served(
    oai: openai.OpenAI, split: Split, db_url: str, gateway_url: str
) -> None:
    split(5_000)
    answers = [ask(oai, user=user) for user in USERS[:20]]
    with oai.chat.completions.with_streaming_response.create(
        model=ALIAS, messages=MESSAGES, stream=True, user=USERS[0]
    ) as streamed:
        stream_version = streamed.headers["x-turnout-version"]
        assert {chunk.model for chunk in streamed.parse()} == {stream_version}
        answers.append(
            (
                streamed.headers["x-turnout-arm"],
                stream_version,
                streamed.headers["x-turnout-request-id"],
            )
        )
    rows = wait_for_log(db_url, {rid for _, _, rid in answers})
    for arm, version, rid in answers:
        assert (rows[rid]["alias"], rows[rid]["arm"], rows[rid]["version"]) == (ALIAS, arm, version)
        assert rows[rid]["key_hash"] is not None
    canary_count = sum(1 for arm, _, _ in answers if arm == "canary")
    assert 0 < canary_count < len(answers)
    canary = sample(gateway_url, "turnout_requests_total", alias=ALIAS, version=V2, arm="canary")
    assert canary == canary_count


def test_weight_zero_is_all_stable_and_full_weight_all_canary(
    oai: openai.OpenAI, split: Split
) -> None:
    split(0)
    assert {ask(oai, user=user)[:2] for user in USERS[:20]} == {("stable", V1)}
    assert {ask(oai)[:2] for _ in range(5)} == {("stable", V1)}
    split(10_000)
    assert {ask(oai, user=user)[:2] for user in USERS[:20]} == {("canary", V2)}
    assert {ask(oai)[:2] for _ in range(5)} == {("canary", V2)}
