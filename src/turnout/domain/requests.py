"""One served request, as the request log records it.

The log feeds rollout gates, shadow reports, health and "what served alias X at
time T"; the gateway builds these on the hot path, so the value is a plain
slotted dataclass and everything costly (writing, aggregating) happens later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from turnout.domain.completions import Completion

__all__ = ["RequestRecord", "estimate_cost", "new_request_id"]


def new_request_id(now_ns: int, entropy: bytes) -> str:
    """``req_`` + 12 hex digits of milliseconds since the epoch + the entropy in hex.

    Time first, so ids sort by when they were issued and every insert lands at the
    right edge of the request log's id index. Random ids scatter inserts over the
    whole index: measured on SQLite with 130k rows, 35-45 us of CPU per row against
    ~10 us for time-ordered ids, and the gap grows with the table.
    """
    return f"req_{now_ns // 1_000_000:012x}{entropy.hex()}"


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """Alias, version, arm, outcome and cost of one gateway request."""

    request_id: str
    at: datetime
    alias: str | None
    version: str
    arm: str
    key_hash: str | None
    status: int
    error_class: str | None
    latency_ms: float
    ttft_ms: float | None
    tokens_in: int | None
    tokens_out: int | None
    cost_usd: float | None
    stream: bool
    scores: tuple[tuple[str, float], ...] = ()  # online scorers' (name, score in [0, 1])

    def as_completion(self, text: str) -> Completion:
        """This request as one side of a shadow pair: what the client was served."""
        return Completion(
            version=self.version,
            text=text,
            latency_ms=self.latency_ms,
            ttft_ms=self.ttft_ms,
            tokens_in=self.tokens_in,
            tokens_out=self.tokens_out,
            cost_usd=self.cost_usd,
            error=self.error_class,
        )


def estimate_cost(
    tokens_in: int | None,
    tokens_out: int | None,
    price_in_per_mtok: float | None,
    price_out_per_mtok: float | None,
) -> float | None:
    """List-price cost in USD; ``None`` when a count or a price is unknown."""
    if tokens_in is None or tokens_out is None:
        return None
    if price_in_per_mtok is None or price_out_per_mtok is None:
        return None
    return (tokens_in * price_in_per_mtok + tokens_out * price_out_per_mtok) / 1_000_000
