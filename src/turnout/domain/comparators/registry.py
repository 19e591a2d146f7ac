"""Comparators by name: the built-ins, and the ones an optional extra adds.

Each built-in module exposes ``COMPARATORS``; a new comparator is a new module
plus one entry in :data:`BUILTIN_MODULES`. A registry is an object built per
composition root (never a module global), so a process with the semantic extra
installed registers ``embedding`` into its own registry
(``turnout.embeddings.register_embedding``) without touching anyone else's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from turnout.domain.comparators import (
    deltas,
    exact,
    failures,
    json_compare,
    length,
    normalised,
    refusal,
    similarity,
)
from turnout.domain.comparators.base import Comparator, ComparatorKind
from turnout.errors import Conflict, InvalidInput

__all__ = [
    "BUILTIN_MODULES",
    "JUDGE",
    "OPTIONAL_COMPARATORS",
    "ComparatorRegistry",
    "builtin_registry",
]

BUILTIN_MODULES = (exact, normalised, json_compare, similarity, length, refusal, deltas, failures)
"""The modules whose ``COMPARATORS`` ship with turnout, in report order."""

OPTIONAL_COMPARATORS: Mapping[str, str] = {"embedding": "turnout[semantic]"}
"""Comparators that exist only with an optional extra installed: name -> the extra."""

JUDGE = "judge"
"""The judge comparator's name: it calls a model, so it lives in services, not here."""


class ComparatorRegistry:
    """Name -> comparator; one per composition root."""

    def __init__(self, comparators: Iterable[Comparator] = ()) -> None:
        self._comparators: dict[str, Comparator] = {}
        for comparator in comparators:
            self.register(comparator)

    def register(self, comparator: Comparator) -> None:
        """Add a comparator; a second one with the same name is a mistake, not an override."""
        if comparator.name == JUDGE:
            raise Conflict(f"the name '{JUDGE}' is reserved for the judge comparator")
        if comparator.name in self._comparators:
            raise Conflict(f"a comparator named '{comparator.name}' is already registered")
        self._comparators[comparator.name] = comparator

    def names(self) -> tuple[str, ...]:
        """Registered names, in registration order."""
        return tuple(self._comparators)

    def __contains__(self, name: object) -> bool:
        return name in self._comparators

    def get(self, name: str) -> Comparator:
        """The comparator called ``name``; InvalidInput names the extra or the known ones."""
        found = self._comparators.get(name)
        if found is not None:
            return found
        extra = OPTIONAL_COMPARATORS.get(name)
        if extra is not None:
            raise InvalidInput(
                f"comparator '{name}' needs the optional extra: pip install '{extra}'"
            )
        raise InvalidInput(f"unknown comparator '{name}'; known: {', '.join(self.known())}")

    def known(self) -> tuple[str, ...]:
        """Every name a user may ask for here, sorted (the judge needs a judge model)."""
        return tuple(sorted({*self._comparators, JUDGE}))

    def resolve(self, names: Sequence[str]) -> tuple[Comparator, ...]:
        """The comparators for ``names``, all checked before any runs (judge excluded).

        Unknown names are reported together, with the known ones, so a typo in a
        long ``--comparators`` list costs one round trip, not one per typo.
        """
        if len(set(names)) != len(names):
            raise InvalidInput("a comparator is listed twice")
        missing = [n for n in names if n != JUDGE and n not in self._comparators]
        if len(missing) == 1:
            self.get(missing[0])  # raises, naming the extra when it is an optional one
        if missing:
            raise InvalidInput(
                f"unknown comparator(s) {', '.join(map(repr, missing))}; "
                f"known: {', '.join(self.known())}"
            )
        return tuple(self._comparators[n] for n in names if n != JUDGE)

    def kinds(self) -> dict[str, tuple[ComparatorKind, str]]:
        """name -> (kind, unit) of every registered comparator, plus the judge's."""
        found = {name: (c.kind, c.unit) for name, c in self._comparators.items()}
        found[JUDGE] = (ComparatorKind.AGREEMENT, "")
        return found


def builtin_registry() -> ComparatorRegistry:
    """A registry holding every comparator that needs no optional extra."""
    return ComparatorRegistry(
        comparator for module in BUILTIN_MODULES for comparator in module.COMPARATORS
    )
