"""Every served request lands in ``request_log``, written in batches off the hot path.

Rows are read with SQLAlchemy from a connection of the test's own, as a report
or a rollout gate would; the writer flushes every quarter second, so each test
polls for its request ids instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import openai
from tests.gateway.conftest import ALIAS, MESSAGES, V1, wait_for_log


class Answered(Protocol):
    """A raw SDK response, whole or streamed."""

    @property
    def headers(self) -> Mapping[str, str]: ...


def request_id_of(raw: Answered) -> str:
    return raw.headers["x-turnout-request-id"]


def test_served_requests_are_logged_with_their_outcome(oai: openai.OpenAI, db_url: str) -> None:
    plain = oai.chat.completions.with_raw_response.create(model=ALIAS, messages=MESSAGES)
    with oai.chat.completions.with_streaming_response.create(
        model=ALIAS, messages=MESSAGES, stream=True, extra_headers={"x-turnout-key": "bob"}
    ) as streamed:
        chunks = list(streamed.parse())
    keyed = oai.chat.completions.with_raw_response.create(
        model=ALIAS, messages=MESSAGES, user="alice"
    )
    direct = oai.chat.completions.with_raw_response.create(model=V1, messages=MESSAGES)

    ids = [request_id_of(r) for r in (plain, streamed, keyed, direct)]
    rows = wait_for_log(db_url, set(ids))
    plain_row, stream_row, keyed_row, direct_row = (rows[i] for i in ids)

    usage = plain.parse().usage
    assert usage is not None
    assert plain_row["alias"] == ALIAS
    assert plain_row["version"] == V1
    assert plain_row["arm"] == "stable"
    assert plain_row["status"] == 200
    assert plain_row["error_class"] is None
    assert plain_row["stream"] is False
    assert plain_row["latency_ms"] > 0
    assert plain_row["ttft_ms"] is None
    assert (plain_row["tokens_in"], plain_row["tokens_out"]) == (
        usage.prompt_tokens,
        usage.completion_tokens,
    )
    assert plain_row["key_hash"] is None
    assert plain_row["at"].tzinfo is not None

    last = chunks[-1].usage
    assert last is not None
    assert stream_row["stream"] is True
    assert stream_row["status"] == 200
    assert stream_row["ttft_ms"] is not None
    assert 0 < stream_row["ttft_ms"] <= stream_row["latency_ms"]
    assert (stream_row["tokens_in"], stream_row["tokens_out"]) == (
        last.prompt_tokens,
        last.completion_tokens,
    )

    assert direct_row["alias"] is None
    assert direct_row["version"] == V1
    assert direct_row["arm"] == "direct"

    # The sticky key is recorded as a digest: joinable, never the raw value.
    assert stream_row["key_hash"] not in (None, "bob")
    assert keyed_row["key_hash"] not in (None, "alice")
    assert stream_row["key_hash"] != keyed_row["key_hash"]
    assert "bob" not in stream_row["key_hash"]


def test_the_same_key_hashes_alike_from_the_body_or_the_header(
    oai: openai.OpenAI, db_url: str
) -> None:
    from_body = oai.chat.completions.with_raw_response.create(
        model=ALIAS, messages=MESSAGES, user="carol"
    )
    from_header = oai.chat.completions.with_raw_response.create(
        model=ALIAS, messages=MESSAGES, extra_headers={"x-turnout-key": "carol"}
    )
    both = oai.chat.completions.with_raw_response.create(
        model=ALIAS, messages=MESSAGES, user="carol", extra_headers={"x-turnout-key": "dave"}
    )
    ids = [request_id_of(r) for r in (from_body, from_header, both)]
    rows = wait_for_log(db_url, set(ids))
    hashes = {rows[i]["key_hash"] for i in ids}
    assert len(hashes) == 1  # ``user`` wins over the header
    assert None not in hashes
