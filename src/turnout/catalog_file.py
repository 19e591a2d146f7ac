"""Load the model catalog from YAML: the I/O edge in front of :mod:`turnout.domain.catalog`.

The bundled catalog (``turnout/data/model-catalog.yaml``, schema in
``shared/data/README.md``) ships with the package and never changes while the
process runs, so it is parsed once and cached. Any other file goes through the
same validation, and every problem becomes a :class:`~turnout.errors.ConfigError`
naming the file and line, so a bad hand edit is found before it silently
changes which ids count as pinned.
"""

from __future__ import annotations

import functools
import importlib.resources
import math
import os
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

import yaml

from turnout.domain.catalog import Catalog, CatalogEntry
from turnout.errors import ConfigError

try:
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

__all__ = ["BUNDLED_CATALOG", "load_bundled_catalog", "load_catalog_file", "parse_catalog"]

BUNDLED_CATALOG = "turnout/data/model-catalog.yaml"
"""How the bundled catalog is named in error messages."""

_SCHEMA = 1
_REQUIRED_STR = ("provider", "id", "family")
_OPTIONAL_STR = ("points_to", "replacement", "source", "note")
_DATES = ("released", "deprecated", "retires", "checked")
_PRICES = ("price_in_per_mtok", "price_out_per_mtok")
_FIELDS = frozenset((*_REQUIRED_STR, "pinned", *_OPTIONAL_STR, *_DATES, *_PRICES))


class _BadEntry(Exception):
    """A validation problem at entry ``index``, field ``key`` (``None``: the whole entry)."""

    def __init__(self, message: str, index: int | None, key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.index = index
        self.key = key


class _Loader(_BaseLoader):
    """The fast safe loader, except that an impossible date stays a string.

    PyYAML raises a bare ``ValueError`` with no line for ``2025-02-30``; kept as
    text, it fails date validation below and is reported with its line.
    """

    def _timestamp(self, node: yaml.ScalarNode) -> object:
        try:
            return self.construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader._timestamp)


@functools.lru_cache(maxsize=1)
def load_bundled_catalog() -> Catalog:
    """The catalog shipped with turnout, parsed once per process (it is immutable)."""
    resource = importlib.resources.files("turnout") / "data" / "model-catalog.yaml"
    return parse_catalog(resource.read_text(encoding="utf-8"), BUNDLED_CATALOG)


def load_catalog_file(path: str | os.PathLike[str]) -> Catalog:
    """Load a catalog file; raise :class:`ConfigError` with the path and line on any problem."""
    label = os.fspath(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read model catalog: {exc}", label, None) from exc
    return parse_catalog(text, label)


def parse_catalog(text: str, label: str) -> Catalog:
    """Validate catalog YAML ``text``; ``label`` names its origin in error messages."""
    try:
        document: object = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(f"malformed YAML: {_describe(exc)}", label, line) from exc
    try:
        return Catalog.of(_entries(document))
    except _BadEntry as exc:
        raise ConfigError(exc.message, label, _line_of(text, exc.index, exc.key)) from None


def _entries(document: object) -> list[CatalogEntry]:
    if not isinstance(document, Mapping):
        raise _BadEntry("a model catalog must be a mapping with an 'entries' list", None)
    schema = document.get("schema", _SCHEMA)
    if schema != _SCHEMA:
        raise _BadEntry(
            f"unsupported catalog schema {schema!r} (expected {_SCHEMA})", None, "schema"
        )
    raw_entries = document.get("entries")
    if not isinstance(raw_entries, list):
        raise _BadEntry("'entries' must be a list of model entries", None)
    seen: set[tuple[str, str]] = set()
    entries: list[CatalogEntry] = []
    for index, raw in enumerate(raw_entries):
        entry = _entry(raw, index)
        if entry.key in seen:
            raise _BadEntry(f"entry {index + 1}: duplicate id '{entry.version_id}'", index)
        seen.add(entry.key)
        entries.append(entry)
    return entries


def _entry(raw: object, index: int) -> CatalogEntry:
    where = f"entry {index + 1}"
    if not isinstance(raw, Mapping):
        raise _BadEntry(f"{where} must be a mapping of fields", index)
    unknown = sorted(str(key) for key in raw if key not in _FIELDS)
    if unknown:
        raise _BadEntry(f"{where}: unknown field '{unknown[0]}'", index, unknown[0])
    for key in (*_REQUIRED_STR, "pinned"):
        if key not in raw:
            raise _BadEntry(f"{where}: missing required field '{key}'", index)
    names = {key: _name(raw, key, where, index) for key in _REQUIRED_STR}
    texts = {key: _text(raw, key, where, index) for key in _OPTIONAL_STR}
    pinned = raw["pinned"]
    if not isinstance(pinned, bool):
        raise _BadEntry(f"{where}: 'pinned' must be true or false, not {pinned!r}", index, "pinned")
    dates = {key: _date(raw.get(key), key, where, index) for key in _DATES}
    prices = {key: _price(raw.get(key), key, where, index) for key in _PRICES}
    return CatalogEntry(
        provider=names["provider"],
        model_id=names["id"],
        family=names["family"],
        pinned=pinned,
        points_to=texts["points_to"],
        released=dates["released"],
        deprecated=dates["deprecated"],
        retires=dates["retires"],
        replacement=texts["replacement"],
        price_in_per_mtok=prices["price_in_per_mtok"],
        price_out_per_mtok=prices["price_out_per_mtok"],
        source=texts["source"],
        checked=dates["checked"],
        note=texts["note"],
    )


def _name(raw: Mapping[object, object], key: str, where: str, index: int) -> str:
    value = raw[key]
    if isinstance(value, str) and value.strip():
        return value
    hint = " (quote it)" if isinstance(value, int | float | date) else ""
    raise _BadEntry(f"{where}: '{key}' must be a non-empty string, not {value!r}{hint}", index, key)


def _text(raw: Mapping[object, object], key: str, where: str, index: int) -> str | None:
    value = raw.get(key)
    if value is None or isinstance(value, str):
        return value
    raise _BadEntry(f"{where}: '{key}' must be a string or null, not {value!r}", index, key)


def _date(value: object, key: str, where: str, index: int) -> date | None:
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _BadEntry(
        f"{where}: '{key}' must be a date YYYY-MM-DD or null, not {value!r}", index, key
    )


def _price(value: object, key: str, where: str, index: int) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        price = float(value)
        if math.isfinite(price) and price >= 0:
            return price
    raise _BadEntry(
        f"{where}: '{key}' must be a non-negative number (USD per 1M tokens) or null, "
        f"not {value!r}",
        index,
        key,
    )


def _describe(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError):
        parts = (exc.context, exc.problem)
        return "; ".join(part for part in parts if part) or type(exc).__name__
    return str(exc)


def _line_of(text: str, index: int | None, key: str | None) -> int | None:
    """The 1-based line of the culprit, found by re-reading ``text`` only on the error path."""
    root = yaml.compose(text, Loader=_Loader)
    if root is None:
        return None
    if index is None:  # a top-level problem: point at that key, or at the document
        found = _find(root, key or "entries")
        return _line(found[0] if found else root)
    found = _find(root, "entries")
    entries = found[1] if found else root
    if not isinstance(entries, yaml.SequenceNode) or index >= len(entries.value):
        return _line(entries)
    entry: yaml.Node = entries.value[index]
    field = _find(entry, key) if key is not None else None
    return _line(field[0] if field else entry)


def _find(node: yaml.Node, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    """The (key node, value node) pair of ``key`` if ``node`` is a mapping that has it."""
    if isinstance(node, yaml.MappingNode):
        pairs: list[tuple[yaml.Node, yaml.Node]] = node.value
        for key_node, value_node in pairs:
            if key_node.value == key:
                return key_node, value_node
    return None


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1
