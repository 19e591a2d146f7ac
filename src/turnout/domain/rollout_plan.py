"""A rollout's plan: the steps, when each may move on, the gates and their budget.

Parsed from ``--steps``, a ``--policy`` YAML/JSON file or an alias's ``rollout:``
block in ``turnout.yaml``, with a clear error naming the offending key; stored
with the rollout as :meth:`RolloutPlan.to_dict` and read back through the same
parser, so what is stored is always a policy the parser accepts.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from turnout.domain.bucketing import BUCKETS
from turnout.domain.gates import DEFAULT_GATES, GateSpec, Metric
from turnout.domain.scorers import validate_scorers
from turnout.errors import InvalidInput

__all__ = ["DEFAULT_PLAN_GATES", "DEFAULT_STEPS", "RolloutPlan", "StepPolicy", "parse_steps"]

DEFAULT_STEPS = (1.0, 10.0, 50.0, 100.0)
"""Percent of traffic on the canary at each step."""

DEFAULT_PLAN_GATES = tuple(gate for gate in DEFAULT_GATES if gate.metric is not Metric.QUALITY)
"""A plan's gates when its policy names none: errors and p95 latency.

The quality gate needs feedback or online scores; without them it stays
*insufficient* and would hold every rollout forever, so a policy opts in to it.
"""

_DEFAULT_MIN_SAMPLES = 200
_DEFAULT_MIN_DURATION_S = 60.0
_DEFAULT_MAX_DURATION_S = 24 * 3600.0


def _pct_to_weight(pct: float) -> int:
    if not math.isfinite(pct) or not 0 < pct <= 100:
        raise InvalidInput(f"rollout step {pct:g}% must be above 0 and at most 100")
    weight = round(pct * 100)
    if weight < 1:
        raise InvalidInput(f"rollout step {pct:g}% is below the 0.01% resolution")
    return weight


def parse_steps(text: str) -> tuple[float, ...]:
    """``"1,10,50,100"`` -> (1.0, 10.0, 50.0, 100.0), with a clear error otherwise."""
    parts = [part.strip().rstrip("%") for part in text.split(",") if part.strip()]
    if not parts:
        raise InvalidInput("--steps needs percentages, e.g. 1,10,50,100")
    try:
        return tuple(float(part) for part in parts)
    except ValueError:
        raise InvalidInput(f"--steps {text!r}: every step must be a number (percent)") from None


@dataclass(frozen=True, slots=True)
class StepPolicy:
    """One step: the canary's weight and when it may move on.

    ``min_samples`` counts the canary's requests during the step; the step also
    lasts at least ``min_duration_s``. A step still short of its samples after
    ``max_duration_s`` pauses the rollout (never advances it blind, never rolls
    it back: too little traffic is not evidence of harm). ``approval`` asks for
    a person's ``rollout approve`` before the step starts.
    """

    weight: int
    min_samples: int = _DEFAULT_MIN_SAMPLES
    min_duration_s: float = _DEFAULT_MIN_DURATION_S
    max_duration_s: float = _DEFAULT_MAX_DURATION_S
    approval: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.weight <= BUCKETS:
            raise InvalidInput(f"step weight {self.weight} must be 1-{BUCKETS} basis points")
        if self.min_samples < 0:
            raise InvalidInput("step min_samples must not be negative")
        if not 0 <= self.min_duration_s <= self.max_duration_s:
            raise InvalidInput("step durations need 0 <= min_duration_s <= max_duration_s")

    @property
    def percent(self) -> float:
        return self.weight / 100

    def to_dict(self) -> dict[str, object]:
        return {
            "percent": self.percent,
            "min_samples": self.min_samples,
            "min_duration_s": self.min_duration_s,
            "max_duration_s": self.max_duration_s,
            "approval": self.approval,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object], where: str = "step") -> StepPolicy:
        unknown = set(data) - {
            "percent",
            "min_samples",
            "min_duration_s",
            "max_duration_s",
            "approval",
        }
        if unknown:
            raise InvalidInput(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        if "percent" not in data:
            raise InvalidInput(f"{where}: needs 'percent'")
        return cls(
            weight=_pct_to_weight(_number(data["percent"], f"{where}.percent")),
            min_samples=int(
                _number(data.get("min_samples", _DEFAULT_MIN_SAMPLES), f"{where}.min_samples")
            ),
            min_duration_s=_number(
                data.get("min_duration_s", _DEFAULT_MIN_DURATION_S), f"{where}.min_duration_s"
            ),
            max_duration_s=_number(
                data.get("max_duration_s", _DEFAULT_MAX_DURATION_S), f"{where}.max_duration_s"
            ),
            approval=_flag(data.get("approval", False), f"{where}.approval"),
        )


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"{where} must be a number, not {value!r}")
    return float(value)


def _flag(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{where} must be true or false, not {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class RolloutPlan:
    """Steps, gates and the false-rollback budget ``alpha`` of one rollout."""

    steps: tuple[StepPolicy, ...]
    gates: tuple[GateSpec, ...] = DEFAULT_PLAN_GATES
    alpha: float = 0.05
    webhooks: tuple[str, ...] = ()
    scorers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        validate_scorers(self.scorers)
        if not self.steps:
            raise InvalidInput("a rollout needs at least one step")
        weights = [step.weight for step in self.steps]
        if any(b <= a for a, b in itertools.pairwise(weights)):
            raise InvalidInput(
                "rollout steps must increase: " + " -> ".join(f"{w / 100:g}%" for w in weights)
            )
        if weights[-1] != BUCKETS:
            raise InvalidInput("the last rollout step must be 100% (it completes the rollout)")
        if not 0 < self.alpha < 0.5:
            raise InvalidInput(f"alpha {self.alpha} must be between 0 and 0.5")
        if not self.gates:
            raise InvalidInput("a rollout needs at least one gate")
        for url in self.webhooks:
            if not url.startswith(("http://", "https://")):
                raise InvalidInput(f"webhook {url!r} must be an http(s) URL")

    @classmethod
    def with_steps(
        cls, percents: Sequence[float] = DEFAULT_STEPS, base: RolloutPlan | None = None
    ) -> RolloutPlan:
        """A plan with these step percentages and the other settings of ``base``."""
        template = base.steps[0] if base is not None else StepPolicy(weight=BUCKETS)
        steps = tuple(replace(template, weight=_pct_to_weight(p), approval=False) for p in percents)
        if base is None:
            return cls(steps)
        return replace(base, steps=steps)

    def to_dict(self) -> dict[str, object]:
        return {
            "steps": [step.to_dict() for step in self.steps],
            "gates": [gate.to_dict() for gate in self.gates],
            "alpha": self.alpha,
            "webhooks": list(self.webhooks),
            "scorers": list(self.scorers),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> RolloutPlan:
        """A policy file's content (YAML or JSON), with defaults for what it omits.

        ``steps`` is a list of percentages or of step mappings; top-level
        ``min_samples``/``min_duration_s``/``max_duration_s`` apply to every
        step that does not set its own; ``approval_before`` lists percentages
        that wait for a person.
        """
        known = {
            "steps",
            "gates",
            "alpha",
            "webhooks",
            "min_samples",
            "min_duration_s",
            "max_duration_s",
            "approval_before",
            "scorers",
        }
        unknown = set(data) - known
        if unknown:
            raise InvalidInput(f"rollout policy: unknown key(s) {', '.join(sorted(unknown))}")
        defaults = {
            k: data[k] for k in ("min_samples", "min_duration_s", "max_duration_s") if k in data
        }
        raw_steps = data.get("steps", list(DEFAULT_STEPS))
        if not isinstance(raw_steps, list):
            raise InvalidInput("rollout policy: 'steps' must be a list")
        approvals = data.get("approval_before", [])
        if not isinstance(approvals, list):
            raise InvalidInput("rollout policy: 'approval_before' must be a list of percentages")
        approve_at = {_pct_to_weight(_number(p, "approval_before")) for p in approvals}
        steps = []
        for index, raw in enumerate(raw_steps):
            where = f"rollout policy steps[{index}]"
            entry: dict[str, object] = dict(defaults)
            if isinstance(raw, Mapping):
                entry.update(raw)
            else:
                entry["percent"] = raw
            step = StepPolicy.from_dict(entry, where)
            if step.weight in approve_at:
                step = replace(step, approval=True)
            steps.append(step)
        missing = approve_at - {step.weight for step in steps}
        if missing:
            raise InvalidInput(
                "rollout policy: approval_before names no step: "
                + ", ".join(f"{w / 100:g}%" for w in sorted(missing))
            )
        raw_gates = data.get("gates")
        gates = DEFAULT_PLAN_GATES
        if raw_gates is not None:
            if not isinstance(raw_gates, list) or not all(
                isinstance(g, Mapping) for g in raw_gates
            ):
                raise InvalidInput("rollout policy: 'gates' must be a list of mappings")
            gates = tuple(GateSpec.from_dict(g) for g in raw_gates)
        webhooks = data.get("webhooks", [])
        if not isinstance(webhooks, list) or not all(isinstance(w, str) for w in webhooks):
            raise InvalidInput("rollout policy: 'webhooks' must be a list of URLs")
        scorers = data.get("scorers", [])
        if not isinstance(scorers, list) or not all(isinstance(s, str) for s in scorers):
            raise InvalidInput("rollout policy: 'scorers' must be a list of scorer names")
        return cls(
            steps=tuple(steps),
            gates=gates,
            alpha=_number(data.get("alpha", 0.05), "rollout policy alpha"),
            webhooks=tuple(webhooks),
            scorers=tuple(scorers),
        )
