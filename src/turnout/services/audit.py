"""Reading and verifying the hash-chained audit log."""

from __future__ import annotations

from turnout.domain.access import Operation, Principal, authorize
from turnout.domain.audit import AuditEntry, ChainBreak, verify_chain
from turnout.services.context import ServiceContext

__all__ = ["AuditService"]


class AuditService:
    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def entries(
        self,
        principal: Principal,
        limit: int | None = 50,
        subject: str | None = None,
        action_prefix: str | None = None,
    ) -> list[AuditEntry]:
        """The newest entries first, optionally only those about ``subject`` and only
        actions starting with ``action_prefix`` (``alias.``, ``token.create``)."""
        authorize(principal, Operation.READ)
        with self._ctx.store.unit_of_work() as uow:
            return uow.audit.entries(
                limit=limit, newest_first=True, subject=subject, action_prefix=action_prefix
            )

    def verify(self, principal: Principal) -> tuple[int, ChainBreak | None]:
        """Recompute the whole chain: (entries the head claims, first break or None)."""
        authorize(principal, Operation.READ)
        with self._ctx.store.unit_of_work() as uow:
            head = uow.audit.head()
            brk = verify_chain(uow.audit.iterate(), head)
        return (head[0] if head else 0), brk
