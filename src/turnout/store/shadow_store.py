"""Shadow pairs in SQL: written in batches by the gateway, read by reports and replays."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Connection, RowMapping, func, insert, select

from turnout.domain.completions import Completion, Message
from turnout.domain.shadow import ShadowCount, ShadowPair
from turnout.store.schema import shadow_pairs

__all__ = ["count_pairs", "insert_pairs", "select_pairs"]

_SIDES = ("primary", "candidate")


def _side_row(side: str, completion: Completion) -> dict[str, object]:
    return {
        f"{side}_version": completion.version,
        f"{side}_text": completion.text,
        f"{side}_latency_ms": completion.latency_ms,
        f"{side}_ttft_ms": completion.ttft_ms,
        f"{side}_tokens_in": completion.tokens_in,
        f"{side}_tokens_out": completion.tokens_out,
        f"{side}_cost_usd": completion.cost_usd,
        f"{side}_error": completion.error,
    }


def _row(pair: ShadowPair) -> dict[str, object]:
    return {
        "request_id": pair.request_id,
        "at": pair.at,
        "alias": pair.alias,
        "source": pair.source,
        "stream": pair.stream,
        "messages": [dict(m) for m in pair.messages],
        "params": dict(pair.params),
        **_side_row("primary", pair.primary),
        **_side_row("candidate", pair.candidate),
    }


def _completion(row: RowMapping, side: str) -> Completion:
    return Completion(
        version=row[f"{side}_version"],
        text=row[f"{side}_text"],
        latency_ms=row[f"{side}_latency_ms"],
        ttft_ms=row[f"{side}_ttft_ms"],
        tokens_in=row[f"{side}_tokens_in"],
        tokens_out=row[f"{side}_tokens_out"],
        cost_usd=row[f"{side}_cost_usd"],
        error=row[f"{side}_error"],
    )


def insert_pairs(conn: Connection, pairs: Sequence[ShadowPair]) -> None:
    if pairs:
        conn.execute(insert(shadow_pairs), [_row(pair) for pair in pairs])


def select_pairs(
    conn: Connection,
    alias: str,
    candidate: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 1000,
    source: str | None = None,
) -> list[ShadowPair]:
    """The newest ``limit`` pairs in the window, returned oldest first."""
    t = shadow_pairs.c
    query = select(shadow_pairs).where(t.alias == alias)
    if candidate is not None:
        query = query.where(t.candidate_version == candidate)
    if since is not None:
        query = query.where(t.at >= since)
    if until is not None:
        query = query.where(t.at < until)
    if source is not None:
        query = query.where(t.source == source)
    rows = conn.execute(query.order_by(t.at.desc(), t.id.desc()).limit(limit)).mappings().all()
    return [
        ShadowPair(
            request_id=row["request_id"],
            at=row["at"],
            alias=row["alias"],
            messages=cast(list[Message], row["messages"]),
            primary=_completion(row, "primary"),
            candidate=_completion(row, "candidate"),
            stream=row["stream"],
            source=row["source"],
            params=row["params"] or {},
        )
        for row in reversed(rows)
    ]


def count_pairs(conn: Connection, alias: str, since: datetime | None = None) -> list[ShadowCount]:
    """Per candidate of ``alias``: pairs, failures on each side, the newest pair's time."""
    t = shadow_pairs.c
    query = select(
        t.candidate_version,
        func.count(),
        func.count(t.candidate_error),
        func.count(t.primary_error),
        func.max(t.at),
    ).where(t.alias == alias)
    if since is not None:
        query = query.where(t.at >= since)
    rows = conn.execute(query.group_by(t.candidate_version).order_by(t.candidate_version))
    return [
        ShadowCount(str(candidate), int(n), int(c_err), int(p_err), last)
        for candidate, n, c_err, p_err, last in rows
    ]
