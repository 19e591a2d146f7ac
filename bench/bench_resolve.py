"""How fast is alias resolution? In-process snapshot vs. a dict vs. asking the database.

Prints one table; compare the ratios, not the absolute times (the machine is shared).
Run: ``.venv/bin/python bench/bench_resolve.py [--db URL]`` (default: a temp SQLite file).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import turnout
from turnout.client import LocalClient


def per_call_ns(fn: Callable[[], object], calls: int, repeats: int = 5) -> float:
    """Median over ``repeats`` of the mean time per call, in nanoseconds."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter_ns() - start) / calls)
    return statistics.median(samples)


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
        rows = [
            ("dict lookup (floor)", per_call_ns(lambda: baseline["feature-500"], 200_000)),
            (
                "client.resolve() snapshot",
                per_call_ns(lambda: client.resolve("feature-500"), 200_000),
            ),
            (
                "client.resolve_at() database",
                per_call_ns(lambda: client.resolve_at("feature-500"), 300),
            ),
        ]
        client.close()
    floor = rows[0][1]
    print(f"alias resolution, {args.aliases} aliases, store {url.split(':', 1)[0]}")
    print(f"| {'path':<30} | {'per call':>12} | {'x dict':>9} |")
    print(f"|{'-' * 32}|{'-' * 14}|{'-' * 11}|")
    for name, ns in rows:
        shown = f"{ns / 1000:.2f} us" if ns >= 1000 else f"{ns:.0f} ns"
        print(f"| {name:<30} | {shown:>12} | {ns / floor:>8.1f}x |")


if __name__ == "__main__":
    main()
