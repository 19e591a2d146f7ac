"""YAML with line numbers: what lets ``turnout.yaml`` and eval suite files say
``file:14: aliases.prod-chat.version: ...`` instead of "invalid value somewhere".

:class:`LineLoader` is a SafeLoader that records the 1-based line where each
mapping key and sequence item starts, keyed by its path (``("aliases",
"prod-chat", "version")``, ``("cases", 0)``) — the same shape as pydantic's
``loc`` — and refuses duplicate keys (PyYAML silently keeps the last one).
:class:`Source` turns a path into a located :class:`~turnout.errors.ConfigError`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import yaml

from turnout.errors import ConfigError, InvalidInput

__all__ = ["LineLoader", "Loc", "Source", "load_with_lines", "render_loc", "yaml_error"]

Loc = tuple[str | int, ...]
"""A path into a document: keys and list indexes."""

_MERGE_TAG = "tag:yaml.org,2002:merge"


def render_loc(loc: Sequence[str | int]) -> str:
    """``("versions", 0, "id")`` -> ``versions[0].id``: how a reader navigates the file."""
    text = ""
    for part in loc:
        if part == "[key]":  # pydantic's marker for a mapping key
            continue
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


class LineLoader(yaml.SafeLoader):
    """A SafeLoader that records where each mapping key and sequence item starts."""

    def __init__(self, text: str, path: str) -> None:
        super().__init__(text)
        self.path = path
        self.lines: dict[Loc, int] = {}

    def load_document(self) -> object:
        """Compose, record lines, then construct; ``None`` for an empty document."""
        node = self.get_single_node()
        if node is None:
            return None
        self.lines[()] = node.start_mark.line + 1
        self._record(node, (), set())
        return self.construct_document(node)

    def _record(self, node: yaml.Node, where: Loc, active: set[int]) -> None:
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
                        f"{render_loc(where) or 'top level'}: {message}", self.path, line
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


def yaml_error(exc: yaml.YAMLError, path: str, text: str) -> ConfigError:
    """A YAML syntax error as a ConfigError on the line (and column) PyYAML points at."""
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


def load_with_lines(text: str, path: str) -> tuple[object, dict[Loc, int]]:
    """Parse ``text``: the document (None if empty) and its line table; ConfigError if bad."""
    loader = LineLoader(text, path)
    try:
        document = loader.load_document()
    except yaml.YAMLError as exc:
        raise yaml_error(exc, path, text) from exc
    finally:
        loader.dispose()
    return document, loader.lines


@dataclass(frozen=True, slots=True)
class Source:
    """A parsed file's name and line table: turns a path into a located error."""

    path: str
    lines: Mapping[Loc, int]

    def line(self, loc: Sequence[str | int]) -> int | None:
        """The line of ``loc``, or of its nearest recorded ancestor (a missing key)."""
        for end in range(len(loc), -1, -1):
            found = self.lines.get(tuple(loc[:end]))
            if found is not None:
                return found
        return None

    def error(self, loc: Sequence[str | int], message: str) -> ConfigError:
        where = render_loc(loc)
        return ConfigError(f"{where}: {message}" if where else message, self.path, self.line(loc))

    @contextmanager
    def at(self, loc: Loc) -> Iterator[None]:
        """Re-raise a domain :class:`InvalidInput` as a ConfigError at ``loc``."""
        try:
            yield
        except ConfigError:
            raise
        except InvalidInput as exc:
            raise self.error(loc, exc.message) from exc
