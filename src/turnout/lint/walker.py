"""Which files a lint run reads: the walk over the given paths, and reading them safely.

Directories are walked recursively, skipping what is never the project's own
source (``.git``, ``node_modules``, virtualenvs, build output) and anything an
``--exclude`` glob names. A file lint cannot read as text — binary, over
:data:`MAX_BYTES`, not UTF-8 — is skipped quietly: it cannot hold an SDK call
anyone reviews, and a lint run must not fail on a checked-in image.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from fnmatch import fnmatch
from pathlib import Path

from turnout.errors import InvalidInput
from turnout.lint.base import Extractor
from turnout.lint.registry import ExtractorRegistry

__all__ = ["MAX_BYTES", "SKIP_DIRS", "read_text", "walk"]

SKIP_DIRS = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__", "dist", "build"})
"""Directory names never entered (unless a file inside is named explicitly)."""

MAX_BYTES = 2 * 1024 * 1024
"""Files larger than this are generated or data, not code anyone reviews."""

_SNIFF = 8192


def walk(
    paths: Sequence[Path], registry: ExtractorRegistry, excludes: Iterable[str] = ()
) -> Iterator[tuple[str, Path, Extractor]]:
    """``(shown path, path, extractor)`` for each lintable file, each file once, in order.

    Raises :class:`InvalidInput` for a path that does not exist, before reading any file.
    """
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        raise InvalidInput(f"no such file or directory: {', '.join(missing)}")
    globs = tuple(excludes)
    seen: set[Path] = set()
    for root in paths:
        for shown, path in _files(root, globs):
            extractor = registry.for_name(path.name)
            key = path.resolve()
            if extractor is None or key in seen:
                continue
            seen.add(key)
            yield shown, path, extractor


def _files(root: Path, globs: tuple[str, ...]) -> Iterator[tuple[str, Path]]:
    if not root.is_dir():
        shown = os.path.normpath(root)
        if not _excluded(globs, shown, root.name):
            yield shown, root
        return
    for directory, dirnames, filenames in os.walk(root):
        here = Path(directory)
        dirnames[:] = sorted(
            name
            for name in dirnames
            if name not in SKIP_DIRS
            and not _excluded(
                globs, os.path.normpath(here / name), name, _relative(root, here / name)
            )
        )
        for name in sorted(filenames):
            path = here / name
            shown = os.path.normpath(path)
            if not _excluded(globs, shown, name, _relative(root, path)):
                yield shown, path


def _relative(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def _excluded(globs: tuple[str, ...], *forms: str) -> bool:
    """A glob excludes a path matching its shown form, its name or its part under the root."""
    return any(fnmatch(form.replace(os.sep, "/"), glob) for glob in globs for form in forms)


def read_text(path: Path) -> str | None:
    """The file's text, or ``None`` if it is too big, binary, unreadable or not UTF-8."""
    try:
        if path.stat().st_size > MAX_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:_SNIFF]:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
