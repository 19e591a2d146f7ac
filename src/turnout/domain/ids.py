"""Version ids and the pinning rule.

A version id is ``provider/model_id``. turnout serves only *pinned* releases:
ids a provider promises not to re-point. The rule, in order:

1. ``latest``, ``default`` and anything ending in ``-latest`` / ``:latest`` float.
2. If the catalog knows the id, the catalog decides (Anthropic's dateless ids from
   the 4.6 generation on are pinned; ``claude-sonnet-4-5`` is not).
3. Otherwise the id is pinned only if it carries a release date (``-2024-11-20``,
   ``-20250929``, ``@20240620``) or a numbered revision (``-001``, ``-0125``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from turnout.domain.catalog import Catalog
from turnout.errors import FloatingVersionError, InvalidInput

__all__ = ["Pinning", "VersionId", "classify_pinning", "require_pinned"]

_PROVIDER = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_MODEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,199}$")
_FLOATING_WORDS = frozenset({"latest", "default", "stable", "current"})
_DATED = re.compile(
    r"(?:[-_@](?:19|20)\d{2}-[01]\d-[0-3]\d"  # -2024-11-20
    r"|[-_@](?:19|20)\d{2}[01]\d[0-3]\d"  # -20250929, @20240620
    r")(?:$|[-_:@.])"
)
_NUMBERED = re.compile(r"-\d{3,4}$")


@dataclass(frozen=True, slots=True, order=True)
class VersionId:
    """A provider release, ``provider/model_id``; the model part may contain ``/``."""

    provider: str
    model: str

    @classmethod
    def parse(cls, text: str) -> VersionId:
        """Parse ``provider/model_id``; raise :class:`InvalidInput` naming the problem."""
        raw = text.strip()
        provider, sep, model = raw.partition("/")
        if not sep or not model:
            raise InvalidInput(
                f"version id {text!r} must be 'provider/model_id', "
                "for example 'openai/gpt-4o-2024-11-20'"
            )
        if not _PROVIDER.fullmatch(provider):
            raise InvalidInput(
                f"version id {text!r}: provider {provider!r} must be lowercase letters, "
                "digits, '-' or '_' (at most 32)"
            )
        if not _MODEL.fullmatch(model):
            raise InvalidInput(
                f"version id {text!r}: model id {model!r} has characters other than "
                "letters, digits and . _ : @ / + -"
            )
        return cls(provider, model)

    def __str__(self) -> str:
        return f"{self.provider}/{self.model}"


@dataclass(frozen=True, slots=True)
class Pinning:
    """The verdict of the pinning rule for one id, with the reason in words."""

    version_id: VersionId
    pinned: bool
    reason: str
    suggestions: tuple[str, ...] = ()


def _floating_word(model: str) -> bool:
    last = model.rsplit("/", 1)[-1].lower()
    return (
        last in _FLOATING_WORDS
        or last.endswith(("-latest", ":latest", "_latest"))
        or last.startswith("latest-")
    )


def classify_pinning(version_id: VersionId, catalog: Catalog, today: date | None = None) -> Pinning:
    """Decide whether ``version_id`` names a pinned release (see module docstring)."""
    model = version_id.model
    if _floating_word(model):
        return Pinning(
            version_id,
            False,
            f"'{model}' is a moving alias that the provider re-points",
            catalog.pinned_suggestions(version_id.provider, model, today),
        )
    entry = catalog.lookup(version_id.provider, model)
    if entry is not None:
        if entry.pinned:
            return Pinning(version_id, True, "pinned release in the catalog")
        target = f" (today it points to {entry.points_to})" if entry.points_to else ""
        return Pinning(
            version_id,
            False,
            f"the catalog lists '{model}' as a floating alias{target}",
            catalog.pinned_suggestions(version_id.provider, model, today),
        )
    if _DATED.search(model):
        return Pinning(version_id, True, "carries a release date")
    if _NUMBERED.search(model):
        return Pinning(version_id, True, "carries a numbered revision")
    return Pinning(
        version_id,
        False,
        f"'{model}' carries no release date or revision number, so the provider may re-point it",
        catalog.pinned_suggestions(version_id.provider, model, today),
    )


def require_pinned(version_id: VersionId, catalog: Catalog, today: date | None = None) -> Pinning:
    """Return the verdict if pinned; raise :class:`FloatingVersionError` otherwise."""
    verdict = classify_pinning(version_id, catalog, today)
    if verdict.pinned:
        return verdict
    hint = (
        "; pin one of: " + ", ".join(verdict.suggestions)
        if verdict.suggestions
        else "; pin a dated release (for example '-2024-11-20') or a numbered revision ('-001')"
    )
    raise FloatingVersionError(
        f"refusing floating version id '{version_id}': {verdict.reason}{hint}",
        str(version_id),
        verdict.suggestions,
    )
