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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationError
from pydantic_core import ErrorDetails

from turnout.domain.aliases import AliasTarget, validate_alias_name
from turnout.domain.ids import VersionId
from turnout.domain.plan import DesiredAlias, DesiredState, DesiredVersion
from turnout.domain.providers import ProviderConfig, ProviderKind
from turnout.domain.rollouts import RolloutPlan
from turnout.domain.versions import ParamValue, validate_label
from turnout.errors import ConfigError, InvalidInput

__all__ = ["example_config", "load_config", "parse_config"]

_Loc = tuple[str | int, ...]
_MERGE_TAG = "tag:yaml.org,2002:merge"


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
    label = os.fspath(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file: {exc}", label, None) from exc
    return parse_config(text, label)


def parse_config(text: str, path: str) -> DesiredState:
    """Validate config ``text``; ``path`` names its origin in error messages."""
    loader = _LineLoader(text, path)
    try:
        document = loader.load_document()
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, path, text) from exc
    finally:
        loader.dispose()
    source = _Source(path, loader.lines)
    if document is None:
        raise ConfigError("the file is empty; declare versions and aliases", path, 1)
    if not isinstance(document, dict):
        raise source.error((), "the top level must be a mapping of providers, versions, aliases")
    try:
        model = _FileModel.model_validate(document)
    except ValidationError as exc:
        raise source.validation_error(exc) from None
    # Duplicates (what validate_desired refuses) are caught on the way, with their lines:
    # duplicate keys by the loader, duplicate version ids by _versions.
    return DesiredState(
        providers=tuple(_providers(model.providers or {}, source)),
        versions=tuple(_versions(model.versions or [], source)),
        aliases=tuple(_aliases(model.aliases or {}, source)),
    )


class _LineLoader(yaml.SafeLoader):
    """A SafeLoader that records where each mapping key and sequence item starts.

    ``lines`` maps a path (``("aliases", "prod-chat", "version")``,
    ``("versions", 0)``) to a 1-based line: the same shape as pydantic's ``loc``.
    """

    def __init__(self, text: str, path: str) -> None:
        super().__init__(text)
        self.path = path
        self.lines: dict[_Loc, int] = {}

    def load_document(self) -> object:
        """Compose, record lines, then construct; ``None`` for an empty document."""
        node = self.get_single_node()
        if node is None:
            return None
        self.lines[()] = node.start_mark.line + 1
        self._record(node, (), set())
        return self.construct_document(node)

    def _record(self, node: yaml.Node, where: _Loc, active: set[int]) -> None:
        if id(node) in active:  # a recursive anchor: already being walked
            return
        active.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first: dict[object, int] = {}
            pairs: list[tuple[yaml.Node, yaml.Node]] = node.value
            for key_node, value_node in pairs:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                    continue
                key: object = self.construct_object(key_node)
                line = key_node.start_mark.line + 1
                if key in first:
                    message = f"duplicate key {key!r} (first on line {first[key]})"
                    raise ConfigError(
                        f"{_render(where) or 'top level'}: {message}", self.path, line
                    )
                first[key] = line
                if isinstance(key, str | int):
                    self.lines[(*where, key)] = line
                    self._record(value_node, (*where, key), active)
        elif isinstance(node, yaml.SequenceNode):
            items: list[yaml.Node] = node.value
            for index, item in enumerate(items):
                self.lines[(*where, index)] = item.start_mark.line + 1
                self._record(item, (*where, index), active)
        active.discard(id(node))


def _yaml_error(exc: yaml.YAMLError, path: str, text: str) -> ConfigError:
    if not isinstance(exc, yaml.MarkedYAMLError):
        return ConfigError(f"invalid YAML: {exc}", path, None)
    message = "invalid YAML: " + "; ".join(p for p in (exc.context, exc.problem) if p)
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return ConfigError(message, path, None)
    last_line = max(1, len(text.splitlines()))  # an error at end of stream: the last line
    if mark.line + 1 > last_line:
        return ConfigError(message, path, last_line)
    return ConfigError(f"{message} (column {mark.column + 1})", path, mark.line + 1)


@dataclass(frozen=True, slots=True)
class _Source:
    """A parsed file's name and line table: turns a path into a located error."""

    path: str
    lines: Mapping[_Loc, int]

    def line(self, loc: Sequence[str | int]) -> int | None:
        """The line of ``loc``, or of its nearest recorded ancestor (a missing key)."""
        for end in range(len(loc), -1, -1):
            found = self.lines.get(tuple(loc[:end]))
            if found is not None:
                return found
        return None

    def error(self, loc: Sequence[str | int], message: str) -> ConfigError:
        where = _render(loc)
        return ConfigError(f"{where}: {message}" if where else message, self.path, self.line(loc))

    @contextmanager
    def at(self, loc: _Loc) -> Iterator[None]:
        """Re-raise a domain :class:`InvalidInput` as a ConfigError at ``loc``."""
        try:
            yield
        except ConfigError:
            raise
        except InvalidInput as exc:
            raise self.error(loc, exc.message) from exc

    def validation_error(self, exc: ValidationError) -> ConfigError:
        """The first problem in file order, with a count of the others."""
        errors = sorted(exc.errors(), key=lambda err: self.line(err["loc"]) or 0)
        first = errors[0]
        message = _pydantic_message(first)
        if len(errors) > 1:
            others = len(errors) - 1
            message += f" (and {others} more problem{'s' if others > 1 else ''})"
        return self.error(first["loc"], message)


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


def _render(loc: Sequence[str | int]) -> str:
    """``("versions", 0, "id")`` -> ``versions[0].id``: how a reader navigates the file."""
    text = ""
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def _providers(models: Mapping[str, _ProviderModel], source: _Source) -> Iterator[ProviderConfig]:
    for name, model in models.items():
        loc: _Loc = ("providers", name)
        try:
            VersionId.parse(f"{name}/model")  # a provider name must work as an id prefix
        except InvalidInput:
            message = "provider names are lowercase letters, digits, '-' or '_' (at most 32)"
            raise source.error(loc, message) from None
        with source.at((*loc, "kind")):
            kind = ProviderKind.parse(model.kind)
        with source.at(loc):
            config = ProviderConfig(name, kind, model.base_url, model.api_key_env)
        yield config


def _versions(models: Sequence[_VersionModel], source: _Source) -> Iterator[DesiredVersion]:
    first: dict[VersionId, int] = {}
    for index, model in enumerate(models):
        loc: _Loc = ("versions", index)
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


def _aliases(models: Mapping[str, _AliasModel], source: _Source) -> Iterator[DesiredAlias]:
    for name, model in models.items():
        loc: _Loc = ("aliases", name)
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
        yield DesiredAlias(name, target, model.protected, model.allow_floating, plan)
