"""Every built-in comparator on fixed pairs, including failed sides and non-JSON."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from turnout.domain.comparators import (
    JUDGE,
    ComparatorKind,
    ComparatorRegistry,
    FunctionComparator,
    builtin_registry,
)
from turnout.domain.comparators.embedding import EmbeddingComparator, cosine_similarity
from turnout.domain.comparators.json_compare import parse_json, same_json
from turnout.domain.comparators.normalised import normalise_text
from turnout.domain.completions import Completion
from turnout.domain.shadow import ShadowPair
from turnout.errors import Conflict, InvalidInput


def pair(
    primary: str = "The answer is 42.",
    candidate: str = "The answer is 42.",
    *,
    primary_error: str | None = None,
    candidate_error: str | None = None,
    latency: tuple[float, float] = (100.0, 150.0),
    ttft: tuple[float | None, float | None] = (None, None),
    tokens_out: tuple[int | None, int | None] = (10, 12),
    cost: tuple[float | None, float | None] = (0.001, 0.0004),
) -> ShadowPair:
    return ShadowPair(
        request_id="r1",
        at=datetime(2026, 1, 15, 9, 0, tzinfo=UTC),
        alias="prod-chat",
        messages=[{"role": "user", "content": "What is 17 + 25?"}],
        primary=Completion(
            "sim/chat-2025-01-01",
            "" if primary_error else primary,
            latency[0],
            ttft[0],
            5,
            tokens_out[0],
            cost[0],
            primary_error,
        ),
        candidate=Completion(
            "sim/chat-2025-06-01",
            "" if candidate_error else candidate,
            latency[1],
            ttft[1],
            5,
            tokens_out[1],
            cost[1],
            candidate_error,
        ),
    )


def score(name: str, shadow_pair: ShadowPair) -> float | None:
    return builtin_registry().get(name).compare(shadow_pair)


TEXT_COMPARATORS = ("exact", "normalised", "token_set", "fuzzy", "length_ratio", "refusal")


@pytest.mark.parametrize(
    ("name", "primary", "candidate", "expected"),
    [
        ("exact", "Paris", "Paris", 1.0),
        ("exact", "Paris", "Paris.", 0.0),
        ("exact", "Paris", "paris", 0.0),
        ("normalised", "Paris.", "  paris ", 1.0),
        ("normalised", "The   answer\tis 42!", "the answer is 42", 1.0),
        ("normalised", "\uff30\uff41\uff52\uff49\uff53", "paris", 1.0),  # full-width letters (NFKC)
        ("normalised", "Straße", "STRASSE", 1.0),  # casefold, not lower
        ("normalised", "Paris", "Lyon", 0.0),
        ("normalised", "e.g. Paris", "e.g Paris", 0.0),  # only trailing punctuation goes
        ("json_valid", '{"a": 1}', '{"b": [1, 2]}', 1.0),
        ("json_valid", '{"a": 1}', "```json\n{}\n```", 0.0),
        ("json_valid", '{"a": 1}', "NaN", 0.0),
        ("json_valid", "plain text", '{"a": 1}', None),
        ("json_equal", '{"a": 1, "b": [1, 2]}', '{"b": [1, 2], "a": 1}', 1.0),
        ("json_equal", '{"a": 1}', '{"a": 1.0}', 1.0),
        ("json_equal", '{"a": true}', '{"a": 1}', 0.0),
        ("json_equal", '{"a": [1, 2]}', '{"a": [2, 1]}', 0.0),
        ("json_equal", '{"a": 1}', "not json", 0.0),
        ("json_equal", "null", "null", 1.0),
        ("json_equal", "not json", "not json", None),
        ("token_set", "The answer is 42.", "42", 1.0),
        ("token_set", "the cat sat", "sat the cat!", 1.0),
        ("token_set", "", "", 1.0),
        ("token_set", "apples", "oranges", pytest.approx(6 / 13)),  # LCS "aes": 2*3/13
        ("fuzzy", "abcd", "abcd", 1.0),
        ("fuzzy", "abcd", "abce", 0.75),
        ("fuzzy", "", "", 1.0),
        ("length_ratio", "abcd", "ab", 0.5),
        ("length_ratio", "ab", "abcdef", 3.0),
        ("length_ratio", "", "", 1.0),
        ("length_ratio", "", "x", None),
        ("refusal", "Sure: 42.", "It is 42.", 1.0),
        ("refusal", "I'm sorry, I can't help with that.", "I am unable to do that.", 1.0),
        ("refusal", "Sure: 42.", "I'm sorry, but I can't help with that.", 0.0),
        ("refusal", "I can't help with that.", "Sure: 42.", 0.0),
    ],
)
def test_text_comparators_on_fixed_pairs(
    name: str, primary: str, candidate: str, expected: float | None
) -> None:
    assert score(name, pair(primary, candidate)) == expected


@pytest.mark.parametrize("name", [*TEXT_COMPARATORS, "json_valid", "json_equal"])
@pytest.mark.parametrize(
    "errors", [("timeout", None), (None, "rate limited"), ("timeout", "timeout")]
)
def test_text_comparators_do_not_apply_to_a_failed_side(
    name: str, errors: tuple[str | None, str | None]
) -> None:
    failed = pair('{"a": 1}', '{"a": 1}', primary_error=errors[0], candidate_error=errors[1])
    assert score(name, failed) is None


def test_deltas_are_candidate_minus_primary() -> None:
    p = pair(latency=(100.0, 150.0), ttft=(20.0, 35.0), tokens_out=(10, 7), cost=(0.002, 0.0005))
    assert score("latency_ms", p) == 50.0
    assert score("ttft_ms", p) == 15.0
    assert score("tokens_out", p) == -3.0
    assert score("cost_usd", p) == pytest.approx(-0.0015)


def test_deltas_skip_failures_and_unreported_metrics() -> None:
    assert score("latency_ms", pair(candidate_error="boom")) is None
    assert score("latency_ms", pair(primary_error="boom")) is None
    assert score("ttft_ms", pair(ttft=(20.0, None))) is None
    assert score("tokens_out", pair(tokens_out=(None, 3))) is None
    assert score("cost_usd", pair(cost=(None, None))) is None


@pytest.mark.parametrize(
    ("errors", "expected"),
    [
        ((None, None), 0.0),
        ((None, "boom"), 1.0),  # the candidate fails where the primary succeeded
        (("boom", None), -1.0),
        (("boom", "boom"), 0.0),
    ],
)
def test_error_comparator(errors: tuple[str | None, str | None], expected: float) -> None:
    assert score("error", pair(primary_error=errors[0], candidate_error=errors[1])) == expected


def test_every_agreement_scores_within_unit_interval() -> None:
    registry = builtin_registry()
    samples = [pair(a, b) for a in ("", "x", '{"a": 1}', "I'm sorry") for b in ("", "y z", "[]")]
    for name in registry.names():
        comparator = registry.get(name)
        if comparator.kind is ComparatorKind.AGREEMENT:
            for p in samples:
                value = comparator.compare(p)
                assert value is None or 0.0 <= value <= 1.0, (name, p)


def test_normalise_text() -> None:
    assert normalise_text("  Hello,\n\n WORLD!?  ") == "hello, world"
    assert normalise_text("...") == ""


def test_parse_json_and_structural_equality() -> None:
    assert parse_json("null") == (True, None)
    assert parse_json("Infinity") == (False, None)
    assert parse_json("{'a': 1}") == (False, None)
    assert same_json({"a": [1, {"b": False}]}, {"a": [1.0, {"b": False}]})
    assert not same_json({"a": False}, {"a": 0})
    assert not same_json("1", 1)
    assert not same_json({"a": 1}, {"a": 1, "b": 2})


def test_registry_knows_the_builtins_with_kinds_and_units() -> None:
    registry = builtin_registry()
    assert set(registry.names()) == {
        "exact", "normalised", "json_valid", "json_equal", "token_set", "fuzzy",
        "length_ratio", "refusal", "latency_ms", "ttft_ms", "tokens_out", "cost_usd", "error",
    }  # fmt: skip
    kinds = registry.kinds()
    assert kinds["exact"] == (ComparatorKind.AGREEMENT, "")
    assert kinds["latency_ms"] == (ComparatorKind.DELTA, "ms")
    assert kinds["cost_usd"] == (ComparatorKind.DELTA, "USD")
    assert kinds["length_ratio"] == (ComparatorKind.RATIO, "x")
    assert kinds[JUDGE] == (ComparatorKind.AGREEMENT, "")


def test_unknown_names_list_the_known_ones() -> None:
    registry = builtin_registry()
    with pytest.raises(InvalidInput, match=r"unknown comparator 'exakt'; known: .*exact"):
        registry.get("exakt")
    with pytest.raises(InvalidInput, match=r"'exakt', 'fuzy'.*known: .*judge"):
        registry.resolve(["exakt", "exact", "fuzy"])
    with pytest.raises(InvalidInput, match="listed twice"):
        registry.resolve(["exact", "exact"])


def test_embedding_without_the_extra_names_the_extra() -> None:
    with pytest.raises(InvalidInput, match=r"turnout\[semantic\]"):
        builtin_registry().get("embedding")
    with pytest.raises(InvalidInput, match=r"turnout\[semantic\]"):
        builtin_registry().resolve(["exact", "embedding"])


def test_resolve_keeps_order_and_leaves_the_judge_out() -> None:
    resolved = builtin_registry().resolve(["fuzzy", JUDGE, "exact"])
    assert [c.name for c in resolved] == ["fuzzy", "exact"]


def test_registering_a_variant_and_refusing_duplicates() -> None:
    def shouting(p: ShadowPair) -> float:
        return 1.0 if p.candidate.text.isupper() else 0.0

    registry = ComparatorRegistry(
        [FunctionComparator("shouting", ComparatorKind.AGREEMENT, shouting)]
    )
    assert registry.get("shouting").compare(pair(candidate="HI")) == 1.0
    with pytest.raises(Conflict):
        registry.register(FunctionComparator("shouting", ComparatorKind.AGREEMENT, shouting))
    with pytest.raises(Conflict, match="reserved"):
        registry.register(FunctionComparator(JUDGE, ComparatorKind.AGREEMENT, shouting))


class FakeEncoder:
    """Maps known texts to fixed vectors; records every call."""

    def __init__(self, vectors: dict[str, list[float]]) -> None:
        self.vectors = vectors
        self.calls: list[list[str]] = []

    def __call__(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        return [self.vectors[text] for text in texts]


def test_embedding_comparator_with_a_fake_encoder() -> None:
    encoder = FakeEncoder({"a": [1.0, 0.0], "b": [1.0, 1.0], "c": [0.0, 1.0], "d": [-1.0, 0.0]})
    comparator = EmbeddingComparator(encoder)
    assert comparator.name == "embedding"
    assert comparator.kind is ComparatorKind.AGREEMENT
    assert comparator.compare(pair("a", "b")) == pytest.approx(2**-0.5)
    assert comparator.compare(pair("a", "c")) == 0.0
    assert comparator.compare(pair("a", "d")) == 0.0  # opposite clips to 0
    assert comparator.compare(pair("a", "a")) == 1.0
    assert comparator.compare(pair("a", " ")) == 0.0
    assert comparator.compare(pair("a", "b", candidate_error="boom")) is None
    assert encoder.calls == [["a", "b"], ["a", "c"], ["a", "d"]]
    registry = builtin_registry()
    registry.register(comparator)
    assert registry.get("embedding") is comparator


def test_cosine_similarity() -> None:
    assert cosine_similarity([3.0, 4.0], [3.0, 4.0]) == pytest.approx(1.0)
    assert cosine_similarity([0.0, 0.0], [1.0, 0.0]) == 0.0
    with pytest.raises(ValueError, match="different lengths"):
        cosine_similarity([1.0], [1.0, 2.0])
