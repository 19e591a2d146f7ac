"""Roles, the permission rule, protected aliases and token usability."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from turnout.domain.access import (
    LOCAL_ADMIN,
    ApiToken,
    Operation,
    Principal,
    Role,
    authorize,
    authorize_alias_change,
)
from turnout.errors import AuthenticationFailed, InvalidInput, PermissionDenied

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
ORDER = [Role.VIEWER, Role.OPERATOR, Role.DEPLOYER, Role.ADMIN]
LEAST = {
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


def _who(role: Role) -> Principal:
    return Principal(f"user-{role}", role)


def test_roles_are_ordered_viewer_operator_deployer_admin() -> None:
    assert list(Role) == ORDER
    assert [role.rank for role in ORDER] == [0, 1, 2, 3]
    for i, low in enumerate(ORDER):
        for j, high in enumerate(ORDER):
            assert high.at_least(low) is (j >= i)


@pytest.mark.parametrize(("text", "role"), [("admin", Role.ADMIN), (" Deployer ", Role.DEPLOYER)])
def test_role_parse(text: str, role: Role) -> None:
    assert Role.parse(text) is role


def test_role_parse_rejects_unknown_roles() -> None:
    with pytest.raises(InvalidInput, match="viewer\\|operator\\|deployer\\|admin"):
        Role.parse("root")


def test_every_operation_has_a_least_role() -> None:
    assert set(LEAST) == set(Operation)


@pytest.mark.parametrize("operation", list(Operation))
@pytest.mark.parametrize("role", ORDER)
def test_authorize_follows_the_least_role(operation: Operation, role: Role) -> None:
    if role.rank >= LEAST[operation].rank:
        authorize(_who(role), operation)
    else:
        with pytest.raises(PermissionDenied) as info:
            authorize(_who(role), operation)
        assert f"needs {LEAST[operation]} or higher" in info.value.message
        assert f"user-{role}" in info.value.message


def test_local_admin_may_do_anything() -> None:
    assert LOCAL_ADMIN.role is Role.ADMIN
    for operation in Operation:
        authorize(LOCAL_ADMIN, operation)


def test_unprotected_alias_needs_an_operator_and_no_reason() -> None:
    authorize_alias_change(_who(Role.OPERATOR), "staging", protected=False, reason=None)
    with pytest.raises(PermissionDenied):
        authorize_alias_change(_who(Role.VIEWER), "staging", protected=False, reason="why not")


@pytest.mark.parametrize("role", [Role.DEPLOYER, Role.ADMIN])
def test_protected_alias_needs_a_deployer_with_a_reason(role: Role) -> None:
    authorize_alias_change(_who(role), "prod", protected=True, reason="incident 42")
    for reason in (None, "", "   "):
        with pytest.raises(PermissionDenied, match="'prod' is protected: a change needs --reason"):
            authorize_alias_change(_who(role), "prod", protected=True, reason=reason)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR])
def test_protected_alias_refuses_lower_roles_even_with_a_reason(role: Role) -> None:
    with pytest.raises(PermissionDenied, match="needs deployer"):
        authorize_alias_change(_who(role), "prod", protected=True, reason="incident 42")


def _token(expires_at: datetime | None = None, revoked_at: datetime | None = None) -> ApiToken:
    created = NOW - timedelta(days=1)
    return ApiToken(7, "ci", Role.DEPLOYER, "tk_ab12", created, "admin", expires_at, revoked_at)


def test_token_without_expiry_or_revocation_is_usable() -> None:
    _token().check_usable(NOW)
    _token(expires_at=NOW + timedelta(seconds=1)).check_usable(NOW)


def test_revoked_token_is_refused() -> None:
    token = _token(revoked_at=NOW - timedelta(hours=1), expires_at=NOW + timedelta(days=1))
    with pytest.raises(AuthenticationFailed, match="token 'ci' was revoked"):
        token.check_usable(NOW)


@pytest.mark.parametrize("delta", [timedelta(0), timedelta(seconds=-1), timedelta(days=-30)])
def test_expired_token_is_refused(delta: timedelta) -> None:
    with pytest.raises(AuthenticationFailed, match="token 'ci' expired at"):
        _token(expires_at=NOW + delta).check_usable(NOW)


def test_token_principal_carries_role_and_id() -> None:
    assert _token().principal() == Principal("token:ci", Role.DEPLOYER, 7)
