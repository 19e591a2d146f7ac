"""The shared vocabulary of the lint extractors: a candidate, the Protocol, key names.

An extractor turns one file's text into *candidates*: strings in a position where
a model id goes (``model=`` in a call, a ``model:`` key in config...). It does not
judge them; :class:`turnout.domain.lint.IdLinter` does. Keeping "where" apart from
"what" is what lets a new file kind be one new module (see :mod:`.registry`).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "CONFIG_KEYS",
    "Candidate",
    "Extractor",
    "is_suppressed",
    "line_starts",
    "position",
]

CONFIG_KEYS = frozenset({"model", "model_name", "model_id", "deployment", "engine", "llm_model"})
"""Config keys (YAML, JSON, TOML) whose string value is a model id."""

_SUPPRESS = re.compile(r"(?:#|//)\s*turnout:\s*ignore\b")


@dataclass(frozen=True, slots=True, order=True)
class Candidate:
    """A string found where a model id goes; ``line`` and ``column`` (1-based) of its start."""

    line: int
    column: int
    text: str


class Extractor(Protocol):
    """Finds candidates in one kind of file; pure: text in, candidates out."""

    @property
    def name(self) -> str:
        """A short name for the file kind (``python``, ``yaml``...)."""
        ...

    @property
    def suffixes(self) -> tuple[str, ...]:
        """Lower-case file suffixes this extractor reads (``.py``)."""
        ...

    def candidates(self, text: str) -> Iterator[Candidate]:
        """Every string in ``text`` that sits where a model id goes, in any order."""
        ...


def is_suppressed(line: str) -> bool:
    """A ``# turnout: ignore`` or ``// turnout: ignore`` comment on the line."""
    return _SUPPRESS.search(line) is not None


def line_starts(text: str) -> list[int]:
    """The offset at which each line starts, for :func:`position`."""
    starts = [0]
    starts.extend(match.end() for match in re.finditer(r"\n", text))
    return starts


def position(starts: list[int], offset: int) -> tuple[int, int]:
    """1-based ``(line, column)`` of a character offset, given :func:`line_starts`."""
    index = bisect.bisect_right(starts, offset) - 1
    return index + 1, offset - starts[index] + 1
