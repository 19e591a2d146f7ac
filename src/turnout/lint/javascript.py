"""JavaScript and TypeScript: ``model: "..."``, ``"model": "..."`` and ``model = "..."``.

No JS parser ships with Python, and a regex over the three spellings SDK calls use
(``openai.chat.completions.create({model: "gpt-4o"})``, a JSON-ish body, a
``const model = ...``) is precise enough because every candidate is then checked
against the catalog and the provider naming patterns. Matches inside ``//`` and
``/* */`` comment lines are skipped; template strings with ``${...}`` are not ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from turnout.lint.base import Candidate, line_starts, position

__all__ = ["JavaScriptExtractor"]

_MODEL_STRING = re.compile(
    r"""(?<![\w$"'])(?:model|modelName|modelId)(?:\s*:|\s*=(?![=>]))"""
    r"""\s*(?P<quote>["'`])(?P<value>[^"'`\n\\]+)(?P=quote)"""
)
_QUOTED_KEY = re.compile(
    r"""(?P<key_quote>["'])(?:model|modelName|modelId)(?P=key_quote)\s*:"""
    r"""\s*(?P<quote>["'`])(?P<value>[^"'`\n\\]+)(?P=quote)"""
)
_COMMENT_LINE = re.compile(r"\s*(?://|/\*|\*)")


class JavaScriptExtractor:
    """Reads ``.js``, ``.jsx``, ``.mjs``, ``.cjs``, ``.ts``, ``.tsx``, ``.mts``, ``.cts``."""

    name = "javascript"
    suffixes = (".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts")

    def candidates(self, text: str) -> Iterator[Candidate]:
        starts = line_starts(text)
        seen: set[int] = set()
        for pattern in (_MODEL_STRING, _QUOTED_KEY):
            for match in pattern.finditer(text):
                value_at = match.start("value")
                value = match.group("value")
                if value_at in seen or "${" in value:
                    continue
                seen.add(value_at)
                line, _ = position(starts, match.start())
                line_text = text[starts[line - 1] : match.start()]
                if _COMMENT_LINE.match(line_text) or "//" in _outside_strings(line_text):
                    continue
                line_no, column = position(starts, value_at)
                yield Candidate(line_no, column, value)


def _outside_strings(prefix: str) -> str:
    """``prefix`` with quoted parts blanked, to tell a ``//`` comment from a URL in a string."""
    return re.sub(r"""(["'`])(?:\\.|(?!\1).)*\1""", '""', prefix)
