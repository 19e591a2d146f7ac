"""Loading the model catalog from YAML, and the errors a bad file produces."""

from __future__ import annotations

import importlib.resources
from datetime import date
from pathlib import Path

import pytest
import yaml

from turnout.catalog_file import (
    BUNDLED_CATALOG,
    load_bundled_catalog,
    load_catalog_file,
    parse_catalog,
)
from turnout.domain.catalog import Catalog
from turnout.errors import ConfigError

GOOD = """\
schema: 1
generated: 2026-11-25
entries:
- provider: acme
  id: chat
  family: chat
  pinned: false
  points_to: chat-2025-01-01
  released: null
  deprecated: null
  retires: null
  replacement: null
  price_in_per_mtok: 1
  price_out_per_mtok: 2.5
  source: https://example.com/models
  checked: 2026-11-25
  note: an alias
- provider: acme
  id: chat-2025-01-01
  family: chat
  pinned: true
  released: '2025-01-01'
  retires: "2026-06-30"
"""


@pytest.fixture(scope="module")
def bundled() -> Catalog:
    return load_bundled_catalog()


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _error(tmp_path: Path, text: str) -> ConfigError:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_catalog_file(path)
    assert info.value.path == str(path)
    assert info.value.message.startswith(str(path))
    return info.value


# --- the bundled catalog ---------------------------------------------------------------


def test_bundled_catalog_has_every_yaml_entry(bundled: Catalog) -> None:
    resource = importlib.resources.files("turnout") / "data" / "model-catalog.yaml"
    raw = yaml.safe_load(resource.read_text(encoding="utf-8"))
    assert len(bundled) == len(raw["entries"]) > 200
    assert [e.version_id for e in bundled] == [
        f"{item['provider']}/{item['id']}" for item in raw["entries"]
    ]


def test_bundled_catalog_is_parsed_once(bundled: Catalog) -> None:
    assert load_bundled_catalog() is bundled


def test_bundled_entries_have_typed_fields(bundled: Catalog) -> None:
    snapshot = bundled.lookup("openai", "gpt-3.5-turbo-0125")
    assert snapshot is not None
    assert snapshot.pinned is True
    assert snapshot.family == "gpt-3.5-turbo"
    assert snapshot.released == date(2024, 1, 25)
    assert snapshot.retires == date(2026, 10, 23)
    assert snapshot.price_in_per_mtok == 0.5
    assert snapshot.source == "https://developers.openai.com/api/docs/deprecations"
    alias = bundled.lookup("openai", "gpt-4.1")
    assert alias is not None
    assert (alias.pinned, alias.points_to) == (False, "gpt-4.1-2025-04-14")


def test_bundled_file_loads_the_same_through_the_generic_loader(
    bundled: Catalog, tmp_path: Path
) -> None:
    resource = importlib.resources.files("turnout") / "data" / "model-catalog.yaml"
    path = _write(tmp_path, resource.read_text(encoding="utf-8"))
    assert load_catalog_file(path) == bundled


# --- good files ------------------------------------------------------------------------


def test_loads_yaml_dates_iso_strings_and_integer_prices(tmp_path: Path) -> None:
    catalog = load_catalog_file(str(_write(tmp_path, GOOD)))
    alias = catalog.lookup("acme", "chat")
    release = catalog.lookup("acme", "chat-2025-01-01")
    assert alias is not None
    assert release is not None
    assert alias.model_id == "chat"
    assert alias.checked == date(2026, 11, 25)
    assert alias.price_in_per_mtok == 1.0
    assert isinstance(alias.price_in_per_mtok, float)
    assert alias.note == "an alias"
    assert release.released == date(2025, 1, 1)
    assert release.retires == date(2026, 6, 30)
    assert (release.points_to, release.source, release.checked) == (None, None, None)


def test_schema_may_be_omitted_and_entries_may_be_empty() -> None:
    assert len(parse_catalog("entries: []\n", "inline")) == 0


# --- bad files -------------------------------------------------------------------------


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match="cannot read model catalog") as info:
        load_catalog_file(missing)
    assert (info.value.path, info.value.line) == (str(missing), None)


def test_malformed_yaml_reports_the_line(tmp_path: Path) -> None:
    error = _error(tmp_path, GOOD.replace("  family: chat\n  pinned: true", "  family: [chat\n"))
    assert "malformed YAML" in error.message
    assert error.line is not None
    assert 20 <= error.line <= 25


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "must be a mapping"),
        ("- a\n- b\n", "must be a mapping"),
        ("schema: 1\n", "'entries' must be a list"),
        ("entries: {a: 1}\n", "'entries' must be a list"),
    ],
)
def test_wrong_document_shape(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        parse_catalog(text, "inline")


def test_unsupported_schema_points_at_the_schema_line(tmp_path: Path) -> None:
    error = _error(tmp_path, GOOD.replace("schema: 1", "schema: 2"))
    assert "unsupported catalog schema 2" in error.message
    assert error.line == 1


def test_missing_required_field_points_at_the_entry(tmp_path: Path) -> None:
    error = _error(tmp_path, GOOD.replace("  family: chat\n  pinned: true\n", "  pinned: true\n"))
    assert "entry 2: missing required field 'family'" in error.message
    assert error.line == 18
    assert error.message.startswith(f"{error.path}:18: ")


def test_missing_pinned_is_an_error(tmp_path: Path) -> None:
    error = _error(tmp_path, GOOD.replace("  pinned: false\n", ""))
    assert "entry 1: missing required field 'pinned'" in error.message
    assert error.line == 4


@pytest.mark.parametrize(
    ("old", "new", "fragment", "line"),
    [
        ("released: '2025-01-01'", "released: 2025-02-30", "'released' must be a date", 22),
        ("released: '2025-01-01'", "released: soon", "'released' must be a date", 22),
        ("released: '2025-01-01'", "released: 2025-01-01 10:00:00", "must be a date", 22),
        ("checked: 2026-11-25", "checked: 20261125", "'checked' must be a date", 16),
        ("pinned: true", "pinned: 'yes'", "'pinned' must be true or false", 21),
        ("pinned: true", "pinned: 1", "'pinned' must be true or false", 21),
        ("id: chat-2025-01-01", "id: 2025", "'id' must be a non-empty string", 19),
        ("id: chat-2025-01-01", "id: ''", "'id' must be a non-empty string", 19),
        ("provider: acme\n  id: chat\n", "provider: null\n  id: chat\n", "'provider'", 4),
        ("note: an alias", "note: [a, b]", "'note' must be a string or null", 17),
        ("price_in_per_mtok: 1", "price_in_per_mtok: free", "'price_in_per_mtok'", 13),
        ("price_in_per_mtok: 1", "price_in_per_mtok: -1", "non-negative", 13),
        ("price_in_per_mtok: 1", "price_in_per_mtok: .nan", "non-negative", 13),
        ("price_in_per_mtok: 1", "price_in_per_mtok: true", "'price_in_per_mtok'", 13),
        ("  note: an alias\n", "  note: an alias\n  retire: 2026-01-01\n", "unknown field", 18),
    ],
)
def test_bad_field_points_at_its_line(
    tmp_path: Path, old: str, new: str, fragment: str, line: int
) -> None:
    assert old in GOOD
    error = _error(tmp_path, GOOD.replace(old, new, 1))
    assert fragment in error.message
    assert error.line == line


def test_non_mapping_entry_is_reported(tmp_path: Path) -> None:
    error = _error(tmp_path, GOOD + "- just-a-string\n")
    assert "entry 3 must be a mapping" in error.message
    assert error.line == 24


def test_duplicate_ids_are_reported_at_the_second(tmp_path: Path) -> None:
    duplicate = "- provider: acme\n  id: chat\n  family: chat\n  pinned: true\n"
    error = _error(tmp_path, GOOD + duplicate)
    assert "entry 3: duplicate id 'acme/chat'" in error.message
    assert error.line == 24


def test_error_label_for_the_bundled_catalog() -> None:
    with pytest.raises(ConfigError) as info:
        parse_catalog("entries: 3\n", BUNDLED_CATALOG)
    assert info.value.message == (
        "turnout/data/model-catalog.yaml:1: 'entries' must be a list of model entries"
    )
