"""Routing around an outage: what the client sees when the primary fails for 30 s.

A real ``turnout serve`` process (default breaker settings) serves ``prod-chat``
-> a sim primary with one fallback, at a steady --rps (open loop: requests are
sent on a fixed schedule, whatever the answers take). In the middle of the run
the primary starts failing every request (its sim ``error_rate`` set to 1.0 the
way ``turnout apply`` would) and recovers --outage-s later. The timeline shows,
per bucket, requests, client-visible errors and which arm served; the summary
gives the client error rate over the whole run and how long after the recovery
traffic was back on the primary.

    .venv/bin/python bench/bench_outage.py [--rps 50] [--duration 90] [--outage-at 30]

Targets (issue 6): at most 1% client errors over the run; back on the primary
within 10 s of its recovery.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from bench_propagation import replicas

from turnout.domain.access import LOCAL_ADMIN
from turnout.domain.ids import VersionId
from turnout.domain.plan import DesiredState, DesiredVersion
from turnout.wiring import open_registry

ALIAS = "prod-chat"
PRIMARY = "sim/chat-2025-01-01"
FALLBACK = "sim/chat-2025-06-01"
LATENCY_MS = 20


@dataclass(frozen=True, slots=True)
class Sample:
    at: float  # seconds since the start of the run
    status: int
    arm: str


def _set_error_rate(db_url: str, rate: float) -> None:
    registry = open_registry(db_url)
    try:
        params = {"latency_ms": LATENCY_MS, "error_rate": rate}
        desired = DesiredState(versions=(DesiredVersion(VersionId.parse(PRIMARY), params),))
        registry.config.apply(LOCAL_ADMIN, desired, reason=f"bench: error_rate={rate}")
    finally:
        registry.close()


def _setup(db_url: str) -> None:
    registry = open_registry(db_url)
    try:
        registry.versions.add(LOCAL_ADMIN, PRIMARY, {"latency_ms": LATENCY_MS, "error_rate": 0.0})
        registry.versions.add(LOCAL_ADMIN, FALLBACK, {"latency_ms": LATENCY_MS})
        registry.aliases.set(LOCAL_ADMIN, ALIAS, PRIMARY, fallbacks=[FALLBACK])
    finally:
        registry.close()


async def _one(session: aiohttp.ClientSession, url: str, started: float, n: int) -> Sample:
    body = {"model": ALIAS, "messages": [{"role": "user", "content": f"{n} + 1?"}]}
    sent = time.monotonic() - started
    try:
        async with session.post(f"{url}/v1/chat/completions", json=body) as response:
            await response.read()
            return Sample(sent, response.status, response.headers.get("x-turnout-arm", "?"))
    except aiohttp.ClientError:
        return Sample(sent, 599, "transport")


async def _run(args: argparse.Namespace, url: str, db_url: str) -> tuple[list[Sample], float]:
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        started = time.monotonic()
        tasks = []
        recovered_at = 0.0
        outage_started = outage_ended = False
        for n in range(int(args.duration * args.rps)):
            due = started + n / args.rps
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            now = time.monotonic() - started
            if not outage_started and now >= args.outage_at:
                outage_started = True
                await asyncio.to_thread(_set_error_rate, db_url, 1.0)
                print(f"  t={now:5.1f}s primary starts failing", file=sys.stderr)
            if not outage_ended and now >= args.outage_at + args.outage_s:
                outage_ended = True
                await asyncio.to_thread(_set_error_rate, db_url, 0.0)
                recovered_at = time.monotonic() - started
                print(f"  t={recovered_at:5.1f}s primary recovers", file=sys.stderr)
            tasks.append(asyncio.create_task(_one(session, url, started, n)))
        samples = await asyncio.gather(*tasks)
    return list(samples), recovered_at


def _report(args: argparse.Namespace, samples: list[Sample], recovered_at: float) -> None:
    bucket_s = 5
    print(
        f"\noutage routed around: {args.rps:g} rps for {args.duration:g} s, primary failing "
        f"from t={args.outage_at:g}s for {args.outage_s:g}s (sim, {LATENCY_MS} ms)\n"
    )
    print("| t (s) | requests | client errors | served by primary | by fallback |")
    print("|---|---|---|---|---|")
    for start in range(0, int(args.duration), bucket_s):
        rows = [s for s in samples if start <= s.at < start + bucket_s]
        arms = Counter(s.arm for s in rows if s.status == 200)
        errors = sum(1 for s in rows if s.status != 200)
        print(
            f"| {start}-{start + bucket_s} | {len(rows)} | {errors} | "
            f"{arms['stable']} | {arms['fallback']} |"
        )
    errors = sum(1 for s in samples if s.status != 200)
    rate = errors / len(samples)
    after = sorted((s for s in samples if s.at >= recovered_at), key=lambda s: s.at)
    first_back = next((s.at for s in after if s.arm == "stable"), None)
    last_fallback = max((s.at for s in after if s.arm == "fallback"), default=recovered_at)
    back_s = (first_back - recovered_at) if first_back is not None else float("inf")
    all_back_s = last_fallback - recovered_at
    print(
        f"\nclient errors: {errors}/{len(samples)} = {rate:.2%} (target <= 1%) -> "
        f"{'met' if rate <= 0.01 else 'NOT met'}"
    )
    print(
        f"after recovery: first request on the primary after {back_s:.1f} s, last one on the "
        f"fallback after {all_back_s:.1f} s (target <= 10 s) -> "
        f"{'met' if all_back_s <= 10 else 'NOT met'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rps", type=float, default=50.0)
    parser.add_argument("--duration", type=float, default=90.0)
    parser.add_argument("--outage-at", type=float, default=30.0)
    parser.add_argument("--outage-s", type=float, default=30.0)
    parser.add_argument("--quick", action="store_true", help="30 s run, 10 s outage")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.outage_at, args.outage_s = 30.0, 10.0, 10.0
    with tempfile.TemporaryDirectory(prefix="turnout-outage-bench-") as tmp:
        workdir = Path(tmp)
        db_url = f"sqlite:///{workdir / 'registry.db'}"
        _setup(db_url)
        with replicas(db_url, 1, workdir) as (gateway,):
            samples, recovered_at = asyncio.run(_run(args, gateway.url, db_url))
    _report(args, samples, recovered_at)


if __name__ == "__main__":
    main()
