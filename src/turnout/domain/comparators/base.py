"""What a comparator is: a named, pure function of one shadow pair.

A comparator answers one question about a pair (primary answer, candidate answer)
with a number. There are three kinds, because the report summarises them
differently:

* ``agreement`` — a score in [0, 1] where 1 means the candidate agrees with the
  primary (0/1 for yes/no checks such as ``exact``); the report gives its mean
  with a confidence interval, and its lowest scores are the "worst disagreements";
* ``delta`` — a signed difference, candidate minus primary, in a unit (ms, USD,
  tokens); the report gives the paired mean and median difference;
* ``ratio`` — candidate / primary, where 1 means "the same" (``length_ratio``);
  summarised like a delta.

``compare`` returns ``None`` when the question does not apply to the pair — a
side failed, a value was not reported, the primary was not JSON — and that pair
then adds nothing to the comparator's statistics (error rates are reported on
their own). Comparators are registered by name (``registry.py``); adding one is
adding a module with a ``COMPARATORS`` tuple.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from turnout.domain.shadow import ShadowPair

__all__ = ["Comparator", "ComparatorKind", "FunctionComparator", "both_texts"]


class ComparatorKind(StrEnum):
    """How a comparator's numbers read, and so how the report summarises them."""

    AGREEMENT = "agreement"
    DELTA = "delta"
    RATIO = "ratio"


class Comparator(Protocol):
    """A named question about a shadow pair; pure and cheap enough to run inline."""

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> ComparatorKind: ...

    @property
    def unit(self) -> str:
        """The delta's unit (``ms``, ``USD``, ``tokens``); empty for agreements."""

    def compare(self, pair: ShadowPair) -> float | None:
        """The pair's score, or None when the comparator does not apply to it."""


@dataclass(frozen=True, slots=True)
class FunctionComparator:
    """A comparator made of a plain function: what every built-in is."""

    name: str
    kind: ComparatorKind
    function: Callable[[ShadowPair], float | None]
    unit: str = ""

    def compare(self, pair: ShadowPair) -> float | None:
        return self.function(pair)


def both_texts(pair: ShadowPair) -> tuple[str, str] | None:
    """(primary text, candidate text), or None if either side failed.

    Text comparators do not apply to a failed side: an error's empty text is not
    an answer that "disagrees", and the failure already shows in the error rates.
    """
    if not pair.primary.ok or not pair.candidate.ok:
        return None
    return pair.primary.text, pair.candidate.text
