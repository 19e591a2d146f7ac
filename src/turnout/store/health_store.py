"""Health in SQL: breaker and probe events, and live traffic per version from the request log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, and_, case, func, insert, select

from turnout.domain.health import HealthEvent, VersionTraffic
from turnout.store.schema import health_events, request_log

__all__ = ["insert_events", "select_events", "version_traffic"]


def insert_events(conn: Connection, events: Sequence[HealthEvent]) -> None:
    if events:
        conn.execute(
            insert(health_events),
            [
                {
                    "at": e.at,
                    "version": e.version,
                    "kind": e.kind,
                    "state": e.state,
                    "detail": e.detail,
                    "source": e.source,
                }
                for e in events
            ],
        )


def select_events(
    conn: Connection, version: str | None = None, since: datetime | None = None, limit: int = 50
) -> list[HealthEvent]:
    """Newest first."""
    t = health_events.c
    query = select(health_events)
    if version is not None:
        query = query.where(t.version == version)
    if since is not None:
        query = query.where(t.at >= since)
    rows = conn.execute(query.order_by(t.at.desc(), t.id.desc()).limit(limit)).mappings()
    return [
        HealthEvent(r["at"], r["version"], r["kind"], r["state"], r["detail"], r["source"])
        for r in rows
    ]


LATENCY_SAMPLE = 2000
"""Newest successful requests per version whose latencies give the p50/p95 shown.

A health view wants "how is it doing now", and a fixed-size recent sample keeps
the page fast however much traffic the window holds (it reads the (version, at)
index backwards instead of sorting every row of the window).
"""


def _latencies(conn: Connection, version: str, since: datetime) -> list[float]:
    t = request_log.c
    rows = conn.execute(
        select(t.latency_ms)
        .where(and_(t.version == version, t.at >= since, t.status < 400))
        .order_by(t.at.desc())
        .limit(LATENCY_SAMPLE)
    ).scalars()
    return sorted(float(value) for value in rows)


def _nearest_rank(ordered: Sequence[float], q: float) -> float | None:
    if not ordered:
        return None
    return ordered[max(0, min(len(ordered) - 1, int(q * len(ordered) + 0.999999) - 1))]


def version_traffic(
    conn: Connection, versions: Sequence[str], since: datetime
) -> list[VersionTraffic]:
    """Requests, errors (status >= 400 but client disconnects) and latency per version."""
    if not versions:
        return []
    t = request_log.c
    errors = func.sum(case((and_(t.status >= 400, t.status != 499), 1), else_=0))
    ok = func.sum(case((t.status < 400, 1), else_=0))
    rows = conn.execute(
        select(t.version, func.count(), errors, ok, func.max(t.at))
        .where(and_(t.version.in_(list(versions)), t.at >= since))
        .group_by(t.version)
    ).all()
    found = {row[0]: row for row in rows}
    out = []
    for version in versions:
        row = found.get(version)
        if row is None:
            out.append(VersionTraffic(version, 0, 0, None, None, None))
            continue
        _, n, n_errors, _n_ok, last = row
        latencies = _latencies(conn, version, since)
        out.append(
            VersionTraffic(
                version,
                int(n),
                int(n_errors or 0),
                _nearest_rank(latencies, 0.5),
                _nearest_rank(latencies, 0.95),
                last,
            )
        )
    return out
