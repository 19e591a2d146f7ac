"""Shadow traffic through the real gateway: pairs are stored for streamed and
unstreamed requests, a failing candidate never touches the primary, and the
client's response is the same with and without a shadow."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from tests.gateway.conftest import (
    ALIAS,
    BROKEN_V,
    DEADLINE_S,
    V1,
    V2,
    ServeAsgi,
    sample,
    wait_until,
)

from turnout.domain.access import LOCAL_ADMIN
from turnout.domain.shadow import ShadowPair
from turnout.services.registry import Registry
from turnout.wiring import build_server_app

_CREATED = re.compile(rb'"created":\d+')


def _ask(url: str, n: int, stream: bool = False) -> httpx.Response:
    body = {
        "model": ALIAS,
        "stream": stream,
        "messages": [{"role": "user", "content": f"What is {n} + {n}?"}],
    }
    return httpx.post(f"{url}/v1/chat/completions", json=body, timeout=DEADLINE_S)


def _content(response: httpx.Response) -> str:
    if response.headers["content-type"].startswith("text/event-stream"):
        import orjson

        parts = []
        for line in response.text.splitlines():
            if line.startswith("data: {"):
                choices = orjson.loads(line[6:]).get("choices") or [{}]
                parts.append(choices[0].get("delta", {}).get("content") or "")
        return "".join(parts)
    return str(response.json()["choices"][0]["message"]["content"])


def _shadowing(registry: Registry, url: str, candidate: str) -> None:
    registry.shadow.start(LOCAL_ADMIN, ALIAS, candidate, sample=1.0)
    marker = registry.ctx.store.change_marker()
    wait_until(lambda: httpx.get(f"{url}/readyz").json()["marker"] >= marker, "the shadow")


def _pairs(registry: Registry, n: int) -> list[ShadowPair]:
    found: list[ShadowPair] = wait_until(
        lambda: (p := registry.shadow.pairs(ALIAS)) and len(p) >= n and p, f"{n} shadow pairs"
    )
    return found


def test_pairs_are_stored_for_streamed_and_unstreamed_requests(
    seeded: Registry, gateway_url: str
) -> None:
    _shadowing(seeded, gateway_url, V2)
    responses = {}
    for n in range(6):
        response = _ask(gateway_url, n, stream=n % 2 == 1)
        assert response.status_code == 200
        assert response.headers["x-turnout-version"] == V1  # the client is served V1 only
        assert response.headers["x-turnout-arm"] == "stable"
        responses[response.headers["x-turnout-request-id"]] = response
    pairs = {p.request_id: p for p in _pairs(seeded, 6)}
    assert pairs.keys() == responses.keys()
    for request_id, pair in pairs.items():
        response = responses[request_id]
        assert pair.primary.version == V1
        assert pair.candidate.version == V2
        assert pair.primary.text == _content(response)  # what the client got
        assert pair.candidate.text
        assert pair.candidate.ok
        assert pair.stream is response.headers["content-type"].startswith("text/event-stream")
        assert pair.messages[0]["content"].startswith("What is")  # type: ignore[union-attr]
        assert pair.primary.tokens_out
        assert pair.candidate.tokens_out
    streamed = [p for p in pairs.values() if p.stream]
    assert streamed
    assert all(p.candidate.ttft_ms is not None for p in streamed)
    labels = {"alias": ALIAS, "candidate": V2, "outcome": "ok"}
    assert sample(gateway_url, "turnout_shadow_requests_total", **labels) == 6.0


def test_a_failing_candidate_never_fails_the_primary(seeded: Registry, gateway_url: str) -> None:
    _shadowing(seeded, gateway_url, BROKEN_V)
    for n in range(8):
        response = _ask(gateway_url, n, stream=n % 2 == 0)
        assert response.status_code == 200
        assert "error" not in response.text
    pairs = _pairs(seeded, 8)
    assert all(p.primary.ok and not p.candidate.ok for p in pairs)
    labels = {"alias": ALIAS, "candidate": BROKEN_V, "outcome": "error"}
    assert sample(gateway_url, "turnout_shadow_requests_total", **labels) == 8.0
    readyz = httpx.get(f"{gateway_url}/readyz").json()
    assert readyz["status"] == "ok"
    assert readyz["shadow"]["sent"] == 8


@pytest.mark.parametrize("stream", [False, True], ids=["unstreamed", "streamed"])
def test_the_response_is_the_same_with_and_without_a_shadow(
    seeded: Registry, db_url: str, tmp_path: Path, serve_asgi: ServeAsgi, stream: bool
) -> None:
    """Two fresh gateways answer the same requests, one while V2 shadows the alias.

    The sim's answers depend only on its seed and its own traffic per model, so
    the bodies must match byte for byte — except ``created``, the sim's clock in
    seconds — and so must every header but the request id.
    """
    plain = serve_asgi(build_server_app(db_url, snapshot_path=tmp_path / "a.json"))
    without = [_ask(plain, n, stream) for n in range(5)]
    seeded.shadow.start(LOCAL_ADMIN, ALIAS, V2, sample=1.0)
    shadowed = serve_asgi(build_server_app(db_url, snapshot_path=tmp_path / "b.json"))
    with_shadow = [_ask(shadowed, n, stream) for n in range(5)]
    assert len(_pairs(seeded, 5)) == 5  # the shadow really ran
    for a, b in zip(without, with_shadow, strict=True):
        assert _CREATED.sub(b"", a.content) == _CREATED.sub(b"", b.content)
        strip = {"x-turnout-request-id", "date"}
        assert {k: v for k, v in a.headers.items() if k not in strip} == {
            k: v for k, v in b.headers.items() if k not in strip
        }


def test_the_queue_bound_holds_under_load_and_primaries_are_unaffected(
    seeded: Registry, db_url: str, tmp_path: Path, serve_asgi: ServeAsgi
) -> None:
    """30 concurrent requests against a candidate that takes 1.5 s, with room for 2 copies
    in flight and 4 queued: every primary answers, the overflow is dropped and counted,
    and every copy sent becomes a stored pair."""
    from concurrent.futures import ThreadPoolExecutor

    slow = "sim/chat-2025-09-01"
    seeded.versions.add(LOCAL_ADMIN, slow, {"latency_ms": 1500})
    seeded.shadow.start(LOCAL_ADMIN, ALIAS, slow, sample=1.0)
    app = build_server_app(
        db_url, snapshot_path=tmp_path / "s.json", shadow_queue=4, shadow_concurrency=2
    )
    url = serve_asgi(app)
    with ThreadPoolExecutor(30) as pool:
        statuses = list(pool.map(lambda n: _ask(url, n).status_code, range(30)))
    assert statuses == [200] * 30
    dropped = sample(
        url, "turnout_shadow_dropped_total", alias=ALIAS, candidate=slow, reason="queue_full"
    )
    assert dropped is not None
    assert dropped > 0
    shadow = httpx.get(f"{url}/readyz").json()["shadow"]
    assert shadow["queued"] <= 4
    assert shadow["in_flight"] <= 2

    def settled() -> dict[str, object] | None:
        state = httpx.get(f"{url}/readyz").json()["shadow"]
        return state if state["queued"] == 0 and state["in_flight"] == 0 else None

    wait_until(settled, "the shadow queue to drain")
    sent = sample(url, "turnout_shadow_requests_total", alias=ALIAS, candidate=slow, outcome="ok")
    assert sent is not None
    assert sent + dropped == 30
    assert len(_pairs(seeded, int(sent))) == int(sent)
