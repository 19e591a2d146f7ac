"""API tokens: shown once, stored as a hash, refused when unknown, revoked or expired."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Protocol

import pytest
from sqlalchemy import select

from turnout.domain.access import LOCAL_ADMIN, Principal, Role
from turnout.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound, PermissionDenied
from turnout.services.registry import Registry
from turnout.services.tokens import TOKEN_PREFIX
from turnout.store import SqlStore
from turnout.store.schema import api_tokens, audit_log


class FakeClock(Protocol):
    """The settable clock of ``tests/conftest.py``."""

    now: datetime

    def __call__(self) -> datetime: ...

    def advance(self, seconds: float = 1.0) -> datetime: ...


def test_create_returns_the_secret_once_and_stores_only_its_hash(
    registry: Registry, store: SqlStore, clock: FakeClock
) -> None:
    issued = registry.tokens.create(LOCAL_ADMIN, "ci-deployer", Role.DEPLOYER)
    secret, token = issued.secret, issued.token
    assert secret.startswith(TOKEN_PREFIX)
    assert len(secret) > 40
    assert token.prefix == secret[:10]
    assert (token.name, token.role, token.created_by) == (
        "ci-deployer",
        Role.DEPLOYER,
        "local-admin",
    )
    assert (token.created_at, token.expires_at, token.revoked_at) == (clock(), None, None)

    with store.engine.connect() as conn:
        (row,) = conn.execute(select(api_tokens)).mappings().all()
        audit_rows = conn.execute(select(audit_log)).mappings().all()
    assert row["token_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    stored_text = " ".join(str(value) for value in row.values())
    stored_text += " ".join(str(value) for r in audit_rows for value in r.values())
    assert secret not in stored_text
    assert secret[len(token.prefix) :] not in stored_text

    listed = registry.tokens.all(LOCAL_ADMIN)
    assert listed == [token]
    assert not hasattr(listed[0], "secret")


def test_two_tokens_never_share_a_secret(registry: Registry) -> None:
    first = registry.tokens.create(LOCAL_ADMIN, "a", Role.VIEWER)
    second = registry.tokens.create(LOCAL_ADMIN, "b", Role.VIEWER)
    assert first.secret != second.secret


def test_authenticate_returns_the_token_principal(registry: Registry) -> None:
    issued = registry.tokens.create(LOCAL_ADMIN, "dashboard", Role.OPERATOR)
    principal = registry.tokens.authenticate(issued.secret)
    assert principal == Principal("token:dashboard", Role.OPERATOR, issued.token.id)


def test_unknown_or_malformed_secrets_are_refused(registry: Registry) -> None:
    issued = registry.tokens.create(LOCAL_ADMIN, "dashboard", Role.OPERATOR)
    for secret in (
        "",
        "not-a-token",
        TOKEN_PREFIX,
        TOKEN_PREFIX + "unknown" * 6,
        "Bearer " + issued.secret,
        issued.secret + "x",
        issued.secret[:-1],
        issued.token.prefix,
    ):
        with pytest.raises(AuthenticationFailed):
            registry.tokens.authenticate(secret)


def test_a_revoked_token_is_refused(registry: Registry, clock: FakeClock) -> None:
    issued = registry.tokens.create(LOCAL_ADMIN, "ci", Role.DEPLOYER)
    when = clock.advance(60)
    revoked = registry.tokens.revoke(LOCAL_ADMIN, "ci")
    assert (revoked.id, revoked.revoked_at) == (issued.token.id, when)
    with pytest.raises(AuthenticationFailed, match="revoked"):
        registry.tokens.authenticate(issued.secret)
    with pytest.raises(InvalidInput, match="already revoked"):
        registry.tokens.revoke(LOCAL_ADMIN, str(issued.token.id))
    with pytest.raises(NotFound):
        registry.tokens.revoke(LOCAL_ADMIN, "nobody")
    with pytest.raises(NotFound):
        registry.tokens.revoke(LOCAL_ADMIN, "4242")


def test_revoke_by_id(registry: Registry) -> None:
    issued = registry.tokens.create(LOCAL_ADMIN, "ci", Role.DEPLOYER)
    registry.tokens.revoke(LOCAL_ADMIN, str(issued.token.id))
    (listed,) = registry.tokens.all(LOCAL_ADMIN)
    assert listed.revoked_at is not None


def test_a_token_expires_at_its_deadline(registry: Registry, clock: FakeClock) -> None:
    issued = registry.tokens.create(LOCAL_ADMIN, "short", Role.VIEWER, timedelta(hours=1))
    assert issued.token.expires_at == clock() + timedelta(hours=1)
    clock.advance(3599)
    assert registry.tokens.authenticate(issued.secret).name == "token:short"
    clock.advance(1)
    with pytest.raises(AuthenticationFailed, match="expired"):
        registry.tokens.authenticate(issued.secret)


def test_expiry_must_be_in_the_future(registry: Registry) -> None:
    for expires_in in (timedelta(0), timedelta(seconds=-1)):
        with pytest.raises(InvalidInput):
            registry.tokens.create(LOCAL_ADMIN, "ci", Role.VIEWER, expires_in)
    assert registry.tokens.all(LOCAL_ADMIN) == []


def test_only_admins_manage_tokens(registry: Registry) -> None:
    registry.tokens.create(LOCAL_ADMIN, "existing", Role.VIEWER)
    for role in (Role.VIEWER, Role.OPERATOR, Role.DEPLOYER):
        principal = Principal("someone", role)
        with pytest.raises(PermissionDenied):
            registry.tokens.create(principal, "mine", Role.ADMIN)
        with pytest.raises(PermissionDenied):
            registry.tokens.all(principal)
        with pytest.raises(PermissionDenied):
            registry.tokens.revoke(principal, "existing")
    assert [(t.name, t.revoked_at) for t in registry.tokens.all(LOCAL_ADMIN)] == [
        ("existing", None)
    ]


def test_a_token_admin_can_create_tokens(registry: Registry) -> None:
    admin = registry.tokens.create(LOCAL_ADMIN, "ops-admin", Role.ADMIN)
    principal = registry.tokens.authenticate(admin.secret)
    created = registry.tokens.create(principal, "ci", Role.OPERATOR)
    assert created.token.created_by == "token:ops-admin"


def test_active_names_are_unique_and_free_again_after_revoke(registry: Registry) -> None:
    first = registry.tokens.create(LOCAL_ADMIN, "ci", Role.VIEWER)
    with pytest.raises(Conflict):
        registry.tokens.create(LOCAL_ADMIN, "ci", Role.ADMIN)
    registry.tokens.revoke(LOCAL_ADMIN, "ci")
    second = registry.tokens.create(LOCAL_ADMIN, "ci", Role.OPERATOR)
    assert registry.tokens.authenticate(second.secret).role is Role.OPERATOR
    with pytest.raises(AuthenticationFailed, match="revoked"):
        registry.tokens.authenticate(first.secret)
    active = [(t.id, t.revoked_at is None) for t in registry.tokens.all(LOCAL_ADMIN)]
    assert active == [(first.token.id, False), (second.token.id, True)]


def test_revoke_by_name_or_id_never_hits_another_token(registry: Registry) -> None:
    # ``revoke`` takes a name or a numeric id: a name made of digits would be read
    # as an id and revoke a different token, leaving the intended one usable.
    registry.tokens.create(LOCAL_ADMIN, "x", Role.ADMIN)
    with pytest.raises(InvalidInput, match="digits"):
        registry.tokens.create(LOCAL_ADMIN, "1", Role.VIEWER)
    assert registry.tokens.create(LOCAL_ADMIN, "bot-1", Role.VIEWER).token.name == "bot-1"


def test_bad_token_names_are_refused(registry: Registry) -> None:
    for name in ("", "-dash", "has space", "x" * 65, "ünï", "42"):
        with pytest.raises(InvalidInput):
            registry.tokens.create(LOCAL_ADMIN, name, Role.VIEWER)
    assert registry.tokens.all(LOCAL_ADMIN) == []
