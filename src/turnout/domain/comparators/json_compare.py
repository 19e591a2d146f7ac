"""``json_valid`` and ``json_equal``: for features whose answer is a JSON document.

Both apply only when the primary answered valid JSON: if the primary did not,
the feature is not a JSON feature (or the primary itself broke), and scoring
the candidate against it would say nothing. Parsing is strict JSON — no
``NaN``/``Infinity``, no Markdown code fence around the document — because
that is what the application's own parser will see.
"""

from __future__ import annotations

import json
from typing import cast

from turnout.domain.comparators.base import ComparatorKind, FunctionComparator, both_texts
from turnout.domain.shadow import ShadowPair

__all__ = ["COMPARATORS", "json_equal", "json_valid", "parse_json", "same_json"]


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def parse_json(text: str) -> tuple[bool, object]:
    """(True, the parsed document), or (False, None) when ``text`` is not strict JSON.

    A pair rather than ``None`` for failure, because ``null`` is a valid document.
    """
    try:
        return True, cast(object, json.loads(text, parse_constant=_reject_constant))
    except ValueError:  # json.JSONDecodeError is a ValueError, and so is NaN's
        return False, None


def same_json(left: object, right: object) -> bool:
    """Structural equality of two parsed documents: object key order ignored.

    Stricter than ``==`` where Python is loose: ``true`` is not ``1`` and
    ``false`` is not ``0`` (``True == 1`` in Python). Numbers compare by value,
    so ``1`` equals ``1.0`` as JSON itself does not distinguish them.
    """
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(same_json(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(same_json, left, right))
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    if type(left) is not type(right):
        return False
    return left == right


def json_valid(pair: ShadowPair) -> float | None:
    """1 when the candidate is valid JSON; None unless both succeeded and the primary is JSON."""
    texts = both_texts(pair)
    if texts is None or not parse_json(texts[0])[0]:
        return None
    return 1.0 if parse_json(texts[1])[0] else 0.0


def json_equal(pair: ShadowPair) -> float | None:
    """1 when both parse to the same document (invalid candidate JSON scores 0)."""
    texts = both_texts(pair)
    if texts is None:
        return None
    primary_ok, primary = parse_json(texts[0])
    if not primary_ok:
        return None
    candidate_ok, candidate = parse_json(texts[1])
    if not candidate_ok:
        return 0.0
    return 1.0 if same_json(primary, candidate) else 0.0


COMPARATORS = (
    FunctionComparator("json_valid", ComparatorKind.AGREEMENT, json_valid),
    FunctionComparator("json_equal", ComparatorKind.AGREEMENT, json_equal),
)
