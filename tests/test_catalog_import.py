"""Reading catalog updates: turnout's YAML and LiteLLM's model price map."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from turnout.catalog_import import LITELLM_SOURCE, load_catalog_update
from turnout.errors import ConfigError, InvalidInput

LITELLM = Path(__file__).parent / "fixtures" / "catalog" / "litellm-prices.json"
CHECKED = date(2026, 12, 1)


def test_litellm_entries_are_mapped_priced_per_mtok_and_dated() -> None:
    found = load_catalog_update(LITELLM, CHECKED)
    assert found.format == "litellm"
    updates = {u.version_id: u for u in found.updates}
    assert set(updates) == {
        "openai/gpt-4o-2024-08-06",
        "openai/gpt-9-test-2026-10-01",
        "google/gemini-9-pro-001",
        "mistral/mistral-large-2407",
    }
    gpt = updates["openai/gpt-4o-2024-08-06"]
    assert gpt.facts == {
        "price_in_per_mtok": 2.5,
        "price_out_per_mtok": 10.0,
        "retires": date(2027, 3, 1),
        "source": LITELLM_SOURCE,
    }
    assert gpt.checked == CHECKED
    assert gpt.origin == "LiteLLM"
    # the Gemini API's date, not Vertex's, for the same id
    assert updates["google/gemini-9-pro-001"].facts["retires"] == date(2027, 5, 1)


def test_litellm_entries_that_cannot_be_mapped_are_skipped_and_counted() -> None:
    found = load_catalog_update(LITELLM, CHECKED)
    assert found.skipped == {
        "duplicate id": 1,
        "not a chat or completion model": 1,
        "provider not mapped": 1,
    }
    assert found.skipped_total == 3


def test_turnout_yaml_asserts_every_known_field(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(
        "schema: 1\nentries:\n- provider: openai\n  id: gpt-x-2026-01-01\n  family: gpt-x\n"
        "  pinned: true\n  retires: 2027-01-01\n  checked: 2026-12-01\n  note: null\n"
    )
    (update,) = load_catalog_update(path, CHECKED).updates
    assert update.facts == {"family": "gpt-x", "pinned": True, "retires": date(2027, 1, 1)}
    assert update.checked == date(2026, 12, 1)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("{not json", ConfigError),
        ('{"m": {"litellm_provider": "openai", "deprecation_date": "soon"}}', InvalidInput),
        ('{"m": {"litellm_provider": "openai", "input_cost_per_token": "free"}}', InvalidInput),
        ("schema: 1\nentries:\n- provider: openai\n", ConfigError),
    ],
)
def test_bad_files_are_refused(tmp_path: Path, text: str, error: type[Exception]) -> None:
    path = tmp_path / "update.txt"
    path.write_text(text)
    with pytest.raises(error):
        load_catalog_update(path, CHECKED)
