"""One model's answer to one prompt, as evals, shadow pairs and judges see it.

The gateway forwards provider JSON untouched; everything that *compares* answers
(an eval scorer, a shadow comparator, a judge) needs less and needs it uniform:
the text, how long it took, what it cost, and whether it failed. A failed call
is a value too (``error`` set, ``text`` empty), so a run over a thousand cases
records the failures instead of stopping at the first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Completion", "Message"]

Message = Mapping[str, object]
"""An OpenAI-style chat message: ``{"role": "user", "content": "..."}``."""


@dataclass(frozen=True, slots=True)
class Completion:
    """The outcome of calling one pinned version once."""

    version: str
    text: str
    latency_ms: float
    ttft_ms: float | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost_usd: float | None = None
    error: str | None = None  # the error class/message when the call failed

    @property
    def ok(self) -> bool:
        return self.error is None
