"""One served request, as the request log records it.

The log feeds rollout gates, shadow reports, health and "what served alias X at
time T"; the gateway builds these on the hot path, so the value is a plain
slotted dataclass and everything costly (writing, aggregating) happens later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["RequestRecord", "estimate_cost"]


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
