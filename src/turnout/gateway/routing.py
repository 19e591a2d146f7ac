"""From the ``model`` of a request to a ready-to-call route, in a dict lookup.

Routes are built once per routing snapshot (aliases and registered versions
with their provider, params and list prices) and cached until the snapshot is
swapped, so the per-request cost is one lookup. An alias in a rollout has
both of its routes (stable and canary) built once too; picking one costs a
second lookup and one keyed hash of the sticky key (see
:func:`turnout.services.snapshot.takes_canary`), and nothing at all for the
aliases that are not in a rollout. A ``model`` that is not an alias may be a
pinned version id; a floating id is refused with the pinning error, as
everywhere else in turnout.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Protocol

from turnout.domain.catalog import Catalog
from turnout.domain.ids import VersionId, require_pinned
from turnout.domain.providers import BUILTIN_PROVIDERS, ProviderConfig
from turnout.domain.shadow import ShadowPolicy
from turnout.domain.versions import ParamValue
from turnout.errors import InvalidInput, NotFound, StoreUnavailable
from turnout.providers.base import ChatProvider
from turnout.services.snapshot import Resolution, RoutingSnapshot, takes_canary

__all__ = ["ProviderSource", "Route", "Router", "ShadowRoute", "SnapshotSource"]


class SnapshotSource(Protocol):
    """Whatever holds the current routing snapshot (the feed, or a test double).

    ``ready`` is false until a first snapshot was loaded (from the store or the
    snapshot file); until then ``current`` is empty and nothing can be routed.
    """

    @property
    def current(self) -> RoutingSnapshot: ...

    @property
    def ready(self) -> bool: ...


class ProviderSource(Protocol):
    """Pooled adapters, one per provider endpoint configuration."""

    def get(self, config: ProviderConfig) -> ChatProvider: ...


@dataclass(frozen=True, slots=True)
class Route:
    """Everything the hot path needs to serve one alias (or one direct version id)."""

    alias: str | None
    version: str
    arm: str
    model: str
    params: Mapping[str, ParamValue]
    provider: ChatProvider
    price_in: float | None
    price_out: float | None
    alias_header: bytes
    version_header: bytes
    arm_header: bytes
    scorers: tuple[str, ...] = ()  # online scorers (during a rollout, on both arms)
    shadows: tuple[ShadowRoute, ...] = ()  # candidates sent a copy after the answer
    fallbacks: tuple[Route, ...] = ()  # the alias's chain, in order (arm "fallback")

    @property
    def alias_label(self) -> str:
        return self.alias or "-"


@dataclass(frozen=True, slots=True)
class ShadowRoute:
    """One shadow candidate of an alias: its policy (sample, caps) and its route."""

    policy: ShadowPolicy
    route: Route


@dataclass(frozen=True, slots=True)
class _Split:
    """The two routes of an alias in a rollout, and how to choose between them."""

    stable: Route
    canary: Route
    salt: str
    weight: int

    def pick(self, key: str | None) -> Route:
        return self.canary if takes_canary(self.salt, self.weight, key) else self.stable


class Router:
    def __init__(self, source: SnapshotSource, providers: ProviderSource, catalog: Catalog) -> None:
        self._source = source
        self._providers = providers
        self._catalog = catalog
        self._built_for: RoutingSnapshot | None = None
        self._aliases: dict[str, Route] = {}
        self._splits: dict[str, _Split] = {}
        self._direct: dict[str, Route] = {}

    def aliases(self) -> list[str]:
        self._require_ready()
        return self._source.current.aliases()

    def canary_weights(self) -> dict[str, int]:
        """Basis points on the canary, per alias in a rollout (for /metrics)."""
        if not self._source.ready:
            return {}
        targets = self._source.current.targets
        return {
            name: target.canary.weight
            for name, target in targets.items()
            if target.canary is not None
        }

    def route(self, model: str, key: str | None = None) -> Route:
        """The route for an alias or a pinned version id.

        ``key`` is the request's sticky key; it only matters for an alias in a
        rollout, where it picks the arm (a random one when it is None).
        """
        self._require_ready()
        snapshot = self._source.current
        if snapshot is not self._built_for:
            self._rebuild(snapshot)
        found = self._aliases.get(model)
        if found is not None:
            return found
        split = self._splits.get(model)
        if split is not None:
            return split.pick(key)
        found = self._direct.get(model)
        if found is not None:
            return found
        if "/" not in model:
            known = ", ".join(snapshot.aliases()) or "none"
            raise NotFound(f"model '{model}' is not an alias or a version id (aliases: {known})")
        vid = VersionId.parse(model)
        require_pinned(vid, self._catalog)
        direct = self._build(snapshot, None, vid, "direct")
        if len(self._direct) < 10_000:  # bounded: ids come from clients
            self._direct[model] = direct
        return direct

    def _require_ready(self) -> None:
        """503, not "unknown alias": before the first snapshot nothing is known yet."""
        if not self._source.ready:
            raise StoreUnavailable(
                "no routing snapshot loaded yet: the registry is unreachable and there "
                "is no snapshot file; see /readyz"
            )

    def _rebuild(self, snapshot: RoutingSnapshot) -> None:
        aliases: dict[str, Route] = {}
        splits: dict[str, _Split] = {}
        for name in snapshot.aliases():
            stable, canary = snapshot.arms(name)
            target = snapshot.targets[name]
            shadows = tuple(
                ShadowRoute(policy, self._build(snapshot, name, policy.candidate, "shadow"))
                for policy in target.shadows
            )
            chain = tuple(self._build(snapshot, name, vid, "fallback") for vid in target.fallbacks)
            route = replace(self._arm_route(snapshot, stable), shadows=shadows, fallbacks=chain)
            if canary is None:
                aliases[name] = route
            else:
                scorers = target.canary.scorers if target.canary is not None else ()
                # A failing canary falls back to the stable version first: what the
                # rest of the alias's users are served (the gates still see its errors).
                stable_fallback = self._build(snapshot, name, target.version, "fallback")
                canary_route = replace(
                    self._arm_route(snapshot, canary),
                    scorers=scorers,
                    shadows=shadows,
                    fallbacks=(stable_fallback, *chain),
                )
                route = replace(route, scorers=scorers)
                splits[name] = _Split(route, canary_route, canary.salt, canary.weight)
        self._aliases = aliases
        self._splits = splits
        self._direct = {}
        self._built_for = snapshot

    def _arm_route(self, snapshot: RoutingSnapshot, arm: Resolution) -> Route:
        return self._build(snapshot, arm.alias, VersionId.parse(arm.version), arm.arm)

    def _build(
        self, snapshot: RoutingSnapshot, alias: str | None, vid: VersionId, arm: str
    ) -> Route:
        version = str(vid)
        config = snapshot.providers.get(vid.provider) or BUILTIN_PROVIDERS.get(vid.provider)
        if config is None:
            raise InvalidInput(f"version {version}: unknown provider '{vid.provider}'")
        registered = snapshot.versions.get(version)
        params: Mapping[str, ParamValue] = registered.params if registered else {}
        entry = self._catalog.lookup(vid.provider, vid.model)
        return Route(
            alias=alias,
            version=version,
            arm=arm,
            model=vid.model,
            params=params,
            provider=self._providers.get(config),
            price_in=entry.price_in_per_mtok if entry else None,
            price_out=entry.price_out_per_mtok if entry else None,
            alias_header=(alias or "-").encode(),
            version_header=version.encode(),
            arm_header=arm.encode(),
        )
