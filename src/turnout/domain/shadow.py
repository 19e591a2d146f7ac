"""Shadow testing's values: which candidates shadow an alias, and what one copy yields.

A *shadow policy* is part of an alias's target (like a rollout's canary split),
so starting or stopping a shadow is an alias revision: audited, in ``alias
history``, and on every replica through the same change feed as a flip. The
gateway sends a sampled copy of live requests to each candidate after the
primary answer is on its way; the *pair* (primary answer, candidate answer) is
stored and compared offline. The client never sees the candidate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from turnout.domain.completions import Completion, Message
from turnout.domain.ids import VersionId
from turnout.errors import InvalidInput

__all__ = ["ShadowCount", "ShadowPair", "ShadowPolicy"]


@dataclass(frozen=True, slots=True)
class ShadowPolicy:
    """One candidate shadowing an alias: how much traffic, and the caps that bound it.

    ``sample`` is the fraction of the alias's requests copied (0 < sample <= 1);
    ``max_rps`` caps copies per second per gateway process and
    ``max_cost_per_day`` the candidate's list-price spend per UTC day per process
    (``None``: no cap). Copies over a cap are dropped and counted, never queued.
    """

    candidate: VersionId
    sample: float = 0.1
    max_rps: float | None = None
    max_cost_per_day: float | None = None

    def __post_init__(self) -> None:
        if not (0.0 < self.sample <= 1.0) or math.isnan(self.sample):
            raise InvalidInput(f"shadow sample must be in (0, 1], got {self.sample}")
        if self.max_rps is not None and not self.max_rps > 0:
            raise InvalidInput(f"shadow max_rps must be positive, got {self.max_rps}")
        if self.max_cost_per_day is not None and not self.max_cost_per_day > 0:
            raise InvalidInput(
                f"shadow max_cost_per_day must be positive, got {self.max_cost_per_day}"
            )

    def to_dict(self) -> dict[str, object]:
        return {
            "candidate": str(self.candidate),
            "sample": self.sample,
            "max_rps": self.max_rps,
            "max_cost_per_day": self.max_cost_per_day,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ShadowPolicy:
        if "candidate" not in data:
            raise InvalidInput("shadow policy needs a 'candidate'")
        return cls(
            VersionId.parse(str(data["candidate"])),
            _number(data, "sample", 0.1),
            _optional_number(data, "max_rps"),
            _optional_number(data, "max_cost_per_day"),
        )


def _number(data: Mapping[str, object], key: str, default: float) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"shadow '{key}' must be a number, got {value!r}")
    return float(value)


def _optional_number(data: Mapping[str, object], key: str) -> float | None:
    return None if data.get(key) is None else _number(data, key, 0.0)


@dataclass(frozen=True, slots=True)
class ShadowPair:
    """One shadowed request: the primary's answer beside the candidate's, same prompt.

    ``primary`` is what the client was served (its text, latency, tokens, cost);
    ``candidate`` is the shadow copy's outcome, its stream collected whole.
    ``source`` is ``live`` for gateway copies and ``replay`` for offline replays.
    """

    request_id: str
    at: datetime
    alias: str
    messages: Sequence[Message]
    primary: Completion
    candidate: Completion
    stream: bool = False
    source: str = "live"
    params: Mapping[str, object] = field(default_factory=dict)

    @property
    def primary_version(self) -> str:
        return self.primary.version

    @property
    def candidate_version(self) -> str:
        return self.candidate.version


@dataclass(frozen=True, slots=True)
class ShadowCount:
    """How many pairs a candidate has for an alias, and how many of its copies failed."""

    candidate: str
    pairs: int
    candidate_errors: int
    primary_errors: int
    last_at: datetime | None
