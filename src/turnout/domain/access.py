"""Who may do what: roles, principals, API token values and the permission rule.

Roles are ordered ``viewer < operator < deployer < admin``; every operation
names the least role it needs. Protected aliases raise the bar to deployer and
demand a written reason, because flipping them changes production.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from turnout.errors import AuthenticationFailed, InvalidInput, PermissionDenied

__all__ = [
    "LOCAL_ADMIN",
    "ROLLOUT_CONTROLLER",
    "ApiToken",
    "Operation",
    "Principal",
    "Role",
    "authorize",
    "authorize_alias_change",
]


class Role(enum.StrEnum):
    """Access levels, from least to most trusted."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    DEPLOYER = "deployer"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls(text.strip().lower())
        except ValueError:
            names = "|".join(role.value for role in cls)
            raise InvalidInput(f"role {text!r} must be one of {names}") from None


class Operation(enum.StrEnum):
    """Every privileged operation, mapped to its least role by :data:`_LEAST_ROLE`."""

    READ = "read"
    ADD_VERSION = "add_version"
    ANNOTATE_VERSION = "annotate_version"
    SET_ALIAS = "set_alias"
    SET_PROTECTED_ALIAS = "set_protected_alias"
    PROTECT_ALIAS = "protect_alias"
    UNPROTECT_ALIAS = "unprotect_alias"
    APPLY_CONFIG = "apply_config"
    MANAGE_TOKENS = "manage_tokens"


_LEAST_ROLE: dict[Operation, Role] = {
    Operation.READ: Role.VIEWER,
    Operation.ADD_VERSION: Role.OPERATOR,
    Operation.ANNOTATE_VERSION: Role.OPERATOR,
    Operation.SET_ALIAS: Role.OPERATOR,
    Operation.SET_PROTECTED_ALIAS: Role.DEPLOYER,
    Operation.PROTECT_ALIAS: Role.DEPLOYER,
    Operation.UNPROTECT_ALIAS: Role.ADMIN,
    Operation.APPLY_CONFIG: Role.DEPLOYER,
    Operation.MANAGE_TOKENS: Role.ADMIN,
}


@dataclass(frozen=True, slots=True)
class Principal:
    """Whoever is acting: a token's holder, or the local admin on a local database."""

    name: str
    role: Role
    token_id: int | None = None


LOCAL_ADMIN = Principal("local-admin", Role.ADMIN)
"""The CLI acting directly on a local database file is its owner."""

ROLLOUT_CONTROLLER = Principal("rollout-controller", Role.ADMIN)
"""The controller acts on rollouts people started; its writes say so in the audit log."""


def authorize(principal: Principal, operation: Operation) -> None:
    """Raise :class:`PermissionDenied` unless ``principal`` may perform ``operation``."""
    needed = _LEAST_ROLE[operation]
    if not principal.role.at_least(needed):
        raise PermissionDenied(
            f"{principal.name} ({principal.role}) may not {operation.value.replace('_', ' ')}: "
            f"needs {needed} or higher"
        )


def authorize_alias_change(
    principal: Principal, alias: str, protected: bool, reason: str | None
) -> None:
    """Changing a protected alias needs deployer or admin *and* a non-empty reason."""
    if not protected:
        authorize(principal, Operation.SET_ALIAS)
        return
    authorize(principal, Operation.SET_PROTECTED_ALIAS)
    if not reason or not reason.strip():
        raise PermissionDenied(f"alias '{alias}' is protected: a change needs --reason")


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A stored token: never the secret, only its hash and a short display prefix."""

    id: int
    name: str
    role: Role
    prefix: str
    created_at: datetime
    created_by: str
    expires_at: datetime | None = None
    revoked_at: datetime | None = None

    def check_usable(self, now: datetime) -> None:
        if self.revoked_at is not None:
            raise AuthenticationFailed(f"token '{self.name}' was revoked")
        if self.expires_at is not None and self.expires_at <= now:
            raise AuthenticationFailed(
                f"token '{self.name}' expired at {self.expires_at.isoformat()}"
            )

    def principal(self) -> Principal:
        return Principal(f"token:{self.name}", self.role, self.id)
