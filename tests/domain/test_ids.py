"""The pinning rule: ids that float are refused, pinned releases pass."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from turnout.catalog_file import load_bundled_catalog
from turnout.domain.catalog import Catalog, CatalogEntry
from turnout.domain.ids import VersionId, classify_pinning, require_pinned
from turnout.errors import FloatingVersionError, InvalidInput

PROVIDERS = st.from_regex(r"[a-z][a-z0-9_-]{0,31}", fullmatch=True)
MODELS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,199}", fullmatch=True)
KNOWN_PROVIDERS = st.sampled_from(["openai", "anthropic", "google", "mistral", "sim", "vllm"])
# Segments whose digit runs are at most two long carry neither a date nor a revision.
_SEGMENT = st.from_regex(r"[a-z]{1,8}[0-9]{0,2}|[0-9]{1,2}[a-z]{1,6}", fullmatch=True)
BARE_NAMES = st.lists(_SEGMENT, min_size=1, max_size=4).map("-".join)
DATES = st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31))
PIN_SUFFIXES = st.one_of(
    DATES.map(lambda d: d.strftime("-%Y-%m-%d")),
    DATES.map(lambda d: d.strftime("-%Y%m%d")),
    DATES.map(lambda d: d.strftime("@%Y%m%d")),
    st.integers(0, 999).map(lambda n: f"-{n:03d}"),
    st.integers(0, 9999).map(lambda n: f"-{n:04d}"),
)
FLOATING_WORDS = {"latest", "default", "stable", "current"}

REFUSED = [
    ("openai/gpt-4o", "openai/gpt-4o-2024-11-20"),
    ("openai/gpt-4.1", "openai/gpt-4.1-2025-04-14"),
    ("anthropic/claude-sonnet-4-5", "anthropic/claude-sonnet-4-5-20250929"),
    ("anthropic/claude-3-5-sonnet-latest", "anthropic/claude-3-5-sonnet-20241022"),
    ("google/gemini-1.5-pro", "google/gemini-1.5-pro-002"),
    ("openai/o3", "openai/o3-2025-04-16"),
    ("openai/latest", None),
    ("sim/default", None),
]

PINNED = [
    ("anthropic/claude-sonnet-4-6", "pinned release in the catalog"),
    ("openai/gpt-4o-2024-11-20", "pinned release in the catalog"),
    ("anthropic/claude-sonnet-4-5-20250929", "pinned release in the catalog"),
    ("google/gemini-1.5-pro-002", "pinned release in the catalog"),
    ("sim/chat-2025-01-01", "carries a release date"),
    ("vllm/my-model@20240620", "carries a release date"),
    ("foo/bar-0125", "carries a numbered revision"),
]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_bundled_catalog()


# --- VersionId.parse ------------------------------------------------------------------


def test_parse_splits_provider_from_the_first_slash() -> None:
    vid = VersionId.parse("  vllm/meta-llama/Llama-3.1-8B  ")
    assert (vid.provider, vid.model) == ("vllm", "meta-llama/Llama-3.1-8B")
    assert str(vid) == "vllm/meta-llama/Llama-3.1-8B"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("gpt-4o", "must be 'provider/model_id'"),
        ("openai/", "must be 'provider/model_id'"),
        ("", "must be 'provider/model_id'"),
        ("/gpt-4o", "provider ''"),
        ("OpenAI/gpt-4o", "provider 'OpenAI'"),
        ("open ai/gpt-4o", "provider 'open ai'"),
        ("openai\n/gpt-4o-2024-11-20", "provider 'openai\\n'"),
        ("openai/gpt 4o", "model id 'gpt 4o'"),
        ("openai/-gpt", "model id '-gpt'"),
        ("openai/gpt-4o\u00e9", "model id"),
    ],
)
def test_parse_rejects_malformed_ids(text: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as info:
        VersionId.parse(text)
    assert fragment in info.value.message


@given(PROVIDERS, MODELS)
def test_parse_round_trips_str(provider: str, model: str) -> None:
    vid = VersionId(provider, model)
    assert VersionId.parse(str(vid)) == vid
    assert str(VersionId.parse(f"{provider}/{model}")) == f"{provider}/{model}"


def test_version_ids_order_by_provider_then_model() -> None:
    ids = [VersionId.parse(s) for s in ("openai/o3", "anthropic/b", "openai/gpt-4o")]
    assert [str(v) for v in sorted(ids)] == ["anthropic/b", "openai/gpt-4o", "openai/o3"]


# --- properties of the pinning rule ---------------------------------------------------


@given(KNOWN_PROVIDERS, MODELS, st.sampled_from(["-latest", ":latest", "-LATEST"]))
def test_any_id_ending_in_latest_floats(
    catalog: Catalog, provider: str, stem: str, suffix: str
) -> None:
    verdict = classify_pinning(VersionId(provider, stem + suffix), catalog)
    assert not verdict.pinned
    assert "moving alias" in verdict.reason


@given(KNOWN_PROVIDERS, st.sampled_from(sorted(FLOATING_WORDS)))
def test_floating_words_float(catalog: Catalog, provider: str, word: str) -> None:
    assert not classify_pinning(VersionId(provider, word), catalog).pinned


def test_every_catalog_entry_classifies_as_the_catalog_says(catalog: Catalog) -> None:
    wrong = [
        entry.version_id
        for entry in catalog
        if classify_pinning(VersionId.parse(entry.version_id), catalog).pinned != entry.pinned
    ]
    assert wrong == []
    assert sum(entry.pinned for entry in catalog) > 50


@given(KNOWN_PROVIDERS, BARE_NAMES, PIN_SUFFIXES)
def test_unknown_id_with_date_or_revision_is_pinned(
    catalog: Catalog, provider: str, base: str, suffix: str
) -> None:
    assume(base not in FLOATING_WORDS and not base.startswith("latest-"))
    model = base + suffix
    assume(catalog.lookup(provider, model) is None)
    verdict = require_pinned(VersionId.parse(f"{provider}/{model}"), catalog)
    assert verdict.pinned
    assert verdict.reason in ("carries a release date", "carries a numbered revision")


@given(KNOWN_PROVIDERS, BARE_NAMES)
def test_unknown_bare_name_floats(catalog: Catalog, provider: str, model: str) -> None:
    assume(catalog.lookup(provider, model) is None)
    vid = VersionId.parse(f"{provider}/{model}")
    assert not classify_pinning(vid, catalog).pinned
    with pytest.raises(FloatingVersionError):
        require_pinned(vid, catalog)


@given(BARE_NAMES, PIN_SUFFIXES, st.booleans())
def test_the_catalog_overrides_the_naming_heuristic(base: str, suffix: str, pinned: bool) -> None:
    assume(base not in FLOATING_WORDS and not base.startswith("latest-"))
    assume(not base.endswith("-latest"))
    for model in (base, base + suffix):
        catalog = Catalog.of([CatalogEntry("acme", model, base, pinned)])
        assert classify_pinning(VersionId("acme", model), catalog).pinned is pinned


# --- the required concrete cases ------------------------------------------------------


@pytest.mark.parametrize(("text", "suggestion"), REFUSED)
def test_floating_ids_are_refused_with_suggestions(
    catalog: Catalog, text: str, suggestion: str | None
) -> None:
    with pytest.raises(FloatingVersionError) as info:
        require_pinned(VersionId.parse(text), catalog)
    error = info.value
    assert f"'{text}'" in error.message
    assert error.version_id == text
    if suggestion is None:
        assert error.suggestions == ()
        assert "pin a dated release" in error.message
    else:
        assert suggestion in error.suggestions
        assert suggestion in error.message
        assert all(catalog.lookup(*s.split("/", 1)) is not None for s in error.suggestions)


def test_a_floating_alias_suggests_its_current_target_first(catalog: Catalog) -> None:
    verdict = classify_pinning(VersionId.parse("anthropic/claude-sonnet-4-5"), catalog)
    assert verdict.suggestions[0] == "anthropic/claude-sonnet-4-5-20250929"
    assert "today it points to claude-sonnet-4-5-20250929" in verdict.reason


def test_suggestions_skip_releases_retired_by_today(catalog: Catalog) -> None:
    vid = VersionId.parse("anthropic/claude-3-5-sonnet-latest")
    assert classify_pinning(vid, catalog, today=date(2024, 12, 1)).suggestions
    assert classify_pinning(vid, catalog, today=date(2026, 11, 25)).suggestions == ()


@pytest.mark.parametrize(("text", "reason"), PINNED)
def test_pinned_ids_are_accepted(catalog: Catalog, text: str, reason: str) -> None:
    verdict = require_pinned(VersionId.parse(text), catalog)
    assert verdict.pinned
    assert verdict.reason == reason
    assert str(verdict.version_id) == text


def test_dateless_anthropic_ids_are_pinned_only_because_the_catalog_says_so(
    catalog: Catalog,
) -> None:
    vid = VersionId.parse("anthropic/claude-sonnet-4-6")
    assert classify_pinning(vid, catalog).pinned
    assert not classify_pinning(vid, Catalog()).pinned
