"""Evaluating the arithmetic in a prompt ("What is 17 + 25?") — pure text work.

The sim provider answers such questions right with probability ``quality``, and
the ``arithmetic`` online scorer checks answers against the same evaluation, so
a sim canary's quality is measurable end to end through the gateway.
"""

from __future__ import annotations

import re

__all__ = ["evaluate_arithmetic", "last_integer"]

_NUM = r"-?\d{1,12}"
_OP = r"(?:\+|-|\*|\u00d7|x|plus|minus|times|multiplied\s+by)"  # \u00d7: multiplication sign
_EXPRESSION = re.compile(rf"(?<![\w.]){_NUM}(?:\s*{_OP}\s*{_NUM})+(?!\.?\d)", re.IGNORECASE)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUM_AT = re.compile(rf"\s*({_NUM})")
_OP_AT = re.compile(rf"\s*({_OP})", re.IGNORECASE)
_OP_NAMES = {"+": "+", "plus": "+", "-": "-", "minus": "-"}
_LAST_INT = re.compile(r"-?\d+")


def evaluate_arithmetic(prompt: str) -> int | None:
    """The value of the first integer expression with + - * in ``prompt``, else None.

    ``*`` binds tighter than ``+`` and ``-``; words (plus, minus, times,
    multiplied by), ``x`` and the multiplication sign count as operators; an ISO
    date such as 2025-01-01 is not a subtraction.
    """
    dates_skipped = (m for m in _EXPRESSION.finditer(prompt) if not _ISO_DATE.fullmatch(m[0]))
    match = next(dates_skipped, None)
    if match is None:
        return None
    text, position = match.group(0), 0
    first = _NUM_AT.match(text, position)
    assert first is not None  # the expression regex guarantees the shape
    terms, product, position = [], int(first.group(1)), first.end()
    while position < len(text):
        op = _OP_AT.match(text, position)
        operand = _NUM_AT.match(text, op.end()) if op else None
        if op is None or operand is None:
            break
        symbol, value, position = op.group(1).lower(), int(operand.group(1)), operand.end()
        if symbol in _OP_NAMES:
            terms.append(product)
            product = value if _OP_NAMES[symbol] == "+" else -value
        else:
            product *= value
    terms.append(product)
    return sum(terms)


def last_integer(text: str) -> int | None:
    """The last integer written in ``text`` (how an answer states its result)."""
    found = _LAST_INT.findall(text.replace(",", ""))
    return int(found[-1]) if found else None
