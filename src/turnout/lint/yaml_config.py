"""YAML: values of model keys, and the version ids of a ``turnout.yaml``.

The document is *composed* (not loaded) so that every scalar keeps its line and
column. Read:

* the string value of any key in :data:`~turnout.lint.base.CONFIG_KEYS`
  (``model: gpt-4o``), at any depth;
* in a turnout.yaml-shaped document, ``id`` / ``version`` of each item of the
  ``versions:`` list, and each alias's ``version`` and ``fallbacks``.

A file that is not valid YAML (a Helm template, say) falls back to a line regex
for ``model: value``, the one spelling that cannot be misread.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import yaml

from turnout.lint.base import CONFIG_KEYS, Candidate

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

__all__ = ["YamlExtractor"]

_VERSION_KEYS = frozenset({"id", "version"})
_LINE = re.compile(
    r"""^\s*(?:-\s+)?(?P<key>[A-Za-z_]+)\s*:\s*(?P<quote>["']?)(?P<value>[^"'\s#{}]+)(?P=quote)"""
    r"""\s*(?:#.*)?$"""
)


class YamlExtractor:
    """Reads ``.yaml`` and ``.yml`` files (every document of a multi-document file)."""

    name = "yaml"
    suffixes = (".yaml", ".yml")

    def candidates(self, text: str) -> Iterator[Candidate]:
        try:
            documents = list(yaml.compose_all(text, Loader=_Loader))
        except (yaml.YAMLError, RecursionError):
            yield from _by_line(text)
            return
        for document in documents:
            if document is None:
                continue
            yield from _walk(document)
            if isinstance(document, yaml.MappingNode) and _turnout_shaped(document):
                yield from _turnout_versions(document)


def _walk(node: yaml.Node) -> Iterator[Candidate]:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                if _key(key) in CONFIG_KEYS and isinstance(value, yaml.ScalarNode):
                    yield from _scalar(value)
                stack.append(value)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)


def _turnout_shaped(node: yaml.MappingNode) -> bool:
    keys = {_key(key): value for key, value in node.value}
    return isinstance(keys.get("versions"), yaml.SequenceNode) or (
        "aliases" in keys and isinstance(keys["aliases"], yaml.MappingNode)
    )


def _turnout_versions(node: yaml.MappingNode) -> Iterator[Candidate]:
    for key, value in node.value:
        name = _key(key)
        if name == "versions" and isinstance(value, yaml.SequenceNode):
            for item in value.value:
                if isinstance(item, yaml.ScalarNode):
                    yield from _scalar(item)
                elif isinstance(item, yaml.MappingNode):
                    yield from _values(item, _VERSION_KEYS)
        elif name == "aliases" and isinstance(value, yaml.MappingNode):
            for _, alias in value.value:
                if isinstance(alias, yaml.MappingNode):
                    yield from _values(alias, frozenset({"version", "fallbacks"}))


def _values(node: yaml.MappingNode, keys: frozenset[str]) -> Iterator[Candidate]:
    for key, value in node.value:
        if _key(key) not in keys:
            continue
        if isinstance(value, yaml.ScalarNode):
            yield from _scalar(value)
        elif isinstance(value, yaml.SequenceNode):
            for item in value.value:
                if isinstance(item, yaml.ScalarNode):
                    yield from _scalar(item)


def _key(node: yaml.Node) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _scalar(node: yaml.ScalarNode) -> Iterator[Candidate]:
    if node.tag != "tag:yaml.org,2002:str" or not isinstance(node.value, str):
        return
    quoted = 1 if node.style in ("'", '"') else 0
    mark = node.start_mark
    yield Candidate(mark.line + 1, mark.column + 1 + quoted, node.value)


def _by_line(text: str) -> Iterator[Candidate]:
    for number, line in enumerate(text.splitlines(), start=1):
        match = _LINE.match(line)
        if match and match.group("key") in CONFIG_KEYS:
            yield Candidate(number, match.start("value") + 1, match.group("value"))
