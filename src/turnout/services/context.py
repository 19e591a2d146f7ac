"""What every service needs: the store, the catalog, the clock, and the audit helper."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from turnout.domain.access import Principal
from turnout.domain.audit import AuditEntry, JsonValue
from turnout.domain.catalog import Catalog
from turnout.ports import Clock, RegistryStore, UnitOfWork

__all__ = ["ServiceContext", "record", "system_clock"]


def system_clock() -> datetime:
    """The real clock, UTC; services never call ``datetime.now`` themselves."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class ServiceContext:
    store: RegistryStore
    catalog: Catalog
    clock: Clock = system_clock

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        return self.clock().date()


def record(
    uow: UnitOfWork,
    at: datetime,
    principal: Principal,
    action: str,
    subject: str,
    detail: dict[str, JsonValue],
) -> AuditEntry:
    """Append the audit entry for a write, inside the write's own transaction."""
    return uow.audit.append(at, principal.name, action, subject, detail)
