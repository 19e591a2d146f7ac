"""How fast is alias resolution? In-process snapshot vs. a dict vs. asking the database.

The canary rows resolve an alias in a rollout (V1 stable, V2 canary at 10 %) on
a snapshot of the same size: with a sticky key (one keyed BLAKE2b hash) and
without one (a ``random.randrange`` draw per call). Prints one table; compare
the ratios, not the absolute times (the machine is shared).
Run: ``.venv/bin/python bench/bench_resolve.py [--db URL]`` (default: a temp SQLite file).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import turnout
from turnout.client import LocalClient
from turnout.domain.aliases import AliasTarget, CanarySplit
from turnout.domain.ids import VersionId
from turnout.services.snapshot import RoutingSnapshot


def per_call_ns(fn: Callable[[], object], calls: int, repeats: int = 5) -> float:
    """Median over ``repeats`` of the mean time per call, in nanoseconds."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter_ns() - start) / calls)
    return statistics.median(samples)


def canary_snapshot(aliases: int) -> RoutingSnapshot:
    """``aliases`` plain aliases, and ``feature-500`` in a rollout at 10 %."""
    stable, candidate = (
        VersionId.parse("sim/chat-2025-01-01"),
        VersionId.parse("sim/chat-2025-06-01"),
    )
    plain = AliasTarget(stable)
    split = AliasTarget(stable, canary=CanarySplit(candidate, 1_000, "bench-salt", 1))
    targets = {f"feature-{i}": (plain, 1) for i in range(aliases)}
    targets["feature-500"] = (split, 2)
    return RoutingSnapshot.build(1, datetime.now(UTC), targets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", help="registry URL (default: a temporary SQLite file)")
    parser.add_argument("--aliases", type=int, default=1000, help="aliases in the registry")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.db or f"sqlite:///{Path(scratch) / 'bench.db'}"
        client = turnout.connect(url)
        assert isinstance(client, LocalClient)
        client.add_version("sim/chat-2025-01-01")
        for i in range(args.aliases):
            client.set_alias(f"feature-{i}", "sim/chat-2025-01-01")
        client.resolve("feature-0")  # load the snapshot
        baseline = {f"feature-{i}": "sim/chat-2025-01-01" for i in range(args.aliases)}
        split = canary_snapshot(args.aliases)
        rows = [
            ("dict lookup (floor)", per_call_ns(lambda: baseline["feature-500"], 200_000)),
            (
                "client.resolve() snapshot",
                per_call_ns(lambda: client.resolve("feature-500"), 200_000),
            ),
            (
                "snapshot.resolve() canary, key",
                per_call_ns(lambda: split.resolve("feature-500", "user-1234"), 200_000),
            ),
            (
                "snapshot.resolve() canary, no key",
                per_call_ns(lambda: split.resolve("feature-500"), 200_000),
            ),
            (
                "client.resolve_at() database",
                per_call_ns(lambda: client.resolve_at("feature-500"), 300),
            ),
        ]
        client.close()
    floor = rows[0][1]
    print(f"alias resolution, {args.aliases} aliases, store {url.split(':', 1)[0]}")
    print(f"| {'path':<34} | {'per call':>12} | {'x dict':>9} |")
    print(f"|{'-' * 36}|{'-' * 14}|{'-' * 11}|")
    for name, ns in rows:
        shown = f"{ns / 1000:.2f} us" if ns >= 1000 else f"{ns:.0f} ns"
        print(f"| {name:<34} | {shown:>12} | {ns / floor:>8.1f}x |")


if __name__ == "__main__":
    main()
