"""``.env`` files: ``*MODEL*=value`` (``OPENAI_MODEL=gpt-4o``, ``export LLM_MODEL="o3"``)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from turnout.lint.base import Candidate

__all__ = ["DotenvExtractor"]

_ASSIGNMENT = re.compile(
    r"""^\s*(?:export\s+)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*"""
    r"""(?P<quote>["']?)(?P<value>[^"'\s#]+)(?P=quote)"""
)


class DotenvExtractor:
    """Reads ``.env``, ``.env.*`` and ``*.env`` files (see :func:`is_dotenv`)."""

    name = "dotenv"
    suffixes = (".env",)

    def candidates(self, text: str) -> Iterator[Candidate]:
        for number, line in enumerate(text.splitlines(), start=1):
            match = _ASSIGNMENT.match(line)
            if match and "MODEL" in match.group("name").upper():
                yield Candidate(number, match.start("value") + 1, match.group("value"))


def is_dotenv(name: str) -> bool:
    """``.env``, ``.env.local``, ``prod.env``: dotenv files have no one suffix."""
    lowered = name.lower()
    return lowered == ".env" or lowered.startswith(".env.") or lowered.endswith(".env")
