"""``POST /v1/feedback``: a score for a served request, stored, or refused whole.

Good and bad requests go to the real ``turnout serve`` app (``gateway_url``) on
SQLite and PostgreSQL; the ``feedback`` table is read back with SQLAlchemy from
a connection of the test's own. The outage test cuts the store away for real
(a :class:`FlakyStore` on SQLite, a TCP forwarder in front of PostgreSQL) under
the endpoint itself, served in-process.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import openai
import orjson
import pytest
from sqlalchemy import create_engine, make_url, select
from tests.conftest import FakeClock
from tests.gateway.conftest import ALIAS, DEADLINE_S, MESSAGES, sample, wait_for_log
from tests.support.flaky_store import FlakyStore
from tests.support.tcp_proxy import TcpProxy

from turnout.errors import InvalidInput
from turnout.gateway.feedback import Feedback, FeedbackEndpoint, parse_feedback
from turnout.gateway.metrics import GatewayMetrics
from turnout.ports import RegistryStore
from turnout.store import open_store
from turnout.store.schema import feedback as feedback_table

RID = "req_019412345678abcdef012345"  # well formed; never served (feedback may come first)
Row = dict[str, Any]


def feedback_rows(db_url: str) -> list[Row]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            query = select(feedback_table).order_by(feedback_table.c.id)
            return [dict(row) for row in conn.execute(query).mappings()]
    finally:
        engine.dispose()


@pytest.fixture
def http(gateway_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway_url, timeout=DEADLINE_S) as client:
        yield client


def post(http: httpx.Client, body: bytes) -> httpx.Response:
    return http.post("/v1/feedback", content=body, headers={"content-type": "application/json"})


def assert_openai_error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code
    assert error["type"] == ("invalid_request_error" if status < 500 else "server_error")
    assert error["message"]
    return str(error["message"])


# --- accepted ---------------------------------------------------------------------------------


def test_a_score_for_a_served_request_is_stored(
    http: httpx.Client, oai: openai.OpenAI, db_url: str, gateway_url: str
) -> None:
    raw = oai.chat.completions.with_raw_response.create(model=ALIAS, messages=MESSAGES)
    request_id = raw.headers["x-turnout-request-id"]
    before = datetime.now(UTC)

    answer = post(http, orjson.dumps({"request_id": request_id, "score": 0.8, "source": "thumbs"}))

    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "object": "feedback",
        "request_id": request_id,
        "score": 0.8,
        "source": "thumbs",
    }
    [row] = feedback_rows(db_url)
    assert (row["request_id"], row["score"], row["source"]) == (request_id, 0.8, "thumbs")
    assert before <= row["at"] <= datetime.now(UTC)
    assert wait_for_log(db_url, {request_id})[request_id]["alias"] == ALIAS  # joinable on the id
    assert sample(gateway_url, "turnout_feedback_total", source="thumbs") == 1


def test_booleans_integers_default_source_and_unlogged_ids_are_accepted(
    http: httpx.Client, db_url: str, gateway_url: str
) -> None:
    bodies: list[dict[str, object]] = [
        {"request_id": RID, "score": True},
        {"request_id": RID, "score": False, "source": "judge:gpt"},
        {"request_id": RID, "score": 1},
        {"request_id": RID, "score": 0},
    ]
    for body in bodies:
        assert post(http, orjson.dumps(body)).status_code == 200, body
    stored = [(row["request_id"], row["score"], row["source"]) for row in feedback_rows(db_url)]
    assert stored == [
        (RID, 1.0, "user"),
        (RID, 0.0, "judge:gpt"),
        (RID, 1.0, "user"),
        (RID, 0.0, "user"),
    ]
    assert sample(gateway_url, "turnout_feedback_total", source="user") == 3


# --- refused ----------------------------------------------------------------------------------


def body(**fields: object) -> bytes:
    return orjson.dumps({"request_id": RID, "score": 0.5, **fields})


BAD_BODIES: dict[str, tuple[bytes, str]] = {
    "empty body": (b"", "not valid JSON"),
    "not JSON": (b"{'request_id': 1", "not valid JSON"),
    "JSON array": (b"[0.5]", "JSON object"),
    "NaN score": (f'{{"request_id": "{RID}", "score": NaN}}'.encode(), "not valid JSON"),
    "infinite score": (f'{{"request_id": "{RID}", "score": 1e400}}'.encode(), "not valid JSON"),
    "request_id missing": (orjson.dumps({"score": 0.5}), "'request_id'"),
    "request_id not a string": (body(request_id=42), "'request_id'"),
    "request_id without req_": (body(request_id="chatcmpl-0194123456789abcdef012345"), "req_"),
    "request_id upper-case": (body(request_id=RID.upper().replace("REQ_", "req_")), "req_"),
    "request_id too short": (body(request_id=RID[:-1]), "'request_id'"),
    "request_id too long": (body(request_id=RID + "0"), "'request_id'"),
    "score missing": (orjson.dumps({"request_id": RID}), "'score'"),
    "score null": (body(score=None), "'score'"),
    "score a string": (body(score="0.5"), "'score'"),
    "score a list": (body(score=[0.5]), "'score'"),
    "score below 0": (body(score=-0.01), "'score'"),
    "score above 1": (body(score=1.5), "'score'"),
    "score a large int": (body(score=2), "'score'"),
    "source empty": (body(source=""), "'source'"),
    "source too long": (body(source="s" * 65), "'source'"),
    "source not a string": (body(source=7), "'source'"),
    "unknown field": (body(comment="great"), "'comment'"),
    "body over the limit": (body(source="x" * 20_000), "limit"),
}


def test_bad_feedback_is_400_and_writes_nothing(
    http: httpx.Client, db_url: str, gateway_url: str
) -> None:
    for case, (raw, says) in BAD_BODIES.items():
        message = assert_openai_error(post(http, raw), 400, "invalid_input")
        assert says in message, (case, message)
    assert feedback_rows(db_url) == []
    refused = sample(gateway_url, "turnout_feedback_refused_total", code="invalid_input")
    assert refused == len(BAD_BODIES)
    assert post(http, body(source="s" * 64)).status_code == 200  # the limits are inclusive


def test_only_post_is_allowed(http: httpx.Client, db_url: str) -> None:
    assert_openai_error(http.get("/v1/feedback"), 405, "method_not_allowed")
    assert feedback_rows(db_url) == []


def test_parse_refuses_what_json_cannot_carry() -> None:
    """orjson never yields NaN or infinity; a caller handing over Python floats might."""
    for score in (math.nan, math.inf, -math.inf):
        with pytest.raises(InvalidInput, match="'score'"):
            parse_feedback({"request_id": RID, "score": score})
    assert parse_feedback({"request_id": RID, "score": 0.25}) == Feedback(RID, 0.25, "user")


# --- the store unreachable ---------------------------------------------------------------------


class Cuttable:
    """A store on the test database that can be cut away and brought back."""

    def __init__(self, store: RegistryStore, proxy: TcpProxy | None) -> None:
        self.store = store
        self._proxy = proxy

    def cut(self) -> None:
        if self._proxy is not None:
            self._proxy.stop()
        else:
            assert isinstance(self.store, FlakyStore)
            self.store.down = True

    def restore(self) -> None:
        if self._proxy is not None:
            self._proxy.start()
        else:
            assert isinstance(self.store, FlakyStore)
            self.store.down = False


@pytest.fixture
def cuttable(db_url: str) -> Iterator[Cuttable]:
    if db_url.startswith("sqlite"):
        flaky = FlakyStore(open_store(db_url))  # a fresh file: migrate it
        yield Cuttable(flaky, None)
        flaky.close()
        return
    target = make_url(db_url)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    try:
        proxy.start()
        store = open_store(proxy.url_for(db_url), migrate=False)
        yield Cuttable(store, proxy)
        store.close()
    finally:
        proxy.close()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_store_unreachable_is_503_and_recovers(
    cuttable: Cuttable, db_url: str, clock: FakeClock
) -> None:
    metrics = GatewayMetrics()
    endpoint = FeedbackEndpoint(cuttable.store.record_feedback, metrics, clock)
    transport = httpx.ASGITransport(app=endpoint)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        cuttable.cut()
        down = await client.post("/v1/feedback", content=body())
        assert "unreachable" in assert_openai_error(down, 503, "store_unavailable")
        cuttable.restore()
        up = await client.post("/v1/feedback", content=body(score=0.75))
        assert up.status_code == 200, up.text
    [row] = feedback_rows(db_url)
    assert (row["request_id"], row["score"], row["at"]) == (RID, 0.75, clock.now)
    refused = {"code": "store_unavailable"}
    assert metrics.registry.get_sample_value("turnout_feedback_refused_total", refused) == 1
