"""Shadow comparators: named, pure questions about a (primary, candidate) pair.

Add a variant by adding a file: a module with a ``COMPARATORS`` tuple, listed in
``registry.BUILTIN_MODULES``. Built-ins (see each module's docstring):

========================  ===========  =======================================
name                      kind         question
========================  ===========  =======================================
``exact``                 agreement    byte-identical text?
``normalised``            agreement    identical after case/Unicode/space folding?
``json_valid``            agreement    candidate valid JSON (when the primary is)?
``json_equal``            agreement    the same JSON document, key order ignored?
``token_set``, ``fuzzy``  agreement    rapidfuzz similarity in [0, 1]
``refusal``               agreement    refuses exactly when the primary refuses?
``length_ratio``          ratio        candidate length / primary length
``latency_ms`` ...        delta        candidate minus primary: ``latency_ms``,
                                       ``ttft_ms``, ``tokens_out``, ``cost_usd``
``error``                 delta        candidate failed minus primary failed
``embedding``             agreement    cosine similarity (``turnout[semantic]``)
``judge``                 agreement    a judge model's grade (services, async)
========================  ===========  =======================================
"""

from __future__ import annotations

from turnout.domain.comparators.base import (
    Comparator,
    ComparatorKind,
    FunctionComparator,
    both_texts,
)
from turnout.domain.comparators.registry import (
    JUDGE,
    OPTIONAL_COMPARATORS,
    ComparatorRegistry,
    builtin_registry,
)

__all__ = [
    "JUDGE",
    "OPTIONAL_COMPARATORS",
    "Comparator",
    "ComparatorKind",
    "ComparatorRegistry",
    "FunctionComparator",
    "both_texts",
    "builtin_registry",
]
