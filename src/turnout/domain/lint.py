"""The lint rule for model ids found in code and config: floating, retired, retiring.

``turnout lint`` finds strings in application code that are passed to LLM SDKs;
this module decides, for one such string, whether it is a problem. It reuses the
pinning rule of :mod:`turnout.domain.ids` and the facts of the catalog, so the
linter and ``turnout version add`` never disagree about what "pinned" means.

Precision matters more than recall: a linter that cries wolf gets uninstalled.
So a string is only judged when it *looks* like a provider model id (the catalog
knows it, or it follows a provider's naming pattern); ``prod-chat`` (a turnout
alias), ``my-finetune`` or ``sim/chat-2025-01-01`` are none of the linter's business.

The verdict, most severe first:

* **retired** — the catalog's shut-off date is today or past: calls fail now;
* **floating** — the provider may re-point the id under you;
* **retiring** — a pinned id whose shut-off date is within the window.

No clock here: ``today`` is a parameter, read from the system clock at the CLI edge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from turnout.domain.catalog import Catalog, CatalogEntry
from turnout.domain.ids import VersionId, classify_pinning

__all__ = [
    "DEFAULT_WITHIN_DAYS",
    "FindingKind",
    "IdLinter",
    "IdProblem",
    "lint_id",
]

DEFAULT_WITHIN_DAYS = 90
"""How far ahead a retirement counts as "soon" unless the caller says otherwise."""

# Provider naming patterns for ids the catalog does not (yet) know; matched on the
# last path segment, lowercase. Anything else is not treated as a model id.
_NAME_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?:chat)?gpt-(?!oss-)[a-z0-9][a-z0-9._:-]*"), "openai"),  # gpt-oss: open weights
    (re.compile(r"o[134](?:-[a-z0-9][a-z0-9._-]*)?"), "openai"),
    (re.compile(r"claude-[a-z0-9][a-z0-9._@:-]*"), "anthropic"),
    (re.compile(r"gemini-[a-z0-9][a-z0-9._-]*"), "google"),
    (
        re.compile(r"(?:mistral|codestral|magistral|ministral|pixtral)(?:-[a-z0-9][a-z0-9._-]*)?"),
        "mistral",
    ),
    (re.compile(r"grok-[a-z0-9][a-z0-9._-]*"), "xai"),
    (re.compile(r"deepseek-[a-z0-9][a-z0-9._-]*"), "deepseek"),
)
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@+-]{0,199}")
_PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_PROVIDER_WORDS = frozenset({"latest", "default"})


class FindingKind(StrEnum):
    """What is wrong with an id; the order of severity is retired > floating > retiring."""

    FLOATING = "floating"
    RETIRED = "retired"
    RETIRING = "retiring"


@dataclass(frozen=True, slots=True)
class IdProblem:
    """A model id that needs attention, with the fix in the form it was written.

    ``text`` is the id as found; ``version_id`` is turnout's ``provider/model``
    reading of it; ``suggestions`` keep the writer's ``prefix/`` (if any), so
    they can be pasted over ``text`` as they are.
    """

    text: str
    version_id: str
    kind: FindingKind
    message: str
    suggestions: tuple[str, ...] = ()
    days_left: int | None = None
    replacement: str | None = None

    @property
    def suggestion(self) -> str | None:
        return self.suggestions[0] if self.suggestions else None


@dataclass(frozen=True)
class IdLinter:
    """The rule, bound to a catalog, a day and a window; build once per run, check many ids."""

    catalog: Catalog
    today: date
    within_days: int = DEFAULT_WITHIN_DAYS
    _providers: frozenset[str] = field(init=False, repr=False, compare=False)
    _provider_of: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.within_days < 0:
            raise ValueError("within_days must be >= 0")
        provider_of: dict[str, str] = {}
        for entry in self.catalog:
            provider_of.setdefault(entry.model_id, entry.provider)
        providers = frozenset(entry.provider for entry in self.catalog)
        object.__setattr__(self, "_providers", providers)
        object.__setattr__(self, "_provider_of", provider_of)

    def resolve(self, text: str) -> tuple[str, VersionId] | None:
        """``(prefix, version id)`` if ``text`` looks like a provider model id, else ``None``.

        ``prefix`` is everything before the model segment (``""``, ``openai/``,
        ``openrouter/anthropic/``); it is kept to write suggestions the same way.
        """
        raw = text.strip()
        prefix, _, model = raw.rpartition("/")
        if not _SEGMENT.fullmatch(model) or (
            prefix and not all(_PREFIX.fullmatch(part) for part in prefix.split("/"))
        ):
            return None
        named = prefix.rsplit("/", 1)[-1] if prefix else ""
        inferred = self._infer_provider(model)
        if named in self._providers:
            # ``openai/llama-3-70b`` is LiteLLM's spelling of "some OpenAI-compatible
            # server": only the provider's own ids (and ``provider/latest``) are judged.
            if inferred is None and model.lower() not in _PROVIDER_WORDS:
                return None
            provider = named
        elif inferred is not None:
            provider = inferred
        else:
            return None
        return (f"{prefix}/" if prefix else "", VersionId(provider, model))

    def check(self, text: str) -> IdProblem | None:
        """The problem with ``text`` as a model id, or ``None`` when it is fine or not an id."""
        resolved = self.resolve(text)
        if resolved is None:
            return None
        prefix, version_id = resolved
        entry = self.catalog.lookup(version_id.provider, version_id.model)
        if entry is not None and entry.is_retired(self.today):
            return self._retired(text, prefix, version_id, entry)
        verdict = classify_pinning(version_id, self.catalog, self.today)
        if not verdict.pinned:
            return self._floating(text, prefix, version_id, entry, verdict.reason)
        if entry is not None and entry.retires is not None:
            days = (entry.retires - self.today).days
            if days <= self.within_days:
                return self._retiring(text, prefix, version_id, entry, days)
        return None

    # -- the three verdicts -------------------------------------------------------

    def _retired(
        self, text: str, prefix: str, version_id: VersionId, entry: CatalogEntry
    ) -> IdProblem:
        assert entry.retires is not None
        days = (entry.retires - self.today).days
        suggestions = self._pinned_for(version_id.provider, entry.replacement)
        return IdProblem(
            text=text,
            version_id=str(version_id),
            kind=FindingKind.RETIRED,
            message=f"'{version_id.model}' was retired on {entry.retires.isoformat()}"
            f"{_replacement_words(entry.replacement)}; calls to it fail",
            suggestions=_written(prefix, suggestions),
            days_left=days,
            replacement=entry.replacement,
        )

    def _floating(
        self,
        text: str,
        prefix: str,
        version_id: VersionId,
        entry: CatalogEntry | None,
        reason: str,
    ) -> IdProblem:
        provider = version_id.provider
        suggestions = self._pinned_for(provider, version_id.model)
        if not suggestions and entry is not None:
            suggestions = self._pinned_for(provider, entry.replacement)
        message = reason
        days: int | None = None
        if entry is not None and entry.retires is not None:
            days = (entry.retires - self.today).days
            if days <= self.within_days:
                message += f"; it retires on {entry.retires.isoformat()} ({_days(days)} left)"
        return IdProblem(
            text=text,
            version_id=str(version_id),
            kind=FindingKind.FLOATING,
            message=message,
            suggestions=_written(prefix, suggestions),
            days_left=days,
            replacement=entry.replacement if entry else None,
        )

    def _retiring(
        self, text: str, prefix: str, version_id: VersionId, entry: CatalogEntry, days: int
    ) -> IdProblem:
        assert entry.retires is not None
        suggestions = self._pinned_for(version_id.provider, entry.replacement)
        return IdProblem(
            text=text,
            version_id=str(version_id),
            kind=FindingKind.RETIRING,
            message=f"'{version_id.model}' retires on {entry.retires.isoformat()} "
            f"({_days(days)} left){_replacement_words(entry.replacement)}",
            suggestions=_written(prefix, suggestions),
            days_left=days,
            replacement=entry.replacement,
        )

    # -- helpers ------------------------------------------------------------------

    def _infer_provider(self, model: str) -> str | None:
        known = self._provider_of.get(model)
        if known is not None:
            return known
        lowered = model.lower()
        for pattern, provider in _NAME_PATTERNS:
            if pattern.fullmatch(lowered):
                return provider
        return None

    def _pinned_for(self, provider: str, model: str | None) -> tuple[str, ...]:
        """Pinned, unretired model ids that stand for ``model``, best first.

        A pinned catalog id stands for itself; an alias for the release it points
        to; otherwise the newest pinned releases of its family. ``model`` may be
        the catalog's free-text replacement ("gpt-5 or gpt-4.1"): only a single
        id is followed, so a suggestion is never a guess.
        """
        if not model or not _SEGMENT.fullmatch(model):
            return ()
        entry = self.catalog.lookup(provider, model)
        if entry is not None and entry.pinned and not entry.is_retired(self.today):
            return (model,)
        if entry is not None and entry.points_to:
            target = self.catalog.lookup(provider, entry.points_to)
            if target is not None and target.pinned and not target.is_retired(self.today):
                return (target.model_id,)
        found = self.catalog.pinned_suggestions(provider, model, self.today)
        return tuple(version.partition("/")[2] for version in found)


def lint_id(
    text: str, catalog: Catalog, today: date, within_days: int = DEFAULT_WITHIN_DAYS
) -> IdProblem | None:
    """Check one id; for many ids build an :class:`IdLinter` once instead."""
    return IdLinter(catalog, today, within_days).check(text)


def _written(prefix: str, models: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{prefix}{model}" for model in models)


def _replacement_words(replacement: str | None) -> str:
    return f"; the provider's replacement is {replacement}" if replacement else ""


def _days(days: int) -> str:
    return "1 day" if days == 1 else f"{days} days"
