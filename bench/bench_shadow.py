"""Shadowing's cost to the primary: latency with a candidate twice as slow, sample 1.0.

Two real ``turnout serve`` processes on one SQLite registry serve the same sim
primary (``latency_ms`` = --primary-ms): gateway A's alias has no shadow, gateway
B's alias is shadowed by a candidate twice as slow at sample 1.0 — every request
is copied. Load alternates between A and B in rounds (closed loop, --concurrency
requests in flight), so both see the same machine noise; the table compares
B to A side by side (ratios, not absolute times), counts failed primaries, and
reads B's ``/metrics`` for copies sent and dropped and the store for pairs kept.

    .venv/bin/python bench/bench_shadow.py [--rounds 6] [--per-round 400] [--concurrency 16]

Target (issue 5): B's p50 and p99 within 5% of A's, no failed primary request.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from bench_propagation import percentile, replicas

from turnout.domain.access import LOCAL_ADMIN
from turnout.wiring import open_registry

PRIMARY = "sim/chat-2025-01-01"
CANDIDATE = "sim/chat-2025-06-01"
PLAIN, SHADOWED = "plain-chat", "shadow-chat"
TARGET_RATIO = 1.05


def _setup(db_url: str, primary_ms: float) -> None:
    registry = open_registry(db_url)
    try:
        registry.versions.add(LOCAL_ADMIN, PRIMARY, {"latency_ms": primary_ms})
        registry.versions.add(LOCAL_ADMIN, CANDIDATE, {"latency_ms": 2 * primary_ms})
        registry.aliases.set(LOCAL_ADMIN, PLAIN, PRIMARY)
        registry.aliases.set(LOCAL_ADMIN, SHADOWED, PRIMARY)
        registry.shadow.start(LOCAL_ADMIN, SHADOWED, CANDIDATE, sample=1.0)
    finally:
        registry.close()


async def _load(
    session: aiohttp.ClientSession, url: str, alias: str, n: int, concurrency: int
) -> tuple[list[float], int]:
    """``n`` requests, ``concurrency`` in flight: latencies (ms) and failures."""
    latencies: list[float] = []
    failures = 0
    queue = iter(range(n))

    async def worker() -> None:
        nonlocal failures
        for i in queue:
            body = {"model": alias, "messages": [{"role": "user", "content": f"{i} + 1?"}]}
            started = time.perf_counter()
            async with session.post(f"{url}/v1/chat/completions", json=body) as response:
                await response.read()
                ok = response.status == 200
            latencies.append((time.perf_counter() - started) * 1000)
            failures += 0 if ok else 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, failures


async def _metric(session: aiohttp.ClientSession, url: str, prefix: str) -> float:
    async with session.get(f"{url}/metrics") as response:
        text = await response.text()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(prefix) and not line.startswith("#")
    )


async def _run(args: argparse.Namespace, url_a: str, url_b: str) -> dict[str, object]:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        await _load(session, url_a, PLAIN, 100, args.concurrency)  # warm both
        await _load(session, url_b, SHADOWED, 100, args.concurrency)
        results: dict[str, tuple[list[float], int]] = {"A": ([], 0), "B": ([], 0)}
        for round_no in range(args.rounds):
            order = [("A", url_a, PLAIN), ("B", url_b, SHADOWED)]
            for name, url, alias in order if round_no % 2 == 0 else reversed(order):
                got, failed = await _load(session, url, alias, args.per_round, args.concurrency)
                results[name][0].extend(got)
                results[name] = (results[name][0], results[name][1] + failed)
            print(f"  round {round_no + 1}/{args.rounds} done", file=sys.stderr)
        await asyncio.sleep(2 * args.primary_ms / 1000 + 1.0)  # let the last copies land
        sent = await _metric(session, url_b, "turnout_shadow_requests_total")
        dropped = await _metric(session, url_b, "turnout_shadow_dropped_total")
    return {"results": results, "sent": sent, "dropped": dropped}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--per-round", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--primary-ms", type=float, default=50.0)
    parser.add_argument("--quick", action="store_true", help="2 rounds of 200 (smoke run)")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.per_round = 2, 200
    with tempfile.TemporaryDirectory(prefix="turnout-shadow-bench-") as tmp:
        workdir = Path(tmp)
        db_url = f"sqlite:///{workdir / 'registry.db'}"
        _setup(db_url, args.primary_ms)
        with replicas(db_url, 2, workdir) as (gateway_a, gateway_b):
            outcome = asyncio.run(_run(args, gateway_a.url, gateway_b.url))
            time.sleep(1.0)  # the pair writer flushes every 0.25 s
        registry = open_registry(db_url)
        try:
            pairs = len(registry.shadow.pairs(SHADOWED, CANDIDATE, limit=10_000_000))
        finally:
            registry.close()
    results = outcome["results"]
    assert isinstance(results, dict)
    (lat_a, fail_a), (lat_b, fail_b) = results["A"], results["B"]
    total = len(lat_b)
    print(
        f"\nshadow cost to the primary: sim primary {args.primary_ms:g} ms, candidate "
        f"{2 * args.primary_ms:g} ms, sample 1.0, concurrency {args.concurrency}, "
        f"{args.rounds} alternating rounds of {args.per_round} requests per gateway\n"
    )
    head = ("gateway", "requests", "failed", "p50 ms", "p99 ms", "p50 ratio", "p99 ratio")
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    p50_a, p99_a = percentile(lat_a, 50), percentile(lat_a, 99)
    for name, lat, failed in (("A: no shadow", lat_a, fail_a), ("B: shadow 1.0", lat_b, fail_b)):
        p50, p99 = percentile(lat, 50), percentile(lat, 99)
        cells = (
            name,
            str(len(lat)),
            str(failed),
            f"{p50:.2f}",
            f"{p99:.2f}",
            f"{p50 / p50_a:.3f}",
            f"{p99 / p99_a:.3f}",
        )
        print("| " + " | ".join(cells) + " |")
    p50_ok = percentile(lat_b, 50) / p50_a <= TARGET_RATIO
    p99_ok = percentile(lat_b, 99) / p99_a <= TARGET_RATIO
    print(
        f"\nB's copies: {outcome['sent']:.0f} sent, {outcome['dropped']:.0f} dropped, "
        f"{pairs} pairs stored (of {total + 100} shadowed requests incl. warm-up)"
    )
    print(
        f"target: p50 and p99 ratio <= {TARGET_RATIO} and no failed primary -> "
        f"{'met' if p50_ok and p99_ok and fail_b == 0 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
