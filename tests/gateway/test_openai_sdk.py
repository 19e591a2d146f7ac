"""The gateway through the official ``openai`` SDK: what application code actually runs."""

from __future__ import annotations

import httpx
import openai
import pytest
from tests.gateway.conftest import ALIAS, BROKEN, CUT, HANG, MESSAGES, STALL, V1


def test_completion_answers_and_names_the_pinned_version(oai: openai.OpenAI) -> None:
    raw = oai.chat.completions.with_raw_response.create(model=ALIAS, messages=MESSAGES)
    completion = raw.parse()

    assert raw.status_code == 200
    assert "42" in (completion.choices[0].message.content or "")
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == V1
    assert completion.usage is not None
    assert completion.usage.prompt_tokens > 0
    assert completion.usage.completion_tokens > 0
    assert raw.headers["x-turnout-alias"] == ALIAS
    assert raw.headers["x-turnout-version"] == V1
    assert raw.headers["x-turnout-arm"] == "stable"
    assert raw.headers["x-turnout-request-id"].startswith("req_")

    more = [
        oai.chat.completions.with_raw_response.create(model=ALIAS, messages=MESSAGES)
        for _ in range(4)
    ]
    ids = {r.headers["x-turnout-request-id"] for r in [raw, *more]}
    assert len(ids) == 5  # one id per request


def test_streaming_answers_chunk_by_chunk(oai: openai.OpenAI) -> None:
    with oai.chat.completions.with_streaming_response.create(
        model=ALIAS, messages=MESSAGES, stream=True
    ) as raw:
        assert raw.headers["content-type"].startswith("text/event-stream")
        assert raw.headers["cache-control"] == "no-cache"
        assert raw.headers["x-accel-buffering"] == "no"  # proxies must not buffer tokens
        assert raw.headers["x-turnout-alias"] == ALIAS
        assert raw.headers["x-turnout-version"] == V1
        assert raw.headers["x-turnout-arm"] == "stable"
        assert raw.headers["x-turnout-request-id"].startswith("req_")
        chunks = list(raw.parse())

    assert len(chunks) > 2
    assert {chunk.model for chunk in chunks} == {V1}
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert "42" in text
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0

    # The plain iterator most applications use.
    with oai.chat.completions.create(model=ALIAS, messages=MESSAGES, stream=True) as stream:
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert "42" in text


def test_a_pinned_version_id_is_served_directly(oai: openai.OpenAI) -> None:
    raw = oai.chat.completions.with_raw_response.create(model=V1, messages=MESSAGES)
    completion = raw.parse()

    assert completion.model == V1
    assert "42" in (completion.choices[0].message.content or "")
    assert raw.headers["x-turnout-alias"] == "-"
    assert raw.headers["x-turnout-version"] == V1
    assert raw.headers["x-turnout-request-id"].startswith("req_")

    with oai.chat.completions.create(model=V1, messages=MESSAGES, stream=True) as stream:
        assert {chunk.model for chunk in stream} == {V1}


def test_floating_ids_and_unknown_aliases_are_refused(oai: openai.OpenAI, gateway_url: str) -> None:
    for stream in (False, True):
        with pytest.raises(openai.BadRequestError) as floating:
            oai.chat.completions.create(model="openai/gpt-4o", messages=MESSAGES, stream=stream)
        error = floating.value
        assert error.status_code == 400
        assert error.code == "floating_version"
        assert "gpt-4o" in error.message
        assert isinstance(error.body, dict)
        suggestions = error.body["suggestions"]
        assert suggestions
        assert all(s.startswith("openai/gpt-4o-") for s in suggestions)
        assert error.response.headers["x-turnout-request-id"].startswith("req_")

    with pytest.raises(openai.NotFoundError) as unknown:
        oai.chat.completions.create(model="no-such-alias", messages=MESSAGES)
    missing = unknown.value
    assert missing.status_code == 404
    assert missing.code == "not_found"
    assert "no-such-alias" in missing.message
    assert ALIAS in missing.message  # says which aliases exist
    assert missing.response.headers["x-turnout-request-id"].startswith("req_")

    wrong_method = httpx.get(f"{gateway_url}/v1/chat/completions")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"


def test_models_lists_the_aliases(oai: openai.OpenAI) -> None:
    models = oai.models.list()
    assert sorted(model.id for model in models) == sorted([ALIAS, BROKEN, CUT, HANG, STALL])
    assert {model.owned_by for model in models} == {"turnout"}
    assert {model.object for model in models} == {"model"}
