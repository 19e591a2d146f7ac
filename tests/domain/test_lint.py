"""The lint rule for one id, against the bundled catalog on a fixed day (no clock)."""

from __future__ import annotations

from datetime import date

import pytest

from turnout.catalog_file import load_bundled_catalog
from turnout.domain.catalog import Catalog, CatalogEntry
from turnout.domain.lint import FindingKind, IdLinter, lint_id

TODAY = date(2026, 11, 25)


@pytest.fixture(scope="module")
def linter() -> IdLinter:
    return IdLinter(load_bundled_catalog(), TODAY)


def test_a_floating_alias_suggests_the_release_the_catalog_says_it_points_to(
    linter: IdLinter,
) -> None:
    problem = linter.check("gpt-4o-mini")
    assert problem is not None
    assert problem.kind is FindingKind.FLOATING
    assert problem.version_id == "openai/gpt-4o-mini"
    assert problem.suggestions == ("gpt-4o-mini-2024-07-18",)
    assert "floating alias" in problem.message


def test_a_floating_alias_without_a_known_target_suggests_the_newest_pinned_releases(
    linter: IdLinter,
) -> None:
    problem = linter.check("gpt-4o")
    assert problem is not None
    assert problem.kind is FindingKind.FLOATING
    assert problem.suggestions == ("gpt-4o-2024-11-20", "gpt-4o-2024-08-06")
    assert problem.suggestion == "gpt-4o-2024-11-20"


def test_a_latest_alias_whose_releases_are_all_retired_suggests_the_replacement(
    linter: IdLinter,
) -> None:
    problem = linter.check("claude-3-5-sonnet-latest")
    assert problem is not None
    assert problem.kind is FindingKind.FLOATING
    assert problem.suggestions == ("claude-sonnet-4-6",)


def test_a_pinned_id_retiring_within_the_window_has_its_days_left(linter: IdLinter) -> None:
    problem = linter.check("claude-sonnet-4-5-20250929")
    assert problem is not None
    assert problem.kind is FindingKind.RETIRING
    assert problem.days_left == 5
    assert "2026-11-30 (5 days left)" in problem.message
    assert problem.replacement == "claude-sonnet-5-5"
    assert problem.suggestions == ("claude-sonnet-5-5",)


def test_the_window_decides_what_retiring_means() -> None:
    catalog = load_bundled_catalog()
    assert lint_id("claude-sonnet-4-5-20250929", catalog, TODAY, within_days=4) is None
    problem = lint_id("claude-sonnet-4-5-20250929", catalog, TODAY, within_days=5)
    assert problem is not None
    assert problem.kind is FindingKind.RETIRING


def test_a_retired_id_is_retired_with_negative_days_and_the_replacement(
    linter: IdLinter,
) -> None:
    problem = linter.check("claude-3-5-sonnet-20240620")
    assert problem is not None
    assert problem.kind is FindingKind.RETIRED
    assert problem.days_left == (date(2025, 10, 28) - TODAY).days
    assert "retired on 2025-10-28" in problem.message
    assert problem.suggestions == ("claude-sonnet-4-6",)


def test_a_retired_floating_alias_is_reported_as_retired(linter: IdLinter) -> None:
    problem = linter.check("gpt-3.5-turbo")
    assert problem is not None
    assert problem.kind is FindingKind.RETIRED


def test_a_free_text_replacement_is_named_but_never_suggested(linter: IdLinter) -> None:
    problem = linter.check("gpt-4-0314")
    assert problem is not None
    assert problem.kind is FindingKind.RETIRED
    assert "gpt-5 or gpt-4.1" in problem.message
    assert problem.suggestions == ()


@pytest.mark.parametrize(
    "text",
    [
        "claude-sonnet-4-6",  # pinned, no retirement date
        "openai/gpt-5.2-2025-12-11",  # pinned, turnout's own form
        "gpt-4o-2099-01-01",  # unknown but dated: pinned by the rule
        "prod-chat",  # a turnout alias
        "sim/chat-2025-01-01",  # turnout's sim provider
        "openai/llama-3-70b",  # LiteLLM's "any OpenAI-compatible server"
        "gpt-oss-120b",  # open weights, not a re-pointed alias
        "ft:gpt-4o-2024-08-06:acme::abc123",  # a fine-tune
        "latest",  # too vague to be sure it is a model id
        "text-embedding-3-small",
        "",
    ],
)
def test_fine_ids_and_non_ids_produce_nothing(linter: IdLinter, text: str) -> None:
    assert linter.check(text) is None


def test_a_provider_prefix_is_kept_in_the_suggestion(linter: IdLinter) -> None:
    problem = linter.check("openai/gpt-4o-mini")
    assert problem is not None
    assert problem.suggestions == ("openai/gpt-4o-mini-2024-07-18",)
    other = linter.check("gemini/gemini-1.5-pro")
    assert other is not None
    assert other.version_id == "google/gemini-1.5-pro"
    assert other.suggestions == ("gemini/gemini-1.5-pro-002",)


def test_provider_latest_floats(linter: IdLinter) -> None:
    problem = linter.check("openai/latest")
    assert problem is not None
    assert problem.kind is FindingKind.FLOATING


def test_unknown_ids_follow_the_provider_naming_patterns() -> None:
    linter = IdLinter(Catalog(), TODAY)
    for text, provider in [
        ("gpt-9", "openai"),
        ("o4-mini", "openai"),
        ("claude-next", "anthropic"),
        ("gemini-9-pro", "google"),
        ("codestral-mamba", "mistral"),
        ("grok-9", "xai"),
        ("deepseek-coder", "deepseek"),
    ]:
        problem = linter.check(text)
        assert problem is not None, text
        assert problem.kind is FindingKind.FLOATING
        assert problem.version_id == f"{provider}/{text}"


def test_a_small_catalog_decides_on_its_own_facts() -> None:
    catalog = Catalog.of(
        [
            CatalogEntry("acme", "acme-chat", "acme-chat", False, points_to="acme-chat-0001"),
            CatalogEntry("acme", "acme-chat-0001", "acme-chat", True, retires=date(2027, 1, 1)),
        ]
    )
    linter = IdLinter(catalog, date(2026, 12, 1), within_days=31)
    floating = linter.check("acme-chat")
    assert floating is not None
    assert floating.suggestions == ("acme-chat-0001",)
    retiring = linter.check("acme-chat-0001")
    assert retiring is not None
    assert retiring.kind is FindingKind.RETIRING
    assert retiring.days_left == 31


def test_a_negative_window_is_refused() -> None:
    with pytest.raises(ValueError, match="within_days"):
        IdLinter(Catalog(), TODAY, within_days=-1)
