"""The simulated model's decisions, with no I/O, no clock and no global randomness.

Every draw comes from a hash of (seed, model, request counter, prompt), so a run
is reproducible from its seed and two sim versions served by one process do not
disturb each other's sequences. The async adapter (``sim.py``) only sleeps and
wraps the outcome; everything a test wants to pin down is decided here.

Knobs, read from the version's params (see :meth:`SimParams.parse`):

* ``latency_ms`` mean time to the whole answer; ``jitter`` spreads it (+-10 %);
* ``ttft_ms`` time to the first streamed token (default a quarter of the latency);
* ``error_rate`` chance a request fails as an upstream HTTP 500;
* ``quality`` chance an arithmetic question ("What is 17 + 25?") is answered right;
* ``seed`` overrides the provider's seed; ``max_tokens`` truncates (``length``).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from turnout.domain.arithmetic import evaluate_arithmetic
from turnout.domain.versions import ParamValue
from turnout.errors import InvalidInput

__all__ = [
    "SimBrain",
    "SimOutcome",
    "SimParams",
    "count_tokens",
    "evaluate_arithmetic",
    "split_chunks",
]

_TOKEN = re.compile(r"\w+|[^\w\s]")
_CHUNK = re.compile(r"\s*\S+(?:\s+\Z)?")
_SMALL_MISSES = (-2, -1, 1, 2)
_LARGE_MISSES = (-10, -2, -1, 1, 2, 10)
_TWO_64 = float(2**64)


def _number(params: Mapping[str, ParamValue], key: str, default: float | None) -> float | None:
    value = params.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"sim param {key}={value!r} must be a number")
    return float(value)


def _fraction(params: Mapping[str, ParamValue], key: str, default: float) -> float:
    value = _number(params, key, default)
    assert value is not None
    if not 0.0 <= value <= 1.0:
        raise InvalidInput(f"sim param {key}={value:g} must be between 0 and 1")
    return value


def _duration(params: Mapping[str, ParamValue], key: str) -> float | None:
    value = _number(params, key, None)
    if value is not None and value < 0:
        raise InvalidInput(f"sim param {key}={value:g} must not be negative (milliseconds)")
    return value


def _integer(params: Mapping[str, ParamValue], key: str, minimum: int) -> int | None:
    value = params.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInput(f"sim param {key}={value!r} must be an integer >= {minimum}")
    return value


@dataclass(frozen=True, slots=True)
class SimParams:
    """The sim's knobs, validated; other params (temperature...) are ignored."""

    latency_ms: float = 0.0
    ttft_ms: float | None = None
    jitter: float = 0.1
    error_rate: float = 0.0
    quality: float = 1.0
    seed: int | None = None
    max_tokens: int | None = None

    @classmethod
    def parse(cls, params: Mapping[str, ParamValue]) -> SimParams:
        """Read and check the knobs; :class:`InvalidInput` names the bad one."""
        max_tokens = _integer(params, "max_completion_tokens", 1)
        return cls(
            latency_ms=_duration(params, "latency_ms") or 0.0,
            ttft_ms=_duration(params, "ttft_ms"),
            jitter=_fraction(params, "jitter", 0.1),
            error_rate=_fraction(params, "error_rate", 0.0),
            quality=_fraction(params, "quality", 1.0),
            seed=_integer(params, "seed", -(2**63)),
            max_tokens=max_tokens if max_tokens is not None else _integer(params, "max_tokens", 1),
        )


@dataclass(frozen=True, slots=True)
class SimOutcome:
    """What one simulated call does: fail, or answer ``text``, after these delays.

    ``expected``/``correct`` are set for arithmetic prompts so tests and demos can
    check the quality knob; ``digest`` is a stable id for the call.
    """

    text: str
    error: str | None
    latency_ms: float
    ttft_ms: float
    finish_reason: str
    expected: int | None
    correct: bool | None
    digest: str


def _near_miss(expected: int, draw: float) -> int:
    """A plausible wrong answer: off by one or two, or by ten for larger numbers.

    Never the right number, and never negative when the right one is not.
    """
    misses = _SMALL_MISSES if abs(expected) < 20 else _LARGE_MISSES
    offset = misses[int(draw * len(misses))]
    wrong = expected + offset
    return expected - offset if expected >= 0 > wrong else wrong


def count_tokens(text: str) -> int:
    """Approximate tokens: words and punctuation marks (close to BPE for English)."""
    return len(_TOKEN.findall(text))


def _truncate(text: str, max_tokens: int) -> str:
    ends = [match.end() for match in _TOKEN.finditer(text)]
    return text if len(ends) <= max_tokens else text[: ends[max_tokens - 1]]


def split_chunks(text: str) -> list[str]:
    """Split an answer into stream deltas, one word with its leading space each; lossless."""
    chunks = _CHUNK.findall(text)
    return chunks if chunks else [text]


def _canned(model: str, prompt: str) -> str:
    snippet = " ".join(prompt.split())
    if len(snippet) > 60:
        snippet = snippet[:57] + "..."
    return (
        f'This is {model}, a simulated model. You asked: "{snippet}". Here is a simulated answer.'
    )


@dataclass(frozen=True, slots=True)
class SimBrain:
    """Decides each call from (seed, model, prompt, counter): a pure function."""

    seed: int = 0

    def _draws(self, seed: int, model: str, prompt: str, counter: int) -> tuple[list[float], str]:
        key = f"{seed}\x00{model}\x00{counter}\x00{prompt}".encode()
        digest = hashlib.blake2b(key, digest_size=32).digest()
        draws = [int.from_bytes(digest[i : i + 8], "big") / _TWO_64 for i in range(0, 32, 8)]
        return draws, digest.hex()

    def decide(self, model: str, params: SimParams, prompt: str, counter: int) -> SimOutcome:
        """The outcome of the ``counter``-th call to ``model`` with ``prompt``."""
        seed = self.seed if params.seed is None else params.seed
        (u_error, u_quality, u_wrong, u_jitter), digest = self._draws(seed, model, prompt, counter)
        factor = 1.0 + params.jitter * (2.0 * u_jitter - 1.0)
        latency = params.latency_ms * factor
        ttft = (params.ttft_ms if params.ttft_ms is not None else 0.25 * params.latency_ms) * factor
        latency = max(latency, ttft)
        if u_error < params.error_rate:
            error = f"simulated upstream error from {model} (error_rate={params.error_rate:g})"
            return SimOutcome("", error, ttft, ttft, "error", None, None, digest)
        expected = evaluate_arithmetic(prompt)
        correct: bool | None = None
        if expected is None:
            text = _canned(model, prompt)
        else:
            correct = u_quality < params.quality
            text = f"The answer is {expected if correct else _near_miss(expected, u_wrong)}."
        finish = "stop"
        if params.max_tokens is not None and count_tokens(text) > params.max_tokens:
            text, finish = _truncate(text, params.max_tokens), "length"
        return SimOutcome(text, None, latency, ttft, finish, expected, correct, digest)
