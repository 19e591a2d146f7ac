"""API tokens: created once and shown once, stored only as a SHA-256 hash.

Tokens are 256 random bits, so a fast hash is enough: there is nothing to
brute-force, and lookups by hash stay a single indexed query per request.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from turnout.domain.access import ApiToken, Operation, Principal, Role, authorize
from turnout.errors import AuthenticationFailed, InvalidInput, NotFound
from turnout.services.context import ServiceContext, record

__all__ = ["TOKEN_PREFIX", "IssuedToken", "TokenService", "hash_token"]

TOKEN_PREFIX = "tnt_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new token and its secret: the only time the secret exists outside the caller."""

    token: ApiToken
    secret: str


class TokenService:
    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def create(
        self, principal: Principal, name: str, role: Role, expires_in: timedelta | None = None
    ) -> IssuedToken:
        authorize(principal, Operation.MANAGE_TOKENS)
        if not _NAME.match(name):
            raise InvalidInput(f"token name {name!r} must be letters, digits, _ . @ - (at most 64)")
        if name.isdigit():  # revoke/find read an all-digit argument as a token id
            raise InvalidInput(f"token name {name!r} cannot be all digits (it would read as an id)")
        if expires_in is not None and expires_in <= timedelta(0):
            raise InvalidInput("token expiry must be in the future")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self._ctx.now()
        expires_at = now + expires_in if expires_in else None
        with self._ctx.store.unit_of_work(write=True) as uow:
            token = uow.tokens.add(
                name, role, secret[:10], hash_token(secret), now, principal.name, expires_at
            )
            record(
                uow,
                now,
                principal,
                "token.create",
                name,
                {
                    "id": token.id,
                    "role": role.value,
                    "expires_at": expires_at.isoformat() if expires_at else None,
                },
            )
        return IssuedToken(token, secret)

    def all(self, principal: Principal) -> list[ApiToken]:
        authorize(principal, Operation.MANAGE_TOKENS)
        with self._ctx.store.unit_of_work() as uow:
            return uow.tokens.all()

    def revoke(self, principal: Principal, name_or_id: str) -> ApiToken:
        authorize(principal, Operation.MANAGE_TOKENS)
        now = self._ctx.now()
        with self._ctx.store.unit_of_work(write=True) as uow:
            token = uow.tokens.find(name_or_id)
            if token is None:
                raise NotFound(f"no token named or numbered '{name_or_id}'")
            if token.revoked_at is not None:
                raise InvalidInput(f"token '{token.name}' (id {token.id}) is already revoked")
            uow.tokens.revoke(token.id, now)
            record(uow, now, principal, "token.revoke", token.name, {"id": token.id})
        return ApiToken(
            token.id,
            token.name,
            token.role,
            token.prefix,
            token.created_at,
            token.created_by,
            token.expires_at,
            now,
        )

    def authenticate(self, secret: str) -> Principal:
        """The principal a bearer secret stands for; any doubt is a refusal."""
        if not secret.startswith(TOKEN_PREFIX):
            raise AuthenticationFailed("malformed token: turnout tokens start with 'tnt_'")
        with self._ctx.store.unit_of_work() as uow:
            token = uow.tokens.by_hash(hash_token(secret))
        if token is None:
            raise AuthenticationFailed("unknown token")
        token.check_usable(self._ctx.now())
        return token.principal()
