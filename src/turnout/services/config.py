"""Config as code: ``plan`` shows the diff to ``turnout.yaml``; ``apply`` makes it so.

Both run the very same code path inside one write transaction; ``plan`` then
rolls it back. So a plan that succeeds is an apply that would succeed — every
check (pinning, providers, protected aliases, retired versions) runs in both —
and an apply that fails part-way leaves nothing half written.
"""

from __future__ import annotations

from dataclasses import replace

from turnout.domain.access import Operation, Principal, Role, authorize
from turnout.domain.audit import JsonValue
from turnout.domain.plan import ChangeKind, DesiredState, Plan, compute_plan
from turnout.ports import UnitOfWork
from turnout.services.aliases import AliasService
from turnout.services.context import ServiceContext, record
from turnout.services.rollouts import RolloutService
from turnout.services.versions import VersionService

__all__ = ["ConfigService"]


class _RollBack(Exception):
    """Raised at the end of a dry run so the unit of work discards every write."""


class ConfigService:
    def __init__(
        self,
        ctx: ServiceContext,
        versions: VersionService,
        aliases: AliasService,
        rollouts: RolloutService,
    ) -> None:
        self._ctx = ctx
        self._versions = versions
        self._aliases = aliases
        self._rollouts = rollouts

    def plan(self, principal: Principal, desired: DesiredState, reason: str | None = None) -> Plan:
        """The changes ``apply`` would make, checked as ``apply`` checks them; writes nothing.

        Rights and the reason a protected alias needs are not checked: anyone may
        preview, and the reason is asked for when the change is applied.
        """
        authorize(principal, Operation.READ)
        outcome: list[Plan] = []
        try:
            with self._ctx.store.unit_of_work(write=True) as uow:
                preview_reason = reason or "(plan preview)"
                outcome.append(
                    self._run(uow, principal, desired, preview_reason, check_rights=False)
                )
                raise _RollBack
        except _RollBack:
            pass
        return outcome[0]

    def apply(self, principal: Principal, desired: DesiredState, reason: str | None = None) -> Plan:
        """Make the registry match ``desired`` in one transaction; return what changed."""
        authorize(principal, Operation.APPLY_CONFIG)
        with self._ctx.store.unit_of_work(write=True) as uow:
            return self._run(uow, principal, desired, reason, check_rights=True)

    def _run(
        self,
        uow: UnitOfWork,
        principal: Principal,
        desired: DesiredState,
        reason: str | None,
        check_rights: bool,
    ) -> Plan:
        plan = compute_plan(desired, uow.providers.all(), uow.versions.all(), uow.aliases.all())
        # A dry run checks everything except the caller's rights, so a viewer can plan.
        actor = principal if check_rights else replace(principal, role=Role.ADMIN)
        now = self._ctx.now()
        for change in plan.changes:
            if change.kind in (ChangeKind.ADD_PROVIDER, ChangeKind.UPDATE_PROVIDER):
                config = desired.provider(change.subject)
                assert config is not None
                uow.providers.put(config)
                record(
                    uow,
                    now,
                    actor,
                    f"provider.{change.kind.value.split('_')[0]}",
                    config.name,
                    dict[str, JsonValue](config.as_dict()),
                )
            elif change.kind in (ChangeKind.ADD_VERSION, ChangeKind.UPDATE_VERSION):
                self._apply_version(uow, actor, desired, change.subject, change.kind)
            elif change.kind is ChangeKind.ROLLOUT_ALIAS:
                wanted = desired.alias(change.subject)
                assert wanted is not None
                assert wanted.rollout is not None
                self._rollouts.start_in(
                    uow, actor, change.subject, wanted.target.version, wanted.rollout, reason
                )
            elif change.kind is ChangeKind.POLICY_ALIAS:
                wanted = desired.alias(change.subject)
                assert wanted is not None
                self._aliases.set_promotion_in(uow, actor, change.subject, wanted.promotion, reason)
            elif change.kind is ChangeKind.SHADOW_ALIAS:
                wanted = desired.alias(change.subject)
                assert wanted is not None
                assert wanted.shadows is not None
                self._aliases.set_shadows_in(uow, actor, change.subject, wanted.shadows, reason)
            else:
                self._apply_alias(uow, actor, desired, change.subject, reason)
        return plan

    def _apply_version(
        self,
        uow: UnitOfWork,
        actor: Principal,
        desired: DesiredState,
        subject: str,
        kind: ChangeKind,
    ) -> None:
        wanted = desired.version(subject)
        assert wanted is not None
        self._versions.check_provider(uow, wanted.id, wanted.params)
        now = self._ctx.now()
        detail: dict[str, JsonValue] = {
            "params": dict(wanted.params),
            "prompt_version": wanted.prompt_version,
            "dataset_version": wanted.dataset_version,
        }
        if kind is ChangeKind.ADD_VERSION:
            version = self._versions.build(
                actor,
                wanted.id,
                wanted.params,
                wanted.prompt_version,
                wanted.dataset_version,
                wanted.allow_floating,
            )
            uow.versions.add(version)
            record(uow, now, actor, "version.add", subject, detail)
            return
        stored = uow.versions.get(wanted.id)
        assert stored is not None
        checked = self._versions.build(
            actor,
            wanted.id,
            wanted.params,
            wanted.prompt_version,
            wanted.dataset_version,
            wanted.allow_floating or stored.floating_allowed,
        )
        uow.versions.update(
            replace(
                stored,
                params=checked.params,
                prompt_version=checked.prompt_version,
                dataset_version=checked.dataset_version,
            )
        )
        record(uow, now, actor, "version.update", subject, detail)

    def _apply_alias(
        self,
        uow: UnitOfWork,
        actor: Principal,
        desired: DesiredState,
        name: str,
        reason: str | None,
    ) -> None:
        wanted = desired.alias(name)
        assert wanted is not None
        self._aliases.set_in(
            uow,
            actor,
            name,
            str(wanted.target.version),
            [str(v) for v in wanted.target.fallbacks],
            reason,
            allow_floating=wanted.allow_floating,
            protected=wanted.protected,
        )
