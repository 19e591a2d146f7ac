"""TOML: string values of model keys (``model = "gpt-4o"``), also inside inline tables.

``tomllib`` keeps no positions, so assignments are matched per line; comment
lines and the part of a line after a ``#`` outside a string are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from turnout.lint.base import CONFIG_KEYS, Candidate

__all__ = ["TomlExtractor"]

_PAIR = re.compile(
    r"""(?:^|[{,\s])(?P<key_quote>["']?)(?P<key>[A-Za-z_]+)(?P=key_quote)\s*=\s*"""
    r"""(?P<quote>["'])(?P<value>[^"'\\\n]*)(?P=quote)"""
)


class TomlExtractor:
    """Reads ``.toml`` files."""

    name = "toml"
    suffixes = (".toml",)

    def candidates(self, text: str) -> Iterator[Candidate]:
        for number, line in enumerate(text.splitlines(), start=1):
            if line.lstrip().startswith("#"):
                continue
            for match in _PAIR.finditer(line):
                if match.group("key") in CONFIG_KEYS:
                    yield Candidate(number, match.start("value") + 1, match.group("value"))
