"""Garbage-collector settings for a long-running gateway process.

A ``turnout serve`` worker holds a large, long-lived heap (the framework, the
SQL layer, the catalog, the routing snapshot) and allocates many short-lived
objects per request (a parsed body, a request dict, response headers, a log
record). With CPython's defaults the generational collector keeps re-walking
that long-lived heap: profiled at concurrency 64 against a fast upstream,
collections were ~13% of the worker's CPU and the single largest item the
gateway could change (py-spy; see ``bench/README.md``).

Two standard remedies, applied once the app has started:

* :func:`gc.freeze` moves everything alive at that moment into a permanent
  generation the collector never scans (the technique Instagram published for
  its Django fleet). Reference counting still frees those objects as usual;
  only a reference *cycle* among them would outlive its use — start-up state is
  kept for the life of the process anyway.
* A young-generation threshold of 10,000 allocations instead of 700: per-request
  objects die by reference counting long before a collection, so collecting
  the young generation every 700 allocations mostly walks live requests. The
  older generations keep CPython's ratios (every 20 young collections, then 20
  of those), so cycles are still found within seconds under load.
"""

from __future__ import annotations

import gc

__all__ = ["SERVING_THRESHOLDS", "settle_heap"]

SERVING_THRESHOLDS = (10_000, 20, 20)
"""(young, middle, old) collection thresholds of a serving process."""


def settle_heap() -> None:
    """Collect once, freeze what survives, and raise the young threshold.

    Call after start-up, when what remains is what the process keeps; calling it
    again later freezes whatever has accumulated since, which is harmless.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SERVING_THRESHOLDS)
