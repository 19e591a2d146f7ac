"""JSON: string values of model keys (``"model": "gpt-4o"``), at any depth.

The standard ``json`` module forgets positions, so the key/value pairs are found
with a regex. In JSON that is exact enough: keys are always double-quoted, and a
``\\"model\\"`` escaped inside another string is skipped by the look-behind.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from turnout.lint.base import CONFIG_KEYS, Candidate, line_starts, position

__all__ = ["JsonExtractor"]

_PAIR = re.compile(r'(?<!\\)"(?P<key>[A-Za-z_]+)"\s*:\s*"(?P<value>[^"\\\n]*)"')


class JsonExtractor:
    """Reads ``.json`` files."""

    name = "json"
    suffixes = (".json",)

    def candidates(self, text: str) -> Iterator[Candidate]:
        starts = line_starts(text)
        for match in _PAIR.finditer(text):
            if match.group("key") in CONFIG_KEYS:
                line, column = position(starts, match.start("value"))
                yield Candidate(line, column, match.group("value"))
