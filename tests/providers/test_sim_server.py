"""End to end: the sim server on a real 127.0.0.1 port, called by the official SDK and httpx."""

from __future__ import annotations

import httpx
import openai
import orjson
import pytest
from openai.types.chat import ChatCompletionMessageParam

from turnout.errors import InvalidInput
from turnout.providers.sim_server import build_sim_app

QUESTION: list[ChatCompletionMessageParam] = [{"role": "user", "content": "What is 17 + 25?"}]


def sdk(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key="sim", max_retries=0, timeout=10)


def test_sdk_non_streaming(sim_url: str) -> None:
    with sdk(sim_url) as client:
        completion = client.chat.completions.create(model="chat-good", messages=QUESTION)
    assert completion.choices[0].message.content == "The answer is 42."
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == "chat-good"
    assert completion.id.startswith("chatcmpl-sim-")
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 5
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + 5


def test_sdk_streaming_reassembles_the_answer(sim_url: str) -> None:
    with (
        sdk(sim_url) as client,
        client.chat.completions.create(model="chat-good", messages=QUESTION, stream=True) as stream,
    ):
        chunks = list(stream)
    assert len(chunks) == 5
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert text == "The answer is 42."
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 5


@pytest.mark.anyio
async def test_async_sdk_streams_an_unknown_model_with_defaults(sim_url: str) -> None:
    async with openai.AsyncOpenAI(base_url=f"{sim_url}/v1", api_key="sim", max_retries=0) as client:
        stream = await client.chat.completions.create(
            model="anything-2025-06-01",
            messages=[{"role": "user", "content": "Describe a turnout"}],
            stream=True,
        )
        async with stream:
            text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream])
    assert "anything-2025-06-01" in text
    assert "a simulated model" in text


def test_simulated_failure_is_an_openai_500(sim_url: str) -> None:
    with sdk(sim_url) as client:
        with pytest.raises(openai.InternalServerError) as caught:
            client.chat.completions.create(model="chat-broken", messages=QUESTION)
        assert caught.value.status_code == 500
        assert isinstance(caught.value.body, dict)
        assert caught.value.body["type"] == "server_error"
        assert caught.value.body["code"] == "provider_error"
        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(model="chat-broken", messages=QUESTION, stream=True)


def test_request_fields_override_params(sim_url: str) -> None:
    with sdk(sim_url) as client:
        completion = client.chat.completions.create(
            model="chat-good",
            messages=[{"role": "user", "content": "Tell me a long story about trains"}],
            max_tokens=3,
        )
        assert completion.choices[0].finish_reason == "length"
        with pytest.raises(openai.BadRequestError, match="quality=5 must be between 0 and 1"):
            client.chat.completions.create(
                model="chat-good", messages=QUESTION, extra_body={"quality": 5}
            )


def test_models_are_listed(sim_url: str) -> None:
    with sdk(sim_url) as client:
        ids = [model.id for model in client.models.list()]
    assert ids == ["chat-broken", "chat-good"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (orjson.dumps({"model": "m"}), "'messages' must be a non-empty array"),
        (orjson.dumps({"messages": QUESTION}), "'model' must be a non-empty string"),
        (orjson.dumps({"model": "m", "messages": QUESTION, "stream": "y"}), "'stream' must be"),
    ],
    ids=["bad-json", "not-an-object", "no-messages", "no-model", "bad-stream"],
)
def test_bad_input_is_a_400_in_openai_shape(sim_url: str, content: bytes, message: str) -> None:
    with httpx.Client(base_url=sim_url) as client:
        response = client.post(
            "/v1/chat/completions", content=content, headers={"content-type": "application/json"}
        )
    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error) == {"message", "type", "code"}
    assert message in error["message"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "invalid_input"


def test_raw_sse_framing_and_unknown_routes(sim_url: str) -> None:
    body = {"model": "m", "messages": QUESTION, "stream": True}
    with httpx.Client(base_url=sim_url) as client:
        response = client.post("/v1/chat/completions", json=body)
        missing = client.get("/v1/nothing")
        wrong_method = client.get("/v1/chat/completions")
        health = client.get("/healthz")
    assert response.headers["content-type"].startswith("text/event-stream")
    events = response.text.split("\n\n")
    assert events[-2:] == ["data: [DONE]", ""]
    assert all(event.startswith("data: {") for event in events[:-2])
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "invalid_request_error"
    assert wrong_method.status_code == 405
    assert health.json() == {"status": "ok"}


def test_bad_params_refuse_to_build_the_app() -> None:
    with pytest.raises(InvalidInput, match="latency_ms=-1 must not be negative"):
        build_sim_app(models={"m": {"latency_ms": -1}}, default_params={}, seed=0)
    with pytest.raises(InvalidInput, match="error_rate"):
        build_sim_app(models={}, default_params={"error_rate": 1.5}, seed=0)


@pytest.mark.anyio
async def test_in_process_asgi_transport_serves_without_a_port() -> None:
    app = build_sim_app(models={}, default_params={}, seed=1)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
        response = await client.post(
            "/v1/chat/completions", json={"model": "m", "messages": QUESTION}
        )
    assert response.json()["choices"][0]["message"]["content"] == "The answer is 42."
