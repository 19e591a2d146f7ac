"""The Python SDK: one client interface, local (database URL) or remote (admin API).

``turnout.connect("sqlite:///turnout.db")`` acts on the registry directly as the
local admin; ``turnout.connect("http://gateway:8600", token=...)`` goes through
the admin API with a bearer token. Both return the same domain values, and both
resolve aliases in memory from a snapshot kept fresh in the background.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from turnout.domain.access import LOCAL_ADMIN, ApiToken, Principal, Role
from turnout.domain.aliases import Alias, AliasRevision
from turnout.domain.audit import AuditEntry, ChainBreak
from turnout.domain.deprecations import Finding
from turnout.domain.promotion import PromotionPolicy
from turnout.domain.rollouts import Rollout, RolloutPlan
from turnout.domain.versions import ParamValue, Version
from turnout.errors import InvalidInput
from turnout.services.aliases import AliasChange
from turnout.services.registry import Registry
from turnout.services.rollouts import RolloutReport
from turnout.services.snapshot import Resolution, SnapshotFollower
from turnout.services.tokens import IssuedToken

__all__ = ["LocalClient", "TurnoutClient"]


class TurnoutClient(Protocol):
    """Every registry operation, whatever the transport."""

    def add_version(
        self,
        version_id: str,
        params: Mapping[str, ParamValue] | None = None,
        prompt_version: str | None = None,
        dataset_version: str | None = None,
        allow_floating: bool = False,
    ) -> Version: ...

    def list_versions(self) -> list[Version]: ...

    def get_version(self, version_id: str) -> Version: ...

    def add_known_issue(self, version_id: str, text: str) -> Version: ...

    def set_alias(
        self,
        name: str,
        version: str,
        fallbacks: list[str] | None = None,
        reason: str | None = None,
        expected_revision: int | None = None,
        allow_floating: bool = False,
        protected: bool | None = None,
    ) -> AliasChange: ...

    def rollback_alias(
        self,
        name: str,
        to: int | None = None,
        reason: str | None = None,
        expected_revision: int | None = None,
    ) -> AliasChange: ...

    def protect_alias(
        self, name: str, protected: bool, reason: str | None = None
    ) -> AliasChange: ...

    def list_aliases(self) -> list[Alias]: ...

    def get_alias(self, name: str) -> Alias: ...

    def alias_history(self, name: str) -> list[AliasRevision]: ...

    def resolve_at(self, name: str, at: datetime | None = None) -> AliasRevision: ...

    def resolve(self, alias: str, key: str | None = None) -> Resolution: ...

    def start_rollout(
        self,
        alias: str,
        to: str,
        steps: Sequence[float] | None = None,
        policy: Mapping[str, object] | None = None,
        reason: str | None = None,
    ) -> Rollout: ...

    def rollout_status(self, alias: str) -> RolloutReport: ...

    def rollout_action(self, alias: str, action: str, reason: str | None = None) -> Rollout:
        """``pause``, ``resume``, ``approve`` or ``abort`` the alias's rollout."""

    def list_rollouts(self, alias: str | None = None) -> list[Rollout]: ...

    def start_shadow(
        self,
        alias: str,
        candidate: str,
        sample: float = 0.1,
        max_rps: float | None = None,
        max_cost_per_day: float | None = None,
        reason: str | None = None,
    ) -> AliasChange: ...

    def stop_shadow(
        self, alias: str, candidate: str | None = None, reason: str | None = None
    ) -> AliasChange: ...

    def shadow_status(self, alias: str, window_hours: float = 24.0) -> dict[str, object]: ...

    def set_promotion(
        self, name: str, policy: PromotionPolicy | None, reason: str | None = None
    ) -> AliasChange: ...

    def create_token(
        self, name: str, role: Role, expires_in: timedelta | None = None
    ) -> IssuedToken: ...

    def list_tokens(self) -> list[ApiToken]: ...

    def revoke_token(self, name_or_id: str) -> ApiToken: ...

    def audit_entries(
        self, limit: int | None = 50, subject: str | None = None
    ) -> list[AuditEntry]: ...

    def verify_audit(self) -> tuple[int, ChainBreak | None]: ...

    def deprecations(self, within_days: int = 90) -> list[Finding]:
        """Versions any alias uses that retire within ``within_days``, soonest first."""

    def close(self) -> None: ...


class LocalClient:
    """Acts on a registry database directly, as ``principal`` (the local admin)."""

    def __init__(
        self, registry: Registry, principal: Principal = LOCAL_ADMIN, poll_interval: float = 0.2
    ) -> None:
        self.registry = registry
        self.principal = principal
        self._poll_interval = poll_interval
        self._follower: SnapshotFollower | None = None

    def __enter__(self) -> LocalClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def add_version(
        self,
        version_id: str,
        params: Mapping[str, ParamValue] | None = None,
        prompt_version: str | None = None,
        dataset_version: str | None = None,
        allow_floating: bool = False,
    ) -> Version:
        return self.registry.versions.add(
            self.principal, version_id, params, prompt_version, dataset_version, allow_floating
        )

    def list_versions(self) -> list[Version]:
        return self.registry.versions.all()

    def get_version(self, version_id: str) -> Version:
        return self.registry.versions.get(version_id)

    def add_known_issue(self, version_id: str, text: str) -> Version:
        return self.registry.versions.add_known_issue(self.principal, version_id, text)

    def set_alias(
        self,
        name: str,
        version: str,
        fallbacks: list[str] | None = None,
        reason: str | None = None,
        expected_revision: int | None = None,
        allow_floating: bool = False,
        protected: bool | None = None,
    ) -> AliasChange:
        change = self.registry.aliases.set(
            self.principal,
            name,
            version,
            fallbacks,
            reason,
            expected_revision,
            allow_floating,
            protected,
        )
        self._saw_write()
        return change

    def rollback_alias(
        self,
        name: str,
        to: int | None = None,
        reason: str | None = None,
        expected_revision: int | None = None,
    ) -> AliasChange:
        change = self.registry.aliases.rollback(self.principal, name, to, reason, expected_revision)
        self._saw_write()
        return change

    def protect_alias(self, name: str, protected: bool, reason: str | None = None) -> AliasChange:
        change = self.registry.aliases.protect(self.principal, name, protected, reason)
        self._saw_write()
        return change

    def list_aliases(self) -> list[Alias]:
        return self.registry.aliases.all()

    def get_alias(self, name: str) -> Alias:
        return self.registry.aliases.get(name)

    def alias_history(self, name: str) -> list[AliasRevision]:
        return self.registry.aliases.history(name)

    def resolve_at(self, name: str, at: datetime | None = None) -> AliasRevision:
        return self.registry.aliases.resolve_at(name, at)

    def resolve(self, alias: str, key: str | None = None) -> Resolution:
        """In-memory resolution (microseconds); the snapshot follows registry changes.

        During a rollout ``key`` (a user or session id, like the gateway's
        ``user`` field) picks the arm: the same key always gets the same one, and
        the result's ``arm``/``version`` say which (``canary``/``weight`` describe
        the split). Without a key each call draws an arm at random.
        """
        follower = self._follower
        if follower is None:
            follower = self._follower = SnapshotFollower(
                self.registry.ctx.store, self.registry.ctx.clock, self._poll_interval
            )
            follower.start()
        return follower.snapshot.resolve(alias, key)

    def start_rollout(
        self,
        alias: str,
        to: str,
        steps: Sequence[float] | None = None,
        policy: Mapping[str, object] | None = None,
        reason: str | None = None,
    ) -> Rollout:
        plan = RolloutPlan.from_dict(policy) if policy is not None else None
        return self.registry.rollouts.start(self.principal, alias, to, steps, plan, reason)

    def rollout_status(self, alias: str) -> RolloutReport:
        return self.registry.rollouts.status(alias)

    def rollout_action(self, alias: str, action: str, reason: str | None = None) -> Rollout:
        service = self.registry.rollouts
        moves = {
            "pause": service.pause,
            "resume": service.resume,
            "approve": service.approve,
            "abort": service.abort,
        }
        if action not in moves:
            raise InvalidInput(f"rollout action {action!r} is not one of {', '.join(moves)}")
        return moves[action](self.principal, alias, reason).rollout

    def list_rollouts(self, alias: str | None = None) -> list[Rollout]:
        return self.registry.rollouts.history(alias)

    def start_shadow(
        self,
        alias: str,
        candidate: str,
        sample: float = 0.1,
        max_rps: float | None = None,
        max_cost_per_day: float | None = None,
        reason: str | None = None,
    ) -> AliasChange:
        change = self.registry.shadow.start(
            self.principal, alias, candidate, sample, max_rps, max_cost_per_day, reason
        )
        self._saw_write()
        return change

    def stop_shadow(
        self, alias: str, candidate: str | None = None, reason: str | None = None
    ) -> AliasChange:
        change = self.registry.shadow.stop(self.principal, alias, candidate, reason)
        self._saw_write()
        return change

    def shadow_status(self, alias: str, window_hours: float = 24.0) -> dict[str, object]:
        if not window_hours > 0:
            raise InvalidInput(f"the window must be positive, got {window_hours} hours")
        return self.registry.shadow.status(alias, timedelta(hours=window_hours)).to_dict()

    def set_promotion(
        self, name: str, policy: PromotionPolicy | None, reason: str | None = None
    ) -> AliasChange:
        change = self.registry.aliases.set_promotion(self.principal, name, policy, reason)
        self._saw_write()
        return change

    def create_token(
        self, name: str, role: Role, expires_in: timedelta | None = None
    ) -> IssuedToken:
        return self.registry.tokens.create(self.principal, name, role, expires_in)

    def list_tokens(self) -> list[ApiToken]:
        return self.registry.tokens.all(self.principal)

    def revoke_token(self, name_or_id: str) -> ApiToken:
        return self.registry.tokens.revoke(self.principal, name_or_id)

    def audit_entries(self, limit: int | None = 50, subject: str | None = None) -> list[AuditEntry]:
        return self.registry.audit.entries(self.principal, limit, subject)

    def verify_audit(self) -> tuple[int, ChainBreak | None]:
        return self.registry.audit.verify(self.principal)

    def deprecations(self, within_days: int = 90) -> list[Finding]:
        return self.registry.deprecations.findings(self.principal, within_days)

    def _saw_write(self) -> None:
        """Read your own writes: refresh the snapshot now rather than at the next poll."""
        if self._follower is not None:
            self._follower.refresh()

    def close(self) -> None:
        if self._follower is not None:
            self._follower.stop()
            self._follower = None
        self.registry.close()
