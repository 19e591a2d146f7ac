"""What every service needs: the store, the catalog, the clock, and the audit helper."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from turnout.domain.access import Principal
from turnout.domain.audit import AuditEntry, JsonValue
from turnout.domain.catalog import Catalog
from turnout.domain.providers import ProviderConfig
from turnout.domain.versions import ParamValue
from turnout.ports import Clock, ParamCheck, RegistryStore, UnitOfWork

__all__ = ["ServiceContext", "accept_any_params", "record", "system_clock"]


def system_clock() -> datetime:
    """The real clock, UTC; services never call ``datetime.now`` themselves."""
    return datetime.now(UTC)


def accept_any_params(_provider: ProviderConfig, _params: Mapping[str, ParamValue]) -> None:
    """The default check: adapters that know their params are wired in by ``wiring``."""


@dataclass(frozen=True)
class ServiceContext:
    store: RegistryStore
    catalog: Catalog
    clock: Clock = system_clock
    check_params: ParamCheck = accept_any_params

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
