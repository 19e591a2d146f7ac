"""Eval suites: curated cases, each with the scorers that grade its answer.

A suite is data a team reviews and versions like code; a run must say exactly
which cases it ran, so :attr:`EvalSuite.suite_hash` is the SHA-256 of a
canonical JSON of the cases *with the scorers each one is graded by* (suite
defaults resolved). Renaming the suite keeps the hash; changing a prompt, an
expected answer, a weight or a default scorer changes it, and ``eval compare``
then warns that the two runs did not grade the same thing.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import orjson

from turnout.domain.completions import Message
from turnout.domain.eval_scorers import JUDGE, check_scorer
from turnout.domain.versions import ParamValue
from turnout.errors import InvalidInput

__all__ = [
    "EvalCase",
    "EvalSuite",
    "ScorerSpec",
    "check_messages",
    "default_scorers",
    "prompt_text",
]

_CASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,199}$")
_SUITE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")
_ROLES = frozenset({"system", "user", "assistant", "developer", "tool"})


@dataclass(frozen=True, slots=True)
class ScorerSpec:
    """One scorer on a case: its name, its weight in the case score, and its options."""

    name: str
    weight: float = 1.0
    options: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        weight = self.weight
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise InvalidInput(f"scorer '{self.name}': weight must be a number")
        if not math.isfinite(weight) or weight <= 0:
            raise InvalidInput(f"scorer '{self.name}': weight must be positive, not {weight:g}")

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "weight": float(self.weight), "options": dict(self.options)}


def check_messages(messages: Sequence[Message]) -> None:
    """Roles known, contents strings, and the conversation ends before the answer."""
    if not messages:
        raise InvalidInput("a case needs at least one message")
    for index, message in enumerate(messages):
        role, content = message.get("role"), message.get("content")
        if role not in _ROLES:
            raise InvalidInput(
                f"messages[{index}].role must be one of {', '.join(sorted(_ROLES))}, not {role!r}"
            )
        if not isinstance(content, str):
            raise InvalidInput(f"messages[{index}].content must be a string")
    if messages[-1].get("role") == "assistant":
        raise InvalidInput("the last message must not be the assistant's: it is the answer")


def prompt_text(messages: Sequence[Message]) -> str:
    """The last user message's text: what a judge is told the question was."""
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else ""
    return ""


@dataclass(frozen=True, slots=True)
class EvalCase:
    """One prompt and how to grade the answer to it.

    ``scorers`` empty means "the suite's defaults". ``params`` lie over the
    version's default params for this case only (``temperature: 0``...).
    """

    id: str
    messages: tuple[Message, ...]
    expected: str | None = None
    schema: Mapping[str, object] | None = None
    scorers: tuple[ScorerSpec, ...] = ()
    params: Mapping[str, ParamValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _CASE_ID.match(self.id):
            raise InvalidInput(
                f"case id {self.id!r}: letters, digits and . _ : / - (at most 200, "
                "starting with a letter or digit)"
            )
        check_messages(self.messages)
        for spec in self.scorers:
            check_scorer(spec.name, spec.options, self)

    @property
    def prompt(self) -> str:
        return prompt_text(self.messages)

    def canonical(self, scorers: Sequence[ScorerSpec]) -> dict[str, object]:
        """The JSON the suite hash covers, with the scorers it is really graded by."""
        return {
            "id": self.id,
            "messages": [dict(message) for message in self.messages],
            "expected": self.expected,
            "schema": dict(self.schema) if self.schema is not None else None,
            "scorers": [spec.to_dict() for spec in scorers],
            "params": dict(self.params),
        }


def default_scorers(case: EvalCase) -> tuple[ScorerSpec, ...]:
    """Scorers for a case that names none in a suite that has no defaults.

    ``exact`` when it has an expected answer, ``json_schema`` when it has a
    schema: what a bare JSONL line with only ``expected`` obviously means.
    """
    specs = []
    if case.expected is not None:
        specs.append(ScorerSpec("exact"))
    if case.schema is not None:
        specs.append(ScorerSpec("json_schema"))
    return tuple(specs)


@dataclass(frozen=True, slots=True)
class EvalSuite:
    """A named list of cases, with the scorers used where a case names none."""

    name: str
    cases: tuple[EvalCase, ...]
    scorers: tuple[ScorerSpec, ...] = ()

    def __post_init__(self) -> None:
        if not _SUITE_NAME.match(self.name):
            raise InvalidInput(f"suite name {self.name!r}: letters, digits and . _ - (at most 200)")
        if not self.cases:
            raise InvalidInput("a suite needs at least one case")
        seen: set[str] = set()
        for case in self.cases:
            if case.id in seen:
                raise InvalidInput(f"case id {case.id!r} is used twice")
            seen.add(case.id)
            if not self.scorers_for(case):
                raise InvalidInput(
                    f"case {case.id!r}: nothing to score; give it scorers, an expected "
                    "answer or a schema"
                )
            for spec in self.scorers_for(case):
                check_scorer(spec.name, spec.options, case)

    def scorers_for(self, case: EvalCase) -> tuple[ScorerSpec, ...]:
        """The case's own scorers, else the suite's defaults, else :func:`default_scorers`."""
        return case.scorers or self.scorers or default_scorers(case)

    @property
    def suite_hash(self) -> str:
        """SHA-256 (hex) of the canonical JSON of the cases as they are graded."""
        canonical = [case.canonical(self.scorers_for(case)) for case in self.cases]
        data = orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(data).hexdigest()

    def judge_versions(self, fallback: str | None) -> tuple[str, ...]:
        """The judge models this suite needs (``fallback`` for judges that name none).

        Raises :class:`InvalidInput` if a judge names no version and there is no fallback.
        """
        found: dict[str, None] = {}
        for case in self.cases:
            for spec in self.scorers_for(case):
                if spec.name != JUDGE:
                    continue
                version = spec.options.get("version") or fallback
                if not isinstance(version, str):
                    raise InvalidInput(
                        f"case {case.id!r}: the judge scorer names no version; "
                        "set its 'version' option or pass --judge VERSION"
                    )
                found[version] = None
        return tuple(found)
