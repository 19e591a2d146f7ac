"""A rollout's traffic, read from the request log and feedback, as gate evidence.

Everything is aggregated in the database (``COUNT``/``SUM``/``SUM(x*x)`` per arm,
over the ``(alias, at)`` index) so a look costs a few small queries however many
requests were served; only the quantile gates fetch values, and those are capped
and *nested* (the first ones by id), as the gates' validity needs.

What counts as an error: any logged request that ended with status >= 400,
except 499 (the client went away — not the version's fault). Bad requests are
refused before routing and never reach the log, so a 4xx here came from the
provider: a canary that rejects a parameter the stable version took is a
regression and counts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from turnout.domain.bucketing import BUCKETS
from turnout.domain.gates import ArmObservations, CountSegment, Evidence
from turnout.domain.rollouts import Observation, Rollout
from turnout.domain.sequential import Moments
from turnout.store.schema import feedback, request_log

__all__ = ["SAMPLE_CAP", "observe_rollout"]

SAMPLE_CAP = 4000
"""Values per arm fetched for the quantile gates (the first ones of the rollout)."""

_ARMS = ("stable", "canary")
_log = request_log.c


def _is_error() -> ColumnElement[bool]:
    return and_(_log.status >= 400, _log.status != 499)


def _ok() -> ColumnElement[bool]:
    return _log.status < 400


def _served_by(rollout: Rollout) -> ColumnElement[bool]:
    """Requests of this rollout's two arms (the alias may have served others before)."""
    return or_(
        and_(_log.arm == "stable", _log.version == str(rollout.stable)),
        and_(_log.arm == "canary", _log.version == str(rollout.candidate)),
    )


def _window(rollout: Rollout, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(_log.alias == rollout.alias, _log.at >= start, _log.at < end, _served_by(rollout))


def _sums(value: Any, only: ColumnElement[bool]) -> list[Any]:
    picked = case((only, value), else_=None)
    return [func.count(picked), func.sum(picked), func.sum(picked * picked)]


def _moments(row: Any, offset: int) -> Moments:
    return Moments.from_sums(
        int(row[offset] or 0), float(row[offset + 1] or 0.0), float(row[offset + 2] or 0.0)
    )


def _arms(conn: Connection, rollout: Rollout, end: datetime) -> dict[str, dict[str, Any]]:
    ok = _ok()
    query = (
        select(
            _log.arm,
            func.count(),
            func.sum(case((_is_error(), 1), else_=0)),
            *_sums(_log.latency_ms, ok),
            *_sums(_log.ttft_ms, and_(ok, _log.ttft_ms.is_not(None))),
            *_sums(_log.cost_usd, and_(ok, _log.cost_usd.is_not(None))),
        )
        .where(_window(rollout, rollout.started_at, end))
        .group_by(_log.arm)
    )
    found: dict[str, dict[str, Any]] = {}
    for row in conn.execute(query):
        found[row[0]] = {
            "requests": int(row[1]),
            "errors": int(row[2] or 0),
            "latency_ms": _moments(row, 3),
            "ttft_ms": _moments(row, 6),
            "cost_usd": _moments(row, 9),
        }
    return found


def _quality(conn: Connection, rollout: Rollout, end: datetime) -> dict[str, Moments]:
    """Feedback per arm, joined to the *answered* attempt of each request only.

    A request whose canary attempt failed and whose fallback answered has two log
    rows under one request id; the score is about the fallback's answer, so the
    failed attempt's row (an error status) must not take it for the canary arm.
    """
    score = feedback.c.score
    query = (
        select(_log.arm, func.count(score), func.sum(score), func.sum(score * score))
        .select_from(feedback.join(request_log, _log.request_id == feedback.c.request_id))
        .where(_window(rollout, rollout.started_at, end), _ok())
        .group_by(_log.arm)
    )
    return {row[0]: _moments(row, 1) for row in conn.execute(query)}


def _sample(
    conn: Connection, rollout: Rollout, end: datetime, arm: str, column: Any, thin: int = 1
) -> tuple[float, ...]:
    """The first values of an arm by id; the stable arm thinned to every ``thin``-th row.

    At a 1 % step the stable arm gets ~99 requests for each canary one: its first
    4,000 rows would all come from the rollout's first moments while the canary's
    span much longer, and a latency drift in between would look like the canary's
    fault. Thinning by the arms' ratio spreads both samples over the same period.
    """
    first = (
        select(column.label("value"), _log.id.label("id"))
        .where(
            _window(rollout, rollout.started_at, end), _log.arm == arm, _ok(), column.is_not(None)
        )
        .order_by(_log.id)
        .limit(SAMPLE_CAP * thin)
    )
    if thin == 1:
        return tuple(float(row.value) for row in conn.execute(first))
    # Every thin-th row *of this arm*, by position: filtering on the global id
    # (``id % thin``) could skip an alias entirely when several aliases' requests
    # interleave in a regular pattern (measured: 0 stable samples of 109).
    rows = first.subquery()
    numbered = select(
        rows.c.value, func.row_number().over(order_by=rows.c.id).label("n")
    ).subquery()
    query = select(numbered.c.value).where((numbered.c.n - 1) % thin == 0).order_by(numbered.c.n)
    return tuple(float(value) for value in conn.execute(query).scalars())


def _segments(conn: Connection, rollout: Rollout, now: datetime) -> tuple[CountSegment, ...]:
    segments = []
    for record in rollout.steps_log:
        if not 0 < record.weight < BUCKETS:
            continue
        end = record.ended_at or now
        query = (
            select(_log.arm, func.count())
            .where(_window(rollout, record.started_at, end), _is_error())
            .group_by(_log.arm)
        )
        errors = {row[0]: int(row[1]) for row in conn.execute(query)}
        segments.append(
            CountSegment(record.weight / BUCKETS, errors.get("canary", 0), errors.get("stable", 0))
        )
    return tuple(segments)


def _step_canary_requests(conn: Connection, rollout: Rollout, end: datetime) -> int:
    query = select(func.count()).where(
        _window(rollout, rollout.step_started_at, end), _log.arm == "canary"
    )
    return int(conn.execute(query).scalar_one())


def observe_rollout(conn: Connection, rollout: Rollout, now: datetime) -> Observation:
    """Both arms since the rollout started (until it finished, or now)."""
    end = rollout.finished_at or now
    arms = _arms(conn, rollout, end)
    quality = _quality(conn, rollout, end)
    observed = {}
    canary_n = arms.get("canary", {}).get("requests", 0)
    stable_n = arms.get("stable", {}).get("requests", 0)
    thin_stable = max(1, stable_n // max(canary_n, 1))
    for arm in _ARMS:
        base = arms.get(arm, {})
        thin = thin_stable if arm == "stable" else 1
        observed[arm] = ArmObservations(
            requests=base.get("requests", 0),
            errors=base.get("errors", 0),
            latency_ms=base.get("latency_ms", Moments()),
            ttft_ms=base.get("ttft_ms", Moments()),
            cost_usd=base.get("cost_usd", Moments()),
            quality=quality.get(arm, Moments()),
            latency_sample=_sample(conn, rollout, end, arm, _log.latency_ms, thin),
            ttft_sample=_sample(conn, rollout, end, arm, _log.ttft_ms, thin),
        )
    evidence = Evidence(observed["canary"], observed["stable"], _segments(conn, rollout, end))
    return Observation(evidence, _step_canary_requests(conn, rollout, end))
