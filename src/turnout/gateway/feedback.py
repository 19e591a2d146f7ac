"""``POST /v1/feedback``: a quality score for a request the gateway served.

An application that learns how good an answer was (a thumbs up, an accepted
suggestion, a scorer's verdict) posts it with the ``x-turnout-request-id`` of
the response::

    {"request_id": "req_0192a3b4c5d6e7f8a9b0c1d2", "score": 0.8, "source": "user"}

``score`` is a number in [0, 1] or a boolean (true = 1.0); ``source`` (default
``user``, at most 64 characters) says who judged. Scores feed the rollout
quality gates, which join them to the request log on the request id.

The request id is checked for shape only, not looked up: the request log is
written in batches off the hot path, so a request's row may land a few hundred
milliseconds after its answer — and after the feedback on it. Feedback for an
id that never shows up in the log simply joins nothing.

Like the chat route this is raw ASGI; the one database write runs in a worker
thread so a slow store never stalls the event loop. Answers: 200 with the
stored score, 400 for anything malformed (nothing written), 503 when the
store is unreachable — always in the OpenAI error shape.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from starlette.types import Receive, Scope, Send

from turnout.errors import InvalidInput, TurnoutError, http_status_for
from turnout.gateway.errors import error_body
from turnout.gateway.metrics import GatewayMetrics
from turnout.gateway.wire import JSON_HEADER, error_bytes, read_json, respond
from turnout.ports import Clock

__all__ = ["Feedback", "FeedbackEndpoint", "RecordFeedback", "parse_feedback"]

log = logging.getLogger(__name__)

RecordFeedback = Callable[[str, float, str, datetime], None]
"""Stores one score: :meth:`turnout.ports.RegistryStore.record_feedback`."""

_REQUEST_ID = re.compile(r"req_[0-9a-f]{24}")
_FIELDS = frozenset({"request_id", "score", "source"})
_SOURCE_MAX = 64
_MAX_BODY_BYTES = 16 * 1024


@dataclass(frozen=True, slots=True)
class Feedback:
    """One validated score."""

    request_id: str
    score: float
    source: str


def parse_feedback(body: dict[str, Any]) -> Feedback:
    """The feedback in a request body; InvalidInput naming the first bad field."""
    unknown = sorted(set(body) - _FIELDS)
    if unknown:  # a misspelt field must not silently drop what it carried
        raise InvalidInput(f"unknown field '{unknown[0]}' (fields: request_id, score, source)")
    return Feedback(_request_id(body.get("request_id")), _score(body.get("score")), _source(body))


def _request_id(value: object) -> str:
    if not isinstance(value, str) or not _REQUEST_ID.fullmatch(value):
        raise InvalidInput(
            "'request_id' must be the x-turnout-request-id of a gateway response "
            "(req_ and 24 lowercase hex digits)"
        )
    return value


def _score(value: object) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    # ``not 0 <= x <= 1`` also refuses NaN, for which every comparison is false.
    if not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InvalidInput("'score' must be a number from 0 to 1, or a boolean")
    return float(value)


def _source(body: dict[str, Any]) -> str:
    value = body.get("source", "user")
    if not isinstance(value, str) or not value or len(value) > _SOURCE_MAX:
        raise InvalidInput(
            f"'source' must be a non-empty string of at most {_SOURCE_MAX} characters"
        )
    return value


class FeedbackEndpoint:
    """The raw-ASGI ``POST /v1/feedback`` handler over a store's ``record_feedback``."""

    def __init__(
        self,
        record: RecordFeedback,
        metrics: GatewayMetrics,
        clock: Clock,
        max_body_bytes: int = _MAX_BODY_BYTES,
    ) -> None:
        self._record = record
        self._metrics = metrics
        self._clock = clock
        self._max_body = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            refusal = error_body("use POST to send feedback", 405, "method_not_allowed")
            await respond(send, 405, [JSON_HEADER], orjson.dumps(refusal))
            return
        try:
            feedback = parse_feedback(await read_json(receive, self._max_body))
            await asyncio.to_thread(
                self._record, feedback.request_id, feedback.score, feedback.source, self._clock()
            )
        except TurnoutError as exc:
            await self._refuse(send, exc)
            return
        except Exception:  # a bug, not bad input: the traceback goes to the log only
            log.exception("storing feedback failed")
            await self._refuse(send, TurnoutError("storing feedback failed; see the server log"))
            return
        self._metrics.count_feedback(feedback.source)
        answer = {
            "object": "feedback",
            "request_id": feedback.request_id,
            "score": feedback.score,
            "source": feedback.source,
        }
        await respond(send, 200, [JSON_HEADER], orjson.dumps(answer))

    async def _refuse(self, send: Send, error: TurnoutError) -> None:
        self._metrics.feedback_refused.labels(code=error.code).inc()
        await respond(send, http_status_for(error), [JSON_HEADER], error_bytes(error))
