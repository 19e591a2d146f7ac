"""A client that goes away cancels the upstream call, and the request is logged as 499.

The :class:`ScriptedProvider` answers ``hang-chat`` with one chunk and then waits
forever, as a stuck upstream would, and ``stall-chat`` with nothing at all; only
cancellation can end either. The client (httpx) gives up — after the first
chunk, or by timing out before any — and its connection closes.
"""

from __future__ import annotations

import httpx
import orjson
import pytest
from tests.gateway.conftest import (
    ALIAS,
    DEADLINE_S,
    HANG,
    HANG_V,
    MESSAGES,
    STALL,
    STALL_V,
    Row,
    ScriptedProvider,
    log_rows,
    sample,
    wait_for_log,
    wait_until,
)


def test_disconnect_mid_stream_cancels_the_provider(
    scripted_url: str, scripted: ScriptedProvider, db_url: str
) -> None:
    body = {"model": HANG, "messages": MESSAGES, "stream": True}
    with (
        httpx.Client(base_url=scripted_url, timeout=DEADLINE_S) as http,
        http.stream("POST", "/v1/chat/completions", json=body) as response,
    ):
        assert response.status_code == 200
        request_id = response.headers["x-turnout-request-id"]
        lines = response.iter_lines()  # held: dropping it would close the connection
        first = next(line for line in lines if line.startswith("data: "))
        chunk = orjson.loads(first.removeprefix("data: "))
        assert chunk["choices"][0]["delta"]["content"] == "Thinking"
        assert chunk["model"] == HANG_V
        assert scripted.hang_started.wait(DEADLINE_S)
        assert not scripted.hang_closed.is_set()  # still streaming while we listen
    # leaving the block closes the half-read response: httpx drops the connection

    assert scripted.hang_closed.wait(DEADLINE_S), "the upstream stream was never closed"
    assert scripted.hang_cancelled.is_set(), "the upstream call was not cancelled"

    row = wait_for_log(db_url, {request_id})[request_id]
    assert row["status"] == 499
    assert row["error_class"] == "client_disconnected"
    assert (row["alias"], row["version"], row["stream"]) == (HANG, HANG_V, True)
    assert row["ttft_ms"] is not None
    assert row["tokens_out"] is None

    labels = {"alias": HANG, "version": HANG_V, "arm": "stable"}
    assert sample(scripted_url, "turnout_request_errors_total", **labels) == 1.0


def test_disconnect_before_any_answer_cancels_the_provider(
    scripted_url: str, scripted: ScriptedProvider, db_url: str
) -> None:
    """A streaming client that times out before the first token cancels the upstream call.

    (Unstreamed calls are deliberately not watched: see ``ChatGateway._chat``.)
    """
    with httpx.Client(base_url=scripted_url, timeout=DEADLINE_S) as http:
        for stream in (True,):
            scripted.stall_started.clear()
            scripted.stall_cancelled.clear()
            body = {"model": STALL, "messages": MESSAGES, "stream": stream}
            with pytest.raises(httpx.ReadTimeout):
                http.post("/v1/chat/completions", json=body, timeout=0.3)
            assert scripted.stall_started.is_set()
            assert scripted.stall_cancelled.wait(DEADLINE_S), f"not cancelled ({stream=})"

        def logged() -> list[Row]:
            rows = [r for r in log_rows(db_url) if r["version"] == STALL_V]
            return rows if len(rows) == 1 else []

        rows = wait_until(logged, "the 499 in the request log")
        assert [row["stream"] for row in rows] == [True]
        for row in rows:
            assert row["status"] == 499
            assert row["error_class"] == "client_disconnected"
            assert row["ttft_ms"] is None

        # and the gateway goes on serving
        answer = http.post("/v1/chat/completions", json={"model": ALIAS, "messages": MESSAGES})
        assert answer.status_code == 200
        assert "42" in answer.json()["choices"][0]["message"]["content"]
