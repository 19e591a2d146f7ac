"""Aliases, their append-only revision history, rollback and point-in-time resolve.

An alias (``prod-chat``) is what applications call; it points at a *target*. Every
change is a new :class:`AliasRevision` numbered 1, 2, 3... with who, when, why,
before and after. Writes are compare-and-set on that number, so of two concurrent
flips exactly one wins. Rolling back is writing a new revision whose target is an
earlier one's: history is never rewritten.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from turnout.domain.ids import VersionId
from turnout.domain.promotion import PromotionPolicy
from turnout.domain.shadow import ShadowPolicy
from turnout.errors import InvalidInput, NotFound

__all__ = [
    "Alias",
    "AliasAction",
    "AliasRevision",
    "AliasTarget",
    "CanarySplit",
    "pick_rollback",
    "revision_at",
    "validate_alias_name",
]

_ALIAS_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
_RESERVED = re.compile(r"^(latest|v\d+)$")


def validate_alias_name(name: str) -> str:
    """Return ``name`` if it is a legal alias name; raise :class:`InvalidInput` if not."""
    if not _ALIAS_NAME.fullmatch(name):
        raise InvalidInput(
            f"alias name {name!r} must match ^[a-z0-9][a-z0-9_.-]{{0,62}}$ "
            "(lowercase letters, digits, '_', '.', '-'; at most 63)"
        )
    if _RESERVED.fullmatch(name):
        raise InvalidInput(
            f"alias name {name!r} is reserved ('latest' and 'v<digits>' would read as versions)"
        )
    return name


@dataclass(frozen=True, slots=True)
class CanarySplit:
    """The canary half of a rollout: which version, and how much of the traffic.

    ``weight`` is in basis points (0-10000 of the buckets). A request whose sticky
    bucket (see :mod:`turnout.domain.bucketing`) is below it is served the canary,
    so raising the weight only ever adds keys to the canary (a monotone ramp).
    ``salt`` is the rollout's own, so two rollouts do not pick the same keys.
    """

    version: VersionId
    weight: int
    salt: str
    rollout_id: int
    scorers: tuple[str, ...] = ()  # online scorers the gateway runs on both arms

    def __post_init__(self) -> None:
        if not 0 <= self.weight <= 10_000:
            raise InvalidInput(f"canary weight {self.weight} must be 0-10000 basis points")
        if not self.salt:
            raise InvalidInput("canary salt must not be empty")

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "version": str(self.version),
            "weight": self.weight,
            "salt": self.salt,
            "rollout_id": self.rollout_id,
        }
        if self.scorers:
            out["scorers"] = list(self.scorers)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> CanarySplit:
        try:
            weight, rollout_id = data["weight"], data["rollout_id"]
            if not isinstance(weight, int) or not isinstance(rollout_id, int):
                raise InvalidInput("canary 'weight' and 'rollout_id' must be integers")
            scorers = data.get("scorers") or []
            if not isinstance(scorers, list):
                raise InvalidInput("canary 'scorers' must be a list of names")
            return cls(
                VersionId.parse(str(data["version"])),
                weight,
                str(data["salt"]),
                rollout_id,
                tuple(str(name) for name in scorers),
            )
        except KeyError as exc:
            raise InvalidInput(f"canary split needs {exc.args[0]!r}") from None


@dataclass(frozen=True, slots=True)
class AliasTarget:
    """What an alias serves: one pinned version and an ordered fallback chain.

    During a rollout ``canary`` sends part of the traffic to the candidate; the
    rest (and everything once the rollout ends) goes to ``version``, the stable arm.
    """

    version: VersionId
    fallbacks: tuple[VersionId, ...] = ()
    canary: CanarySplit | None = None
    shadows: tuple[ShadowPolicy, ...] = ()  # candidates copied silently; never served
    promotion: PromotionPolicy | None = None  # evidence a new version needs first

    def __post_init__(self) -> None:
        if self.version in self.fallbacks:
            raise InvalidInput(f"version {self.version} cannot be its own fallback")
        if len(set(self.fallbacks)) != len(self.fallbacks):
            raise InvalidInput("fallback chain lists a version twice")
        if self.canary is not None and self.canary.version == self.version:
            raise InvalidInput(f"version {self.version} cannot be its own canary")
        candidates = [shadow.candidate for shadow in self.shadows]
        if self.version in candidates:
            raise InvalidInput(f"version {self.version} cannot shadow itself")
        if len(set(candidates)) != len(candidates):
            raise InvalidInput("a candidate shadows the alias twice")

    def serving(self) -> AliasTarget:
        """What clients are served, without shadows or policy (what a rollback compares)."""
        if self.shadows or self.promotion is not None:
            return replace(self, shadows=(), promotion=None)
        return self

    def with_shadows(self, shadows: tuple[ShadowPolicy, ...]) -> AliasTarget:
        """This target with ``shadows``, minus any whose candidate it now serves as primary.

        A flip to a version that was shadowing the alias ends that shadow: there is
        nothing left to compare it with.
        """
        kept = tuple(shadow for shadow in shadows if shadow.candidate != self.version)
        return replace(self, shadows=kept) if kept != self.shadows else self

    def shadow_versions(self) -> tuple[VersionId, ...]:
        return tuple(shadow.candidate for shadow in self.shadows)

    def versions(self) -> tuple[VersionId, ...]:
        """Every version this target may serve, primary first (then the canary)."""
        canary = (self.canary.version,) if self.canary is not None else ()
        return (self.version, *canary, *self.fallbacks)

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "version": str(self.version),
            "fallbacks": [str(v) for v in self.fallbacks],
        }
        if self.canary is not None:
            out["canary"] = self.canary.to_dict()
        if self.shadows:
            out["shadows"] = [shadow.to_dict() for shadow in self.shadows]
        if self.promotion is not None:
            out["promotion"] = self.promotion.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> AliasTarget:
        fallbacks = data.get("fallbacks") or []
        if not isinstance(fallbacks, list):
            raise InvalidInput("alias target 'fallbacks' must be a list of version ids")
        if "version" not in data:
            raise InvalidInput("alias target needs a 'version'")
        canary = data.get("canary")
        if canary is not None and not isinstance(canary, Mapping):
            raise InvalidInput("alias target 'canary' must be a mapping")
        shadows = data.get("shadows") or []
        if not isinstance(shadows, list) or not all(isinstance(s, Mapping) for s in shadows):
            raise InvalidInput("alias target 'shadows' must be a list of mappings")
        promotion = data.get("promotion")
        if promotion is not None and not isinstance(promotion, Mapping):
            raise InvalidInput("alias target 'promotion' must be a mapping")
        return cls(
            VersionId.parse(str(data["version"])),
            tuple(VersionId.parse(str(item)) for item in fallbacks),
            CanarySplit.from_dict(canary) if canary is not None else None,
            tuple(ShadowPolicy.from_dict(shadow) for shadow in shadows),
            PromotionPolicy.from_dict(promotion) if promotion is not None else None,
        )

    def describe(self) -> str:
        text = str(self.version)
        if self.canary is not None:
            pct = self.canary.weight / 100
            text += f" + canary {self.canary.version} at {pct:g}%"
        if self.fallbacks:
            text += f" (fallbacks: {', '.join(map(str, self.fallbacks))})"
        for shadow in self.shadows:
            text += f" + shadow {shadow.candidate} at {shadow.sample * 100:g}%"
        if self.promotion is not None:
            text += " (promotion policy)"  # its terms: `turnout alias show --json`
        return text


class AliasAction(enum.StrEnum):
    """Why a revision exists."""

    CREATE = "create"
    SET = "set"
    ROLLBACK = "rollback"
    PROTECT = "protect"
    UNPROTECT = "unprotect"
    ROLLOUT = "rollout"  # a rollout started, moved a step, completed or was aborted
    AUTO_ROLLBACK = "auto_rollback"  # the rollout controller saw harm; reason has evidence
    SHADOW = "shadow"  # a shadow candidate started or stopped; what is served is unchanged
    POLICY = "policy"  # the promotion policy was set or cleared; what is served is unchanged


@dataclass(frozen=True, slots=True)
class AliasRevision:
    """One entry of an alias's history: the state *after* the change, and the one before."""

    alias: str
    revision: int
    action: AliasAction
    target: AliasTarget
    previous: AliasTarget | None
    protected: bool
    actor: str
    reason: str | None
    created_at: datetime
    restored_from: int | None = None


@dataclass(frozen=True, slots=True)
class Alias:
    """The current state of an alias: its newest revision, denormalised for reads."""

    name: str
    target: AliasTarget
    revision: int
    protected: bool = False
    allow_floating: bool = False
    updated_at: datetime | None = None
    updated_by: str = ""

    def advanced(self, revision: AliasRevision) -> Alias:
        """The alias after applying ``revision`` (which must be the next number)."""
        if revision.revision != self.revision + 1:
            raise ValueError(f"revision {revision.revision} does not follow {self.revision}")
        return replace(
            self,
            target=revision.target,
            revision=revision.revision,
            protected=revision.protected,
            updated_at=revision.created_at,
            updated_by=revision.actor,
        )


def pick_rollback(history: Sequence[AliasRevision], to: int | None = None) -> AliasRevision:
    """Choose the revision whose target a rollback restores.

    Without ``to``: the newest earlier revision whose target differs from the
    current one, so a rollback always changes what is served (and a second
    rollback flips back, as ``kubectl rollout undo`` does). With ``to``: that
    revision, which must exist and differ from the current target.
    """
    if not history:
        raise NotFound("alias has no history")
    current = history[-1]
    name = current.alias
    if to is not None:
        chosen = next((rev for rev in history if rev.revision == to), None)
        if chosen is None:
            raise NotFound(f"alias '{name}' has no revision {to} (it is at {current.revision})")
        if chosen.target.serving() == current.target.serving():
            raise InvalidInput(
                f"alias '{name}' already serves {current.target.describe()} "
                f"(revision {to} has the same target); nothing to roll back"
            )
        return chosen
    for rev in reversed(history[:-1]):
        if rev.target.serving() != current.target.serving():
            return rev
    raise InvalidInput(
        f"alias '{name}' has no earlier revision with a different target to roll back to"
    )


def revision_at(history: Sequence[AliasRevision], at: datetime) -> AliasRevision:
    """The revision in force at ``at`` (history ordered by revision number)."""
    chosen: AliasRevision | None = None
    for rev in history:
        if rev.created_at <= at:
            chosen = rev
        else:
            break
    if chosen is None:
        name = history[0].alias if history else "?"
        raise NotFound(f"alias '{name}' did not exist at {at.isoformat()}")
    return chosen
