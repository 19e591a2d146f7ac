"""Dashboard test helpers: a seeded registry, tokens per role, sign-in, form tokens.

Shared by the in-process page tests and the browser tests, so both look at the
same registry: ``prod-chat`` (protected, three revisions), ``summarise``
(unprotected, two revisions) and ``extract`` (one revision: nothing to roll back).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from turnout.domain.access import LOCAL_ADMIN, Role
from turnout.services.registry import Registry

__all__ = [
    "GATED_POLICY",
    "PLAIN",
    "PROTECTED",
    "ROLLOUT_POLICY",
    "SINGLE",
    "V1",
    "V2",
    "V3",
    "Tokens",
    "csrf_of",
    "run_rollout_to_rollback",
    "seed",
    "serve_split",
    "shadow_pairs",
    "sign_in",
    "start_rollout",
]

V1 = "sim/chat-2025-01-01"
V2 = "sim/chat-2025-06-01"
V3 = "sim/chat-2025-09-01"
PROTECTED = "prod-chat"
PLAIN = "summarise"
SINGLE = "extract"

_CSRF = re.compile(r'name="csrf" value="([^"]*)"')


@dataclass(frozen=True)
class Tokens:
    viewer: str
    operator: str
    deployer: str


def seed(registry: Registry) -> Tokens:
    """Versions, aliases with history, and one token per role (their secrets)."""
    today = registry.ctx.today()
    registry.versions.add(
        LOCAL_ADMIN,
        V1,
        {"quality": 0.9},
        prompt_version="support-v12",
        retirement_date=today + timedelta(days=20),
    )
    registry.versions.add(LOCAL_ADMIN, V2, {"quality": 0.97}, dataset_version="tickets-2025-09")
    registry.versions.add(LOCAL_ADMIN, V3, retirement_date=today + timedelta(days=200))
    aliases = registry.aliases
    aliases.set(LOCAL_ADMIN, PROTECTED, V1, [V3], reason="launch support bot", protected=True)
    aliases.set(LOCAL_ADMIN, PROTECTED, V2, reason="evals +7pts")
    aliases.set(LOCAL_ADMIN, PLAIN, V2)
    aliases.set(LOCAL_ADMIN, PLAIN, V1, reason="cheaper")
    aliases.set(LOCAL_ADMIN, SINGLE, V3)
    tokens = registry.tokens
    return Tokens(
        tokens.create(LOCAL_ADMIN, "vera", Role.VIEWER).secret,
        tokens.create(LOCAL_ADMIN, "otto", Role.OPERATOR).secret,
        tokens.create(LOCAL_ADMIN, "dana", Role.DEPLOYER).secret,
    )


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _CSRF.search(html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client: httpx.Client, secret: str) -> httpx.Response:
    """Sign in as a browser would: fetch the form (and its cookie), post the token."""
    form = client.get("/ui/signin")
    assert form.status_code == 200
    return client.post(
        "/ui/signin", data={"csrf": csrf_of(form.text), "token": secret, "next": "/ui/aliases"}
    )


ROLLOUT_POLICY = {
    "steps": [10, 50, 100],
    "approval_before": [10],  # waits for a person first: a step moves only when told
    "min_samples": 100,
    "min_duration_s": 0,
    "gates": [{"metric": "error_rate", "max_ratio": 1.0}],
}


def start_rollout(registry: Registry) -> None:
    """A rollout of V3 on ``summarise``, awaiting approval of its first step."""
    from turnout.domain.rollouts import RolloutPlan

    plan = RolloutPlan.from_dict(ROLLOUT_POLICY)
    registry.rollouts.start(LOCAL_ADMIN, PLAIN, V3, plan=plan, reason="try the new one")


def shadow_pairs(registry: Registry, n: int = 12) -> None:
    """Shadow ``prod-chat`` with V3 and store ``n`` pairs (every fourth one disagrees)."""
    from turnout.domain.completions import Completion
    from turnout.domain.shadow import ShadowPair

    registry.shadow.start(LOCAL_ADMIN, PROTECTED, V3, 0.5, reason="compare the new one")
    now = registry.ctx.now()
    registry.ctx.store.log_shadow_pairs(
        [
            ShadowPair(
                request_id=f"req_{i:04d}",
                at=now - timedelta(seconds=i + 1),
                alias=PROTECTED,
                messages=[{"role": "user", "content": f"What is {i} + {i}?"}],
                primary=Completion(V2, f"{2 * i}", 50.0, tokens_in=8, tokens_out=1),
                candidate=Completion(V3, f"{2 * i}" if i % 4 else "<b>wrong</b>", 70.0),
            )
            for i in range(n)
        ]
    )


GATED_POLICY = {
    "steps": [10, 50, 100],
    "min_samples": 100,
    "min_duration_s": 0,
    "gates": [
        {"metric": "error_rate", "max_ratio": 1.0},
        {"metric": "latency_mean", "max_ratio": 1.2},
    ],
}
"""No approval: the controller's look moves it, on evidence alone."""


def serve_split(
    registry: Registry,
    advance: Callable[[float], datetime],
    count: int,
    seconds: float,
    canary_every: int,
    canary_error_every: int,
) -> None:
    """Log ``count`` requests to ``summarise`` over ``seconds`` (``advance`` moves the clock).

    Every ``canary_every``-th request is the canary's (V3), the rest stable (V1);
    one stable request in 50 fails and one canary request in ``canary_error_every``.
    Deterministic, so a chart's points are the same on every run.
    """
    from turnout.domain.requests import RequestRecord

    records = []
    served = {True: 0, False: 0}  # per arm, so an arm's errors do not follow the split
    for i in range(1, count + 1):
        canary = i % canary_every == 0
        served[canary] += 1
        failed = served[canary] % (canary_error_every if canary else 50) == 0
        records.append(
            RequestRecord(
                request_id=f"req_{advance(0).timestamp():.0f}_{i:06d}",
                at=advance(seconds / count),
                alias=PLAIN,
                version=V3 if canary else V1,
                arm="canary" if canary else "stable",
                key_hash=None,
                status=502 if failed else 200,
                error_class="provider_error" if failed else None,
                latency_ms=90.0 + (i * 7) % 20,
                ttft_ms=None,
                tokens_in=10,
                tokens_out=5,
                cost_usd=None,
                stream=False,
            )
        )
    registry.ctx.store.log_requests(records)


def run_rollout_to_rollback(registry: Registry, advance: Callable[[float], datetime]) -> None:
    """V3 on ``summarise``: healthy at 10 % for 20 s (advances), paused and resumed, then
    failing at 50 % for 15 s (rolled back automatically, with the gates' evidence)."""
    from turnout.domain.rollouts import RolloutPlan

    rollouts = registry.rollouts
    rollouts.start(LOCAL_ADMIN, PLAIN, V3, plan=RolloutPlan.from_dict(GATED_POLICY))
    serve_split(registry, advance, 2000, 20.0, 10, 50)
    [advanced] = rollouts.tick()
    assert advanced.kind.value == "advance", advanced.message
    rollouts.pause(LOCAL_ADMIN, PLAIN, reason="checking a dashboard")
    rollouts.resume(LOCAL_ADMIN, PLAIN, reason="looks fine")
    serve_split(registry, advance, 1000, 15.0, 2, 2)
    [rolled_back] = rollouts.tick()
    assert rolled_back.kind.value == "rollback", rolled_back.message
