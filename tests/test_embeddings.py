"""The semantic extra's adapter, tested with fakes: torch is never needed here."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from turnout.domain.comparators import builtin_registry
from turnout.embeddings import MiniLMEncoder, register_embedding, semantic_installed


class FakeVectors:
    def __init__(self, rows: list[list[float]]) -> None:
        self.rows = rows

    def tolist(self) -> list[list[float]]:
        return self.rows


class FakeModel:
    """Stands in for a SentenceTransformer: one-hot vectors by text length."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], bool]] = []

    def encode(
        self,
        sentences: list[str],
        *,
        convert_to_numpy: bool,
        normalize_embeddings: bool,
        show_progress_bar: bool,
    ) -> FakeVectors:
        self.calls.append((sentences, normalize_embeddings))
        return FakeVectors([[1.0, 0.0] if len(s) < 5 else [0.0, 1.0] for s in sentences])


def test_minilm_encoder_loads_once_lazily_and_normalises() -> None:
    model = FakeModel()
    loads: list[str] = []

    def loader(device: str) -> FakeModel:
        loads.append(device)
        return model

    encoder = MiniLMEncoder(loader=loader)
    assert loads == []  # nothing loaded before the first text
    assert encoder(["abc", "abcdef"]) == [[1.0, 0.0], [0.0, 1.0]]
    assert encoder(["x"]) == [[1.0, 0.0]]
    assert loads == ["cpu"]
    assert model.calls == [(["abc", "abcdef"], True), (["x"], True)]


def test_register_embedding_only_when_installed_or_given() -> None:
    registry = builtin_registry()
    assert register_embedding(registry, installed=lambda: False) is False
    assert "embedding" not in registry

    def encoder(texts: Sequence[str]) -> list[list[float]]:
        return [[1.0] for _ in texts]

    assert register_embedding(registry, encoder) is True
    assert "embedding" in registry


def test_register_embedding_when_installed_defers_the_model() -> None:
    registry = builtin_registry()
    assert register_embedding(registry, installed=lambda: True) is True
    assert registry.get("embedding").name == "embedding"


def test_semantic_installed_is_a_cheap_probe() -> None:
    assert isinstance(semantic_installed(), bool)


def test_the_real_loader_names_the_extra_when_missing() -> None:
    if semantic_installed():
        return  # with the extra installed the real model would load: not a unit test
    from turnout.errors import InvalidInput

    with pytest.raises(InvalidInput, match=r"turnout\[semantic\]"):
        MiniLMEncoder()(["a", "b"])
