"""Config as code: the desired state a ``turnout.yaml`` declares, and the diff to it.

``turnout plan`` must show exactly what ``turnout apply`` will do before it does
it, and the two must agree, so both go through :func:`compute_plan`: a pure
function of (desired state, registry contents). The plan only ever *adds* and
*updates*. Registry aliases the file does not mention are listed as
:attr:`Plan.unmanaged_aliases` and left alone, because deleting an alias that
live traffic resolves is never something a missing line in a file should do.

Parsing the file lives at the edge (:mod:`turnout.config_file`); applying a plan
(and checking that referenced versions exist and are pinned) is the service's job.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from turnout.domain.aliases import Alias, AliasTarget
from turnout.domain.ids import VersionId
from turnout.domain.promotion import PromotionPolicy
from turnout.domain.providers import BUILTIN_PROVIDERS, ProviderConfig
from turnout.domain.rollouts import RolloutPlan
from turnout.domain.shadow import ShadowPolicy
from turnout.domain.versions import ParamValue, Version
from turnout.errors import InvalidInput

__all__ = [
    "Change",
    "ChangeKind",
    "DesiredAlias",
    "DesiredState",
    "DesiredVersion",
    "Plan",
    "compute_plan",
    "validate_desired",
]


@dataclass(frozen=True, slots=True)
class DesiredVersion:
    """A version as the file declares it: the fields the file owns, nothing recorded."""

    id: VersionId
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    prompt_version: str | None = None
    dataset_version: str | None = None
    allow_floating: bool = False


@dataclass(frozen=True, slots=True)
class DesiredAlias:
    """An alias as the file declares it: where it points and whether it is protected."""

    name: str
    target: AliasTarget
    protected: bool = False
    allow_floating: bool = False
    rollout: RolloutPlan | None = None
    shadows: tuple[ShadowPolicy, ...] | None = None  # None: the file leaves shadows alone
    promotion: PromotionPolicy | None = None
    manages_promotion: bool = False  # the file declares `promotion:` (null clears it)


@dataclass(frozen=True, slots=True)
class DesiredState:
    """Everything one config file declares, in file order."""

    providers: tuple[ProviderConfig, ...] = ()
    versions: tuple[DesiredVersion, ...] = ()
    aliases: tuple[DesiredAlias, ...] = ()

    def provider(self, name: str) -> ProviderConfig | None:
        """The declared provider ``name``, so an applier can act on a change's subject."""
        return next((item for item in self.providers if item.name == name), None)

    def version(self, version_id: VersionId | str) -> DesiredVersion | None:
        """The declared version with that id (a :class:`VersionId` or its text)."""
        wanted = str(version_id)
        return next((item for item in self.versions if str(item.id) == wanted), None)

    def alias(self, name: str) -> DesiredAlias | None:
        """The declared alias ``name``."""
        return next((item for item in self.aliases if item.name == name), None)


class ChangeKind(enum.StrEnum):
    """What one step of a plan does; declaration order is the order within one subject."""

    ADD_PROVIDER = "add_provider"
    UPDATE_PROVIDER = "update_provider"
    ADD_VERSION = "add_version"
    UPDATE_VERSION = "update_version"
    CREATE_ALIAS = "create_alias"
    POLICY_ALIAS = "policy_alias"  # the alias's promotion policy changes (before any flip)
    RETARGET_ALIAS = "retarget_alias"
    ROLLOUT_ALIAS = "rollout_alias"  # the alias declares a rollout policy: move gradually
    SHADOW_ALIAS = "shadow_alias"  # the alias's shadow candidates change
    PROTECT_ALIAS = "protect_alias"
    UNPROTECT_ALIAS = "unprotect_alias"

    @property
    def noun(self) -> str:
        """The kind of object changed: ``provider``, ``version`` or ``alias``."""
        return self.value.split("_", 1)[1]

    @property
    def adds(self) -> bool:
        """True when the change creates something rather than modifying it."""
        return self in (ChangeKind.ADD_PROVIDER, ChangeKind.ADD_VERSION, ChangeKind.CREATE_ALIAS)


@dataclass(frozen=True, slots=True)
class Change:
    """One step of a plan; ``before``/``after`` are display text, ``None`` when absent.

    The applier acts on ``kind`` and ``subject`` and reads the values from the
    :class:`DesiredState`; the texts are for people reviewing the plan.
    """

    kind: ChangeKind
    subject: str
    before: str | None = None
    after: str | None = None
    detail: str = ""

    def describe(self) -> str:
        """One line, terraform style: ``+`` adds, ``~`` changes in place."""
        noun = self.kind.noun
        after = self.after if self.after is not None else ""
        if self.before is None:
            sep = " -> " if self.kind is ChangeKind.CREATE_ALIAS else " "
            text = f"+ {noun} {self.subject}{sep}{after}".rstrip()
        else:
            text = f"~ {noun} {self.subject}: {self.before} -> {after}"
        return f"{text} ({self.detail})" if self.detail else text


@dataclass(frozen=True, slots=True)
class Plan:
    """The ordered changes that make the registry match a file, plus what it ignores."""

    changes: tuple[Change, ...] = ()
    unmanaged_aliases: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """True when the registry already matches the file (``plan --check`` passes)."""
        return not self.changes

    def summary(self) -> str:
        """A closing line for people: how many adds and in-place changes."""
        adds = sum(1 for change in self.changes if change.kind.adds)
        if not self.changes:
            return "No changes: the registry matches the file."
        return f"Plan: {adds} to add, {len(self.changes) - adds} to change."


def validate_desired(desired: DesiredState) -> None:
    """Refuse a state that declares a provider, version or alias twice.

    A second declaration would silently win or lose depending on order, so the
    file is ambiguous; existence of referenced versions is checked by the service,
    which can see the registry.
    """
    _refuse_duplicates("provider", (item.name for item in desired.providers))
    _refuse_duplicates("version", (str(item.id) for item in desired.versions))
    _refuse_duplicates("alias", (item.name for item in desired.aliases))


def _refuse_duplicates(noun: str, names: Iterable[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InvalidInput(f"{noun} {name} is declared twice")
        seen.add(name)


def compute_plan(
    desired: DesiredState,
    providers: Sequence[ProviderConfig],
    versions: Sequence[Version],
    aliases: Sequence[Alias],
) -> Plan:
    """Diff ``desired`` against the registry's providers, versions and aliases.

    ``providers`` are those stored in the registry; the built-in defaults count
    as present, so re-declaring one identically is no change. The order is
    deterministic (providers, versions, aliases, each by name) so a plan reads
    the same on every run and in CI logs.
    """
    validate_desired(desired)
    changes = [
        *_provider_changes(desired.providers, providers),
        *_version_changes(desired.versions, versions),
        *_alias_changes(desired.aliases, aliases),
    ]
    declared = {item.name for item in desired.aliases}
    unmanaged = tuple(sorted(alias.name for alias in aliases if alias.name not in declared))
    return Plan(tuple(changes), unmanaged)


def _provider_changes(
    wanted: Sequence[ProviderConfig], stored: Sequence[ProviderConfig]
) -> list[Change]:
    current = {**BUILTIN_PROVIDERS, **{item.name: item for item in stored}}
    changes: list[Change] = []
    for config in sorted(wanted, key=lambda item: item.name):
        old = current.get(config.name)
        if old is None:
            after = " ".join(f"{key}={value}" for key, value in _provider_fields(config) if value)
            changes.append(Change(ChangeKind.ADD_PROVIDER, config.name, None, after))
            continue
        before, after = _changed(_provider_fields(old), _provider_fields(config))
        if before:
            changes.append(Change(ChangeKind.UPDATE_PROVIDER, config.name, before, after))
    return changes


def _provider_fields(config: ProviderConfig) -> list[tuple[str, str | None]]:
    return [
        ("kind", config.kind.value),
        ("base_url", config.base_url),
        ("api_key_env", config.api_key_env),
        ("auth", config.auth.value if config.auth is not None else None),
        ("api_version", config.api_version),
    ]


def _version_changes(wanted: Sequence[DesiredVersion], stored: Sequence[Version]) -> list[Change]:
    current = {str(item.id): item for item in stored}
    changes: list[Change] = []
    for version in sorted(wanted, key=lambda item: str(item.id)):
        subject = str(version.id)
        new = _version_fields(version.params, version.prompt_version, version.dataset_version)
        note = "floating allowed" if version.allow_floating else ""
        old_version = current.get(subject)
        if old_version is None:
            after = " ".join(_field_text(key, value) for key, value in new if value is not None)
            changes.append(Change(ChangeKind.ADD_VERSION, subject, None, after, note))
            continue
        old = _version_fields(
            old_version.params, old_version.prompt_version, old_version.dataset_version
        )
        before, after = _changed(old, new)
        if before:
            changes.append(Change(ChangeKind.UPDATE_VERSION, subject, before, after))
    return changes


def _version_fields(
    params: Mapping[str, ParamValue], prompt_version: str | None, dataset_version: str | None
) -> list[tuple[str, str | None]]:
    return [
        ("params", _params_text(params)),
        ("prompt_version", prompt_version),
        ("dataset_version", dataset_version),
    ]


def _alias_changes(wanted: Sequence[DesiredAlias], stored: Sequence[Alias]) -> list[Change]:
    current = {item.name: item for item in stored}
    changes: list[Change] = []
    for alias in sorted(wanted, key=lambda item: item.name):
        old = current.get(alias.name)
        after = alias.target.describe()
        if old is None:
            flags = (("protected", alias.protected), ("floating allowed", alias.allow_floating))
            note = ", ".join(name for name, on in flags if on)
            changes.append(Change(ChangeKind.CREATE_ALIAS, alias.name, None, after, note))
            changes += _guards(AliasTarget(alias.target.version), alias)
            continue
        policy = [c for c in _guards(old.target, alias) if c.kind is ChangeKind.POLICY_ALIAS]
        changes += policy  # a new policy governs a flip declared beside it
        change = _retarget(old, alias)
        if change is not None:
            changes.append(change)
        changes += [c for c in _guards(old.target, alias) if c.kind is ChangeKind.SHADOW_ALIAS]
        if old.protected != alias.protected:
            kind = ChangeKind.PROTECT_ALIAS if alias.protected else ChangeKind.UNPROTECT_ALIAS
            changes.append(
                Change(kind, alias.name, _protection(old.protected), _protection(alias.protected))
            )
    return changes


def _retarget(old: Alias, alias: DesiredAlias) -> Change | None:
    """A new target: a plain flip, or — with a rollout policy — a gradual rollout.

    With a policy, a rollout already moving the alias to the declared version is
    the declared state in progress, not a difference (re-applying the file must
    not flip the alias to the candidate mid-rollout).
    """
    canary = old.target.canary
    before = old.target.describe()
    if alias.rollout is not None:
        if canary is not None and canary.version == alias.target.version:
            return None
        if old.target.version != alias.target.version:
            steps = " -> ".join(f"{step.percent:g}%" for step in alias.rollout.steps)
            return Change(
                ChangeKind.ROLLOUT_ALIAS,
                alias.name,
                before,
                str(alias.target.version),
                f"gradual rollout {steps}",
            )
    if old.target.serving() != alias.target.serving():
        return Change(ChangeKind.RETARGET_ALIAS, alias.name, before, alias.target.describe())
    return None


def _guards(current: AliasTarget, alias: DesiredAlias) -> list[Change]:
    """Changes to the promotion policy and the shadows, where the file declares them."""
    changes = []
    if alias.manages_promotion and current.promotion != alias.promotion:
        changes.append(
            Change(
                ChangeKind.POLICY_ALIAS,
                alias.name,
                _policy_text(current.promotion),
                _policy_text(alias.promotion),
            )
        )
    if alias.shadows is not None and current.shadows != alias.shadows:
        changes.append(
            Change(
                ChangeKind.SHADOW_ALIAS,
                alias.name,
                _shadows_text(current.shadows),
                _shadows_text(alias.shadows),
            )
        )
    return changes


def _policy_text(policy: PromotionPolicy | None) -> str:
    return f"promotion needs {policy.describe()}" if policy else "no promotion policy"


def _shadows_text(shadows: Sequence[ShadowPolicy]) -> str:
    if not shadows:
        return "no shadows"
    return "shadows " + ", ".join(f"{s.candidate} at {s.sample * 100:g}%" for s in shadows)


def _protection(protected: bool) -> str:
    return "protected" if protected else "unprotected"


def _changed(
    old: Sequence[tuple[str, str | None]], new: Sequence[tuple[str, str | None]]
) -> tuple[str, str]:
    """Render only the fields that differ, as (before, after); both empty if none do."""
    pairs = [(key, a, b) for (key, a), (_, b) in zip(old, new, strict=True) if a != b]
    before = " ".join(_field_text(key, a) for key, a, _ in pairs)
    after = " ".join(_field_text(key, b) for key, _, b in pairs)
    return before, after


def _field_text(key: str, value: str | None) -> str:
    if key == "params":  # params are the braces themselves: `{latency_ms=20}`
        return value or "{}"
    return f"{key}={value if value is not None else '(none)'}"


def _params_text(params: Mapping[str, ParamValue]) -> str:
    """Canonical text of params: sorted keys, JSON-style values.

    Comparing this text rather than the dicts keeps ``true`` apart from ``1``
    (equal in Python) while treating ``1`` and ``1.0`` as the same setting.
    """
    return "{" + ", ".join(f"{key}={_value_text(params[key])}" for key in sorted(params)) + "}"


def _value_text(value: ParamValue) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float) and value.is_integer():
        return repr(int(value))
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value)
