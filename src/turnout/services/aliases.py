"""Flipping, rolling back, protecting and resolving aliases.

Every change is one transaction: read the alias, check the rules, write the new
revision compare-and-set on the revision the caller saw, stamp ``promoted_at``
on a version served for the first time, and append the audit entry. The checks
that refuse a change before anything is written live in
:mod:`turnout.services.alias_checks`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from turnout.domain.access import Operation, Principal, authorize, authorize_alias_change
from turnout.domain.aliases import (
    Alias,
    AliasAction,
    AliasRevision,
    AliasTarget,
    pick_rollback,
    revision_at,
    validate_alias_name,
)
from turnout.domain.audit import JsonValue
from turnout.domain.ids import VersionId
from turnout.domain.promotion import PromotionDecision, PromotionPolicy
from turnout.domain.shadow import ShadowPolicy
from turnout.errors import NotFound
from turnout.ports import UnitOfWork
from turnout.services.alias_checks import (
    check_expected_revision,
    check_servable_target,
    existing_alias,
)
from turnout.services.context import ServiceContext, record
from turnout.services.promotion import (
    require_fallback_evals,
    require_promotion,
    stamp_promotion,
)

__all__ = ["AliasChange", "AliasService"]


@dataclass(frozen=True, slots=True)
class AliasChange:
    """The outcome of a write: the revision now in force, and whether it is new."""

    revision: AliasRevision
    changed: bool


@dataclass(frozen=True, slots=True)
class _Request:
    """One requested change, gathered so validation and writing read as a sequence."""

    name: str
    action: AliasAction
    target: AliasTarget | None
    protected: bool | None
    reason: str | None
    expected_revision: int | None
    allow_floating: bool
    restored_from: int | None = None


class AliasService:
    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    # -- reads ---------------------------------------------------------------

    def all(self) -> list[Alias]:
        with self._ctx.store.unit_of_work() as uow:
            return uow.aliases.all()

    def get(self, name: str) -> Alias:
        with self._ctx.store.unit_of_work() as uow:
            return existing_alias(uow, name)

    def history(self, name: str) -> list[AliasRevision]:
        with self._ctx.store.unit_of_work() as uow:
            existing_alias(uow, name)
            return uow.aliases.history(name)

    def resolve_at(self, name: str, at: datetime | None = None) -> AliasRevision:
        """The revision in force at ``at`` (default: now)."""
        with self._ctx.store.unit_of_work() as uow:
            existing_alias(uow, name)
            history = uow.aliases.history(name)
        if at is not None and at.tzinfo is None:
            at = at.replace(tzinfo=UTC)  # a time without an offset is UTC, as in the CLI
        return revision_at(history, at or self._ctx.now())

    # -- writes --------------------------------------------------------------

    def _revision_now(self, name: str) -> int:
        """The alias's revision as a write begins (0 if absent): the compare in CAS."""
        with self._ctx.store.unit_of_work() as uow:
            alias = uow.aliases.get(name)
        return alias.revision if alias else 0

    def set(
        self,
        principal: Principal,
        name: str,
        version: str,
        fallbacks: list[str] | None = None,
        reason: str | None = None,
        expected_revision: int | None = None,
        allow_floating: bool = False,
        protected: bool | None = None,
    ) -> AliasChange:
        """Point ``name`` at ``version`` (creating the alias if new).

        ``fallbacks=None`` keeps the current chain (minus the new primary).
        The write is compare-and-set on ``expected_revision`` — what the caller
        saw — or, when not given, on the revision read as this call begins: of
        two flips that overlap, exactly one wins and the other gets a Conflict.
        """
        if expected_revision is None:
            expected_revision = self._revision_now(name)
        with self._ctx.store.unit_of_work(write=True) as uow:
            return self.set_in(
                uow,
                principal,
                name,
                version,
                fallbacks,
                reason,
                expected_revision,
                allow_floating,
                protected,
            )

    def set_in(
        self,
        uow: UnitOfWork,
        principal: Principal,
        name: str,
        version: str,
        fallbacks: list[str] | None = None,
        reason: str | None = None,
        expected_revision: int | None = None,
        allow_floating: bool = False,
        protected: bool | None = None,
    ) -> AliasChange:
        """:meth:`set` inside the caller's unit of work (``apply`` changes many at once)."""
        validate_alias_name(name)
        primary = VersionId.parse(version)
        chain = None if fallbacks is None else tuple(VersionId.parse(f) for f in fallbacks)
        current = uow.aliases.get(name)
        if chain is None:
            kept = current.target.fallbacks if current else ()
            chain = tuple(f for f in kept if f != primary)
        request = _Request(
            name,
            AliasAction.SET if current else AliasAction.CREATE,
            AliasTarget(primary, chain),
            protected,
            reason,
            expected_revision,
            allow_floating,
        )
        return self._write(uow, principal, current, request)

    def write_target_in(
        self,
        uow: UnitOfWork,
        principal: Principal,
        name: str,
        target: AliasTarget,
        action: AliasAction,
        reason: str | None,
    ) -> AliasChange:
        """Serve ``target`` (a rollout's stable + canary split, or its end state).

        For the rollout service: the same checks, revision, promotion stamp and
        audit entry as any flip, compare-and-set on the revision read inside
        ``uow`` (the caller's transaction holds the writer lock).
        """
        current = existing_alias(uow, name)
        request = _Request(
            name, action, target, None, reason, current.revision, current.allow_floating
        )
        return self._write(uow, principal, current, request)

    def rollback(
        self,
        principal: Principal,
        name: str,
        to: int | None = None,
        reason: str | None = None,
        expected_revision: int | None = None,
    ) -> AliasChange:
        """Restore an earlier revision's target (default: the last different one)."""
        if expected_revision is None:
            expected_revision = self._revision_now(name)
        with self._ctx.store.unit_of_work(write=True) as uow:
            current = existing_alias(uow, name)
            check_expected_revision(name, current.revision, expected_revision)
            chosen = pick_rollback(uow.aliases.history(name), to)
            request = _Request(
                name,
                AliasAction.ROLLBACK,
                chosen.target,
                None,
                reason,
                expected_revision,
                allow_floating=current.allow_floating,
                restored_from=chosen.revision,
            )
            return self._write(uow, principal, current, request)

    def protect(
        self, principal: Principal, name: str, protected: bool, reason: str | None = None
    ) -> AliasChange:
        """Mark an alias protected (deployer) or lift the protection (admin)."""
        authorize(principal, Operation.PROTECT_ALIAS if protected else Operation.UNPROTECT_ALIAS)
        with self._ctx.store.unit_of_work(write=True) as uow:
            current = existing_alias(uow, name)
            action = AliasAction.PROTECT if protected else AliasAction.UNPROTECT
            request = _Request(name, action, None, protected, reason, None, current.allow_floating)
            return self._write(uow, principal, current, request)

    def _write(
        self, uow: UnitOfWork, principal: Principal, current: Alias | None, request: _Request
    ) -> AliasChange:
        now = self._ctx.now()
        seen = current.revision if current else 0
        if request.expected_revision is not None:
            check_expected_revision(request.name, seen, request.expected_revision)
        was_protected = current.protected if current else False
        protected = was_protected if request.protected is None else request.protected
        authorize_alias_change(principal, request.name, was_protected or protected, request.reason)
        if protected and not was_protected:
            authorize(principal, Operation.PROTECT_ALIAS)
        if was_protected and not protected:  # set(protected=False) must not bypass unprotect
            authorize(principal, Operation.UNPROTECT_ALIAS)
        target = request.target or (current.target if current else None)
        if target is None:
            raise NotFound(f"alias '{request.name}' does not exist")
        if current is not None:
            # Shadows and the promotion policy outlive flips, rollbacks and rollout
            # steps: only their own actions change them.
            if request.action is not AliasAction.SHADOW:
                target = target.with_shadows(current.target.shadows)
            if request.action is not AliasAction.POLICY:
                target = replace(target, promotion=current.target.promotion)
        allow_floating = request.allow_floating or (current.allow_floating if current else False)
        check_servable_target(
            uow, request.name, target, protected, allow_floating, self._ctx.today()
        )
        if current is not None and current.target == target and current.protected == protected:
            history = uow.aliases.history(request.name)
            return AliasChange(history[-1], changed=False)
        decision = self._promotion(uow, request, current, target, now)
        revision = AliasRevision(
            alias=request.name,
            revision=seen + 1,
            action=request.action,
            target=target,
            previous=current.target if current else None,
            protected=protected,
            actor=principal.name,
            reason=request.reason,
            created_at=now,
            restored_from=request.restored_from,
        )
        base = current or Alias(request.name, target, 0, protected, allow_floating)
        after = replace(base.advanced(revision), allow_floating=allow_floating)
        uow.aliases.write(after, revision, expected_revision=seen)
        self._stamp_promotion(uow, target.version, now)
        if decision is not None:
            stamp_promotion(uow, target.version, decision)
        record(
            uow, now, principal, f"alias.{request.action.value}", request.name, _detail(revision)
        )
        return AliasChange(revision, changed=True)

    def _promotion(
        self,
        uow: UnitOfWork,
        request: _Request,
        current: Alias | None,
        target: AliasTarget,
        now: datetime,
    ) -> PromotionDecision | None:
        """Enforce the alias's promotion policy on a flip to a new version.

        Only ``set`` (and ``apply``, which sets) is checked here: a rollback
        restores what was served before and must stay instant, and a rollout is
        checked when it starts (a rollout that ends cannot be refused halfway).
        """
        if request.action is not AliasAction.SET or current is None:
            return None
        policy = current.target.promotion
        if policy is None:
            return None
        added = tuple(v for v in target.fallbacks if v not in current.target.fallbacks)
        if added:
            require_fallback_evals(uow, request.name, policy, added)
        if target.version == current.target.version:
            return None
        return require_promotion(
            uow, self._ctx.store, request.name, policy, target.version, current.target.version, now
        )

    def set_promotion(
        self,
        principal: Principal,
        name: str,
        policy: PromotionPolicy | None,
        reason: str | None = None,
    ) -> AliasChange:
        """Require evidence before ``name`` serves a new version (None: no longer).

        Setting a policy needs a deployer and clearing one an admin, as for
        protect and unprotect: a policy is a guard rail, removing it is the
        riskier change.
        """
        with self._ctx.store.unit_of_work(write=True) as uow:
            return self.set_promotion_in(uow, principal, name, policy, reason)

    def set_promotion_in(
        self,
        uow: UnitOfWork,
        principal: Principal,
        name: str,
        policy: PromotionPolicy | None,
        reason: str | None = None,
    ) -> AliasChange:
        """:meth:`set_promotion` inside the caller's unit of work (``apply``)."""
        authorize(principal, Operation.PROTECT_ALIAS if policy else Operation.UNPROTECT_ALIAS)
        current = existing_alias(uow, name)
        if policy is None and current.target.promotion is None:
            raise NotFound(f"alias '{name}' has no promotion policy")
        target = replace(current.target, promotion=policy)
        request = _Request(
            name, AliasAction.POLICY, target, None, reason, None, current.allow_floating
        )
        return self._write(uow, principal, current, request)

    def set_shadows_in(
        self,
        uow: UnitOfWork,
        principal: Principal,
        name: str,
        shadows: tuple[ShadowPolicy, ...],
        reason: str | None = None,
    ) -> AliasChange:
        """Replace the alias's shadow candidates (``apply``; the shadow service for one)."""
        current = existing_alias(uow, name)
        target = replace(current.target, shadows=shadows)
        request = _Request(
            name, AliasAction.SHADOW, target, None, reason, None, current.allow_floating
        )
        return self._write(uow, principal, current, request)

    @staticmethod
    def _stamp_promotion(uow: UnitOfWork, vid: VersionId, now: datetime) -> None:
        version = uow.versions.get(vid)
        if version is not None and version.promoted_at is None:
            uow.versions.update(replace(version, promoted_at=now))


def _detail(revision: AliasRevision) -> dict[str, JsonValue]:
    return {
        "revision": revision.revision,
        "before": revision.previous.describe() if revision.previous else None,
        "after": revision.target.describe(),
        "protected": revision.protected,
        "reason": revision.reason,
        "restored_from": revision.restored_from,
    }
