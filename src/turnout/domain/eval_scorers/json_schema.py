"""``json_schema``: 1 if the answer is JSON that validates against the case's schema.

Models often wrap JSON in a Markdown code fence; one fence around the whole
answer is removed before parsing, anything else must be the JSON itself. The
schema is checked when the suite is loaded, so a typo in it is a load error
rather than a run where every case scores 0.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, cast

import orjson
from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for

from turnout.domain.eval_scorers.base import ScorerOptions, ScoreTarget
from turnout.errors import InvalidInput

__all__ = ["JsonSchema", "answer_json"]

_FENCE = re.compile(r"\A```[A-Za-z0-9_-]*\s*\n(.*?)\n?```\Z", re.DOTALL)


def answer_json(answer: str) -> object:
    """The JSON value of an answer (one surrounding code fence allowed); ValueError if none."""
    text = answer.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None


class JsonSchema:
    """Validity against ``schema`` (the option, else the case's ``schema``)."""

    name = "json_schema"
    options = frozenset({"schema"})

    def _schema(self, options: ScorerOptions, target: ScoreTarget) -> Mapping[str, object]:
        schema = options.get("schema", target.schema)
        if schema is None:
            raise InvalidInput(
                "scorer 'json_schema' needs the case's 'schema' or a 'schema' option"
            )
        if not isinstance(schema, Mapping):
            raise InvalidInput(f"a JSON schema must be a mapping, not {schema!r}")
        return schema

    def check(self, options: ScorerOptions, target: ScoreTarget) -> None:
        schema = self._schema(options, target)
        try:
            validator_for(schema).check_schema(dict(schema))
        except SchemaError as exc:
            raise InvalidInput(f"invalid JSON schema: {exc.message}") from None

    def score(self, answer: str, target: ScoreTarget, options: ScorerOptions) -> float:
        schema = self._schema(options, target)
        try:
            document = answer_json(answer)
        except ValueError:
            return 0.0
        validator = validator_for(schema)(dict(schema))
        return 1.0 if validator.is_valid(cast(Any, document)) else 0.0
