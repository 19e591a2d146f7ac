"""Read an eval suite file (YAML or JSONL) into an :class:`~turnout.domain.eval_suite.EvalSuite`.

Suites are written by people and run by CI, so every problem names its line
(``suites/support.yaml:14: cases[2].scorers[0]: unknown scorer 'exactly'``), as
``turnout.yaml`` errors do. The file is checked whole before anything runs: an
unusable regex or JSON schema fails here, not after a hundred paid calls.

YAML::

    name: arithmetic
    scorers: [numeric]              # defaults for cases that name none
    cases:
      - id: add
        prompt: "What is 17 + 25?"  # or messages: [{role: user, content: ...}]
        expected: "42"
        scorers:
          - numeric
          - {name: contains, weight: 0.5, value: "42"}

JSONL: one case object per line, same keys; the suite is named after the file.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import orjson

from turnout.domain.eval_scorers import check_scorer
from turnout.domain.eval_suite import (
    EvalCase,
    EvalSuite,
    ScorerSpec,
    check_messages,
    default_scorers,
)
from turnout.domain.versions import ParamValue
from turnout.errors import ConfigError, InvalidInput
from turnout.yaml_lines import Loc, Source, load_with_lines

__all__ = ["load_suite", "parse_jsonl_suite", "parse_yaml_suite"]

_TOP_KEYS = frozenset({"name", "scorers", "cases"})
_CASE_KEYS = frozenset({"id", "prompt", "messages", "expected", "schema", "scorers", "params"})
_MESSAGE_KEYS = frozenset({"role", "content", "name"})


def load_suite(path: str | os.PathLike[str]) -> EvalSuite:
    """Read and validate a suite file (``.yaml``/``.yml`` or ``.jsonl``); errors are ConfigError."""
    label = os.fspath(path)
    suffix = Path(label).suffix.lower()
    if suffix not in {".yaml", ".yml", ".jsonl"}:
        raise ConfigError("a suite file ends in .yaml, .yml or .jsonl", label, None)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read suite file: {exc}", label, None) from exc
    if suffix == ".jsonl":
        return parse_jsonl_suite(text, label, Path(label).stem)
    return parse_yaml_suite(text, label)


@dataclass(frozen=True, slots=True)
class _Target:
    expected: str | None
    schema: Mapping[str, object] | None


def parse_yaml_suite(text: str, path: str) -> EvalSuite:
    """Validate YAML suite ``text``; ``path`` names its origin in error messages."""
    document, lines = load_with_lines(text, path)
    source = Source(path, lines)
    if document is None:
        raise ConfigError("the file is empty; declare name and cases", path, 1)
    top = _mapping(document, (), source, _TOP_KEYS)
    if "name" not in top:
        raise source.error((), "field 'name' required")
    name = top["name"]
    if not isinstance(name, str):
        raise source.error(("name",), f"must be a string, not {name!r}")
    defaults = _scorers(top.get("scorers"), ("scorers",), source, None)
    raw_cases = top.get("cases")
    if not isinstance(raw_cases, list) or not raw_cases:
        raise source.error(("cases",), "must be a non-empty list of cases")
    cases = [_case(raw, ("cases", i), i, source, defaults) for i, raw in enumerate(raw_cases)]
    return _suite(name, cases, defaults, source)


def parse_jsonl_suite(text: str, path: str, name: str) -> EvalSuite:
    """Validate JSONL suite ``text`` (one case object per line) named ``name``."""
    lines: dict[Loc, int] = {}
    raw_cases: list[tuple[object, int]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ConfigError(f"invalid JSON: {exc}", path, number) from None
        lines[("cases", len(raw_cases))] = number
        raw_cases.append((raw, number))
    source = Source(path, lines)
    if not raw_cases:
        raise ConfigError("the file has no cases (one JSON object per line)", path, 1)
    cases = [_case(raw, ("cases", i), i, source, ()) for i, (raw, _) in enumerate(raw_cases)]
    return _suite(name, cases, (), source)


def _suite(
    name: str, cases: list[EvalCase], defaults: tuple[ScorerSpec, ...], source: Source
) -> EvalSuite:
    first: dict[str, int] = {}
    for index, case in enumerate(cases):
        loc: Loc = ("cases", index)
        if case.id in first:
            raise source.error(
                loc, f"case id {case.id!r} is used twice (first on line {first[case.id]})"
            )
        first[case.id] = source.line(loc) or 0
    with source.at(("name",)):
        return EvalSuite(name, tuple(cases), defaults)


def _mapping(raw: object, loc: Loc, source: Source, keys: frozenset[str]) -> dict[str, object]:
    if not isinstance(raw, dict):
        raise source.error(loc, f"expected a mapping of keys ({', '.join(sorted(keys))})")
    for key in raw:
        if not isinstance(key, str):
            raise source.error(loc, f"keys must be strings, not {key!r}")
        if key not in keys:
            raise source.error(
                (*loc, key), f"unknown key; expected one of: {', '.join(sorted(keys))}"
            )
    return raw


def _case(
    raw: object, loc: Loc, index: int, source: Source, defaults: tuple[ScorerSpec, ...]
) -> EvalCase:
    fields = _mapping(raw, loc, source, _CASE_KEYS)
    case_id = fields.get("id", str(index + 1))
    if isinstance(case_id, int) and not isinstance(case_id, bool):
        case_id = str(case_id)
    if not isinstance(case_id, str):
        raise source.error((*loc, "id"), f"must be a string, not {case_id!r}")
    expected = fields.get("expected")
    if isinstance(expected, int | float) and not isinstance(expected, bool):
        expected = str(expected)
    if expected is not None and not isinstance(expected, str):
        raise source.error((*loc, "expected"), f"must be a string or a number, not {expected!r}")
    schema = fields.get("schema")
    if schema is not None and not isinstance(schema, dict):
        raise source.error((*loc, "schema"), "must be a mapping (a JSON schema)")
    target = _Target(expected, schema)
    scorers = _scorers(fields.get("scorers"), (*loc, "scorers"), source, target)
    messages = _messages(fields, loc, source)
    params = _params(fields.get("params"), (*loc, "params"), source)
    with source.at(loc):
        case = EvalCase(case_id, messages, expected, schema, scorers, params)
        if not scorers:  # the defaults must be able to grade this case too
            graded_by = defaults or default_scorers(case)
            if not graded_by:
                raise InvalidInput(
                    "nothing to score: give the case scorers, an expected answer or a schema"
                )
            for spec in graded_by:
                check_scorer(spec.name, spec.options, target)
    return case


def _messages(
    fields: Mapping[str, object], loc: Loc, source: Source
) -> tuple[Mapping[str, object], ...]:
    prompt, raw = fields.get("prompt"), fields.get("messages")
    if (prompt is None) == (raw is None):
        raise source.error(loc, "give exactly one of 'prompt' (a string) or 'messages'")
    if prompt is not None:
        if not isinstance(prompt, str) or not prompt.strip():
            raise source.error((*loc, "prompt"), "must be a non-empty string")
        return ({"role": "user", "content": prompt},)
    if not isinstance(raw, list) or not raw:
        raise source.error((*loc, "messages"), "must be a non-empty list of {role, content}")
    messages = []
    for index, item in enumerate(raw):
        where = (*loc, "messages", index)
        message = _mapping(item, where, source, _MESSAGE_KEYS)
        for key in ("role", "content"):
            if not isinstance(message.get(key), str):
                raise source.error(where, f"'{key}' must be a string")
        messages.append(message)
    with source.at((*loc, "messages")):
        check_messages(messages)
    return tuple(messages)


def _params(raw: object, loc: Loc, source: Source) -> dict[str, ParamValue]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise source.error(loc, "must be a mapping of request params")
    params: dict[str, ParamValue] = {}
    for key, value in raw.items():
        if not isinstance(key, str):
            raise source.error(loc, f"keys must be strings, not {key!r}")
        finite = not isinstance(value, float) or math.isfinite(value)
        if not (value is None or isinstance(value, str | bool | int | float)) or not finite:
            raise source.error((*loc, key), "param values are strings, numbers, true/false or null")
        params[key] = value
    return params


def _scorers(
    raw: object, loc: Loc, source: Source, target: _Target | None
) -> tuple[ScorerSpec, ...]:
    """Scorer items: a bare name, or {name, weight, ...options}; checked against ``target``
    (suite defaults, with no case yet, are checked case by case later)."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        raise source.error(loc, "must be a non-empty list of scorers")
    specs = []
    for index, written in enumerate(raw):
        where = (*loc, index)
        item = {"name": written} if isinstance(written, str) else written
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise source.error(where, "a scorer is a name or a mapping with 'name'")
        options = {str(k): v for k, v in item.items() if k not in ("name", "weight")}
        weight = item.get("weight", 1.0)
        with source.at(where):
            spec = ScorerSpec(item["name"], weight, options)
            if target is not None:
                check_scorer(spec.name, spec.options, target)
            else:
                _check_names(spec)
        specs.append(spec)
    return tuple(specs)


def _check_names(spec: ScorerSpec) -> None:
    """A default scorer's name and option keys (its needs are checked per case)."""
    check_scorer(spec.name, spec.options, _Target("0", {"type": "object"}))
