"""Registering pinned versions and keeping their record."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date

from turnout.domain.access import Operation, Principal, authorize
from turnout.domain.ids import VersionId, classify_pinning, require_pinned
from turnout.domain.providers import BUILTIN_PROVIDERS, ProviderConfig
from turnout.domain.versions import KnownIssue, ParamValue, Version, validate_label
from turnout.errors import InvalidInput, NotFound
from turnout.ports import UnitOfWork
from turnout.services.context import ServiceContext, record

__all__ = ["VersionService", "provider_for"]


def provider_for(uow: UnitOfWork, name: str) -> ProviderConfig:
    """The provider a version id names: declared in the registry, else built in."""
    declared = uow.providers.get(name)
    if declared is not None:
        return declared
    builtin = BUILTIN_PROVIDERS.get(name)
    if builtin is None:
        known = sorted({*BUILTIN_PROVIDERS, *(p.name for p in uow.providers.all())})
        raise InvalidInput(
            f"unknown provider '{name}': declare it under 'providers:' in turnout.yaml "
            f"(known: {', '.join(known)})"
        )
    return builtin


class VersionService:
    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def add(
        self,
        principal: Principal,
        version_id: str,
        params: Mapping[str, ParamValue] | None = None,
        prompt_version: str | None = None,
        dataset_version: str | None = None,
        allow_floating: bool = False,
        deprecation_date: date | None = None,
        retirement_date: date | None = None,
    ) -> Version:
        """Register a pinned release; floating ids only with ``allow_floating``."""
        authorize(principal, Operation.ADD_VERSION)
        vid = VersionId.parse(version_id)
        version = self.build(
            principal,
            vid,
            params or {},
            prompt_version,
            dataset_version,
            allow_floating,
            deprecation_date,
            retirement_date,
        )
        with self._ctx.store.unit_of_work(write=True) as uow:
            self.check_provider(uow, version.id, version.params)
            uow.versions.add(version)
            record(
                uow,
                version.introduced_at or self._ctx.now(),
                principal,
                "version.add",
                str(vid),
                {
                    "params": dict(version.params),
                    "prompt_version": version.prompt_version,
                    "dataset_version": version.dataset_version,
                    "floating_allowed": version.floating_allowed,
                },
            )
        return version

    def build(
        self,
        principal: Principal,
        vid: VersionId,
        params: Mapping[str, ParamValue],
        prompt_version: str | None,
        dataset_version: str | None,
        allow_floating: bool,
        deprecation_date: date | None = None,
        retirement_date: date | None = None,
    ) -> Version:
        """The record of a new version, checked against the pinning rule and catalog."""
        today = self._ctx.today()
        verdict = classify_pinning(vid, self._ctx.catalog, today)
        warnings: tuple[str, ...] = ()
        if not verdict.pinned:
            if not allow_floating:
                require_pinned(vid, self._ctx.catalog, today)
            warnings = (
                f"floating id allowed by {principal.name} on {today.isoformat()}: "
                f"{verdict.reason}; "
                "only non-protected aliases may serve it",
            )
        entry = self._ctx.catalog.lookup(vid.provider, vid.model)
        if entry is not None:
            deprecation_date = deprecation_date or entry.deprecated
            retirement_date = retirement_date or entry.retires
        if retirement_date is not None and retirement_date <= today:
            replacement = (
                f"; the provider recommends {entry.replacement}"
                if entry and entry.replacement
                else ""
            )
            raise InvalidInput(
                f"version {vid} was retired on {retirement_date.isoformat()}{replacement}"
            )
        return Version(
            id=vid,
            params=dict(params),
            introduced_at=self._ctx.now(),
            introduced_by=principal.name,
            prompt_version=validate_label("prompt version", prompt_version),
            dataset_version=validate_label("dataset version", dataset_version),
            deprecation_date=deprecation_date,
            retirement_date=retirement_date,
            floating_allowed=not verdict.pinned,
            warnings=warnings,
        )

    def check_provider(
        self, uow: UnitOfWork, vid: VersionId, params: Mapping[str, ParamValue]
    ) -> None:
        """The provider must be known, and accept the params its adapter will be given."""
        self._ctx.check_params(provider_for(uow, vid.provider), params)

    def get(self, version_id: str) -> Version:
        vid = VersionId.parse(version_id)
        with self._ctx.store.unit_of_work() as uow:
            version = uow.versions.get(vid)
        if version is None:
            raise NotFound(
                f"version {vid} is not registered (add it with 'turnout version add {vid}')"
            )
        return version

    def all(self) -> list[Version]:
        with self._ctx.store.unit_of_work() as uow:
            return uow.versions.all()

    def add_known_issue(self, principal: Principal, version_id: str, text: str) -> Version:
        """Append a caveat to a version's record (never edits earlier ones)."""
        authorize(principal, Operation.ANNOTATE_VERSION)
        vid = VersionId.parse(version_id)
        text = text.strip()
        if not text:
            raise InvalidInput("a known issue needs some text")
        now = self._ctx.now()
        with self._ctx.store.unit_of_work(write=True) as uow:
            version = uow.versions.get(vid)
            if version is None:
                raise NotFound(f"version {vid} is not registered")
            issue = KnownIssue(text, now, principal.name)
            updated = replace(version, known_issues=(*version.known_issues, issue))
            uow.versions.update(updated)
            record(uow, now, principal, "version.known_issue", str(vid), {"text": text})
        return updated
