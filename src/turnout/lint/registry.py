"""Which extractor reads which file: a registry keyed by file suffix.

A new file kind is a new module with an extractor class (see
:class:`~turnout.lint.base.Extractor`) plus one entry in :data:`BUILTIN_EXTRACTORS`;
nothing else changes. Suffixes are matched case-insensitively, and a dotfile's
first component counts as a suffix too, so ``.env`` and ``.env.production``
both go to the extractor that claims ``.env``.
"""

from __future__ import annotations

from collections.abc import Iterable

from turnout.lint.base import Extractor
from turnout.lint.dotenv import DotenvExtractor
from turnout.lint.javascript import JavaScriptExtractor
from turnout.lint.json_config import JsonExtractor
from turnout.lint.python_source import PythonExtractor
from turnout.lint.toml_config import TomlExtractor
from turnout.lint.yaml_config import YamlExtractor

__all__ = ["BUILTIN_EXTRACTORS", "ExtractorRegistry"]

BUILTIN_EXTRACTORS: tuple[type[Extractor], ...] = (
    PythonExtractor,
    JavaScriptExtractor,
    YamlExtractor,
    JsonExtractor,
    TomlExtractor,
    DotenvExtractor,
)
"""The extractor classes that ship with turnout."""


class ExtractorRegistry:
    """Suffix -> extractor; built per run (never a module global)."""

    def __init__(self, extractors: Iterable[Extractor] | None = None) -> None:
        chosen = (
            list(extractors) if extractors is not None else [cls() for cls in BUILTIN_EXTRACTORS]
        )
        self._by_suffix: dict[str, Extractor] = {}
        for extractor in chosen:
            for suffix in extractor.suffixes:
                key = suffix.lower()
                if key in self._by_suffix:
                    raise ValueError(
                        f"suffix {key!r} claimed by both {self._by_suffix[key].name!r} "
                        f"and {extractor.name!r}"
                    )
                self._by_suffix[key] = extractor

    @property
    def suffixes(self) -> tuple[str, ...]:
        return tuple(sorted(self._by_suffix))

    def for_name(self, name: str) -> Extractor | None:
        """The extractor for a file name, or ``None`` when lint does not read such files."""
        lowered = name.lower()
        _, dot, suffix = lowered.rpartition(".")
        if dot and (found := self._by_suffix.get(f".{suffix}")) is not None:
            return found
        if lowered.startswith(".") and len(lowered) > 1:
            first = lowered[1:].split(".", 1)[0]
            return self._by_suffix.get(f".{first}")
        return None
