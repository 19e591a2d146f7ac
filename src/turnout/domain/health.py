"""Health of versions: what changed (events) and how a version is doing (summaries).

Events come from two places: each gateway process's circuit breakers (kind
``breaker``: closed / open / half_open) and the controller's active probes
(kind ``probe``: ok / regression / failed). ``turnout health`` shows the newest
events beside the passive view (error rate and latency per version from the
request log) and the fallback chains that have fallen behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["HealthEvent", "VersionTraffic"]


@dataclass(frozen=True, slots=True)
class HealthEvent:
    """One state change of one version, as recorded for ``turnout health``."""

    at: datetime
    version: str
    kind: str  # "breaker" or "probe"
    state: str  # breaker: closed/open/half_open; probe: ok/regression/failed
    detail: str
    source: str = ""  # which process saw it (host:pid), or the probing controller


@dataclass(frozen=True, slots=True)
class VersionTraffic:
    """A version's live traffic over a window, from the request log (passive health)."""

    version: str
    requests: int
    errors: int
    p50_ms: float | None
    p95_ms: float | None
    last_at: datetime | None

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests else None
