"""Read ``turnout.yaml`` into a :class:`~turnout.domain.plan.DesiredState`: the I/O edge.

The file is reviewed by people and run by CI, so every problem must say where it
is: each error is a :class:`~turnout.errors.ConfigError` carrying the line of the
offending key or item (``turnout.yaml:14: aliases.prod-chat.version: field
required``). To get there the YAML loader records the start line of every mapping
key and sequence item by path, and both pydantic's error ``loc`` and the domain
checks (version ids, alias names, providers) are looked up in that table.
Duplicate keys, which YAML silently collapses to the last one, are refused.
"""

from __future__ import annotations

import importlib.resources
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationError
from pydantic_core import ErrorDetails

from turnout.domain.aliases import AliasTarget, validate_alias_name
from turnout.domain.ids import VersionId
from turnout.domain.plan import DesiredAlias, DesiredState, DesiredVersion
from turnout.domain.promotion import PromotionPolicy
from turnout.domain.providers import ApiKeyAuth, ProviderConfig, ProviderKind
from turnout.domain.rollouts import RolloutPlan
from turnout.domain.shadow import ShadowPolicy
from turnout.domain.versions import ParamValue, validate_label
from turnout.errors import ConfigError, InvalidInput
from turnout.yaml_lines import Loc, Source, load_with_lines

__all__ = ["example_config", "load_config", "parse_config", "read_config_text"]


def _param_value(value: object) -> ParamValue:
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    raise ValueError(
        f"param values must be a string, a finite number, true/false or null, not {value!r}"
    )


_ParamValue = Annotated[ParamValue, PlainValidator(_param_value)]


class _Section(BaseModel):
    # strict: `version: 2024` or `protected: "yes"` are mistakes, not values to coerce
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _ProviderModel(_Section):
    kind: str
    base_url: str | None = None
    api_key_env: str | None = None
    auth: str | None = None  # Azure OpenAI's classic API: api-key
    api_version: str | None = None  # Azure OpenAI's classic API: 2024-10-21


class _VersionModel(_Section):
    id: str
    params: dict[str, _ParamValue] | None = None
    prompt_version: str | None = None
    dataset_version: str | None = None
    allow_floating: bool = False


class _AliasModel(_Section):
    version: str
    fallbacks: list[str] | None = None
    protected: bool = False
    allow_floating: bool = False
    rollout: dict[str, Any] | None = None
    shadow: list[dict[str, Any]] | None = None
    promotion: dict[str, Any] | None = None


class _FileModel(_Section):
    providers: dict[str, _ProviderModel] | None = None
    versions: list[_VersionModel] | None = None
    aliases: dict[str, _AliasModel] | None = None


_PLAIN: Mapping[str, str] = {  # pydantic's words where they would name internal classes
    "model_type": "expected a mapping of keys",
    "model_attributes_type": "expected a mapping of keys",
    "dict_type": "expected a mapping of keys",
    "list_type": "expected a list",
}
_ITEM_MODELS: Mapping[str, type[BaseModel]] = {
    "providers": _ProviderModel,
    "versions": _VersionModel,
    "aliases": _AliasModel,
}


def example_config() -> str:
    """The commented example ``turnout init`` writes (shipped as package data)."""
    resource = importlib.resources.files("turnout") / "data" / "turnout.example.yaml"
    return resource.read_text(encoding="utf-8")


def load_config(path: str | os.PathLike[str]) -> DesiredState:
    """Read and validate a config file; every problem is a :class:`ConfigError`."""
    return parse_config(read_config_text(path), os.fspath(path))


def read_config_text(path: str | os.PathLike[str]) -> str:
    """A config file's text (to parse here, or to send to a server that parses it)."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file: {exc}", os.fspath(path), None) from exc


def parse_config(text: str, path: str) -> DesiredState:
    """Validate config ``text``; ``path`` names its origin in error messages."""
    document, lines = load_with_lines(text, path)
    source = Source(path, lines)
    if document is None:
        raise ConfigError("the file is empty; declare versions and aliases", path, 1)
    if not isinstance(document, dict):
        raise source.error((), "the top level must be a mapping of providers, versions, aliases")
    try:
        model = _FileModel.model_validate(document)
    except ValidationError as exc:
        raise _validation_error(source, exc) from None
    # Duplicates (what validate_desired refuses) are caught on the way, with their lines:
    # duplicate keys by the loader, duplicate version ids by _versions.
    return DesiredState(
        providers=tuple(_providers(model.providers or {}, source)),
        versions=tuple(_versions(model.versions or [], source)),
        aliases=tuple(_aliases(model.aliases or {}, source)),
    )


def _validation_error(source: Source, exc: ValidationError) -> ConfigError:
    """The first problem in file order, with a count of the others."""
    errors = sorted(exc.errors(), key=lambda err: source.line(err["loc"]) or 0)
    first = errors[0]
    message = _pydantic_message(first)
    if len(errors) > 1:
        others = len(errors) - 1
        message += f" (and {others} more problem{'s' if others > 1 else ''})"
    return source.error(first["loc"], message)


def _pydantic_message(error: ErrorDetails) -> str:
    kind, loc, value = error["type"], error["loc"], error["input"]
    if kind == "missing":
        return "field required"
    if kind == "extra_forbidden":
        model = _FileModel if len(loc) == 1 else _ITEM_MODELS.get(str(loc[0]))
        expected = f"; expected one of: {', '.join(model.model_fields)}" if model else ""
        return f"unknown key{expected}"
    if kind == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"]))
    if loc and loc[-1] == "[key]":
        return f"keys must be strings, not {value!r} (quote it)"
    message = _PLAIN.get(kind) or error["msg"][:1].lower() + error["msg"][1:]
    if value is None or isinstance(value, str | int | float | bool):
        message += f", not {value!r}"
    return message


def _providers(models: Mapping[str, _ProviderModel], source: Source) -> Iterator[ProviderConfig]:
    for name, model in models.items():
        loc: Loc = ("providers", name)
        try:
            VersionId.parse(f"{name}/model")  # a provider name must work as an id prefix
        except InvalidInput:
            message = "provider names are lowercase letters, digits, '-' or '_' (at most 32)"
            raise source.error(loc, message) from None
        with source.at((*loc, "kind")):
            kind = ProviderKind.parse(model.kind)
        auth = None
        if model.auth is not None:
            with source.at((*loc, "auth")):
                auth = ApiKeyAuth.parse(model.auth)
        with source.at(loc):
            config = ProviderConfig(
                name, kind, model.base_url, model.api_key_env, auth, model.api_version
            )
        yield config


def _versions(models: Sequence[_VersionModel], source: Source) -> Iterator[DesiredVersion]:
    first: dict[VersionId, int] = {}
    for index, model in enumerate(models):
        loc: Loc = ("versions", index)
        with source.at((*loc, "id")):
            version_id = VersionId.parse(model.id)
        if version_id in first:
            message = f"version {version_id} is declared twice (first on line {first[version_id]})"
            raise source.error(loc, message)
        first[version_id] = source.line(loc) or 0
        with source.at((*loc, "prompt_version")):
            validate_label("prompt_version", model.prompt_version)
        with source.at((*loc, "dataset_version")):
            validate_label("dataset_version", model.dataset_version)
        yield DesiredVersion(
            version_id,
            dict(model.params or {}),
            model.prompt_version,
            model.dataset_version,
            model.allow_floating,
        )


def _aliases(models: Mapping[str, _AliasModel], source: Source) -> Iterator[DesiredAlias]:
    for name, model in models.items():
        loc: Loc = ("aliases", name)
        with source.at(loc):
            validate_alias_name(name)
        with source.at((*loc, "version")):
            version = VersionId.parse(model.version)
        fallbacks: list[VersionId] = []
        for index, text in enumerate(model.fallbacks or []):
            with source.at((*loc, "fallbacks", index)):
                fallbacks.append(VersionId.parse(text))
        with source.at((*loc, "fallbacks")):
            target = AliasTarget(version, tuple(fallbacks))
        plan = None
        if model.rollout is not None:
            with source.at((*loc, "rollout")):
                plan = RolloutPlan.from_dict(model.rollout)
        shadows = None
        if model.shadow is not None:
            found = []
            for index, item in enumerate(model.shadow):
                with source.at((*loc, "shadow", index)):
                    found.append(ShadowPolicy.from_dict(item))
            with source.at((*loc, "shadow")):
                shadows = AliasTarget(version, shadows=tuple(found)).shadows
        promotion = None
        if model.promotion is not None:
            with source.at((*loc, "promotion")):
                promotion = PromotionPolicy.from_dict(model.promotion)
        yield DesiredAlias(
            name,
            target,
            model.protected,
            model.allow_floating,
            plan,
            shadows,
            promotion,
            manages_promotion="promotion" in model.model_fields_set,
        )
