"""A pinned model version and its record: lineage, promotion, caveats, lifecycle."""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from turnout.domain.ids import VersionId
from turnout.errors import InvalidInput

__all__ = [
    "KnownIssue",
    "ParamValue",
    "Version",
    "VersionStatus",
    "parse_param",
    "validate_label",
]

ParamValue = str | int | float | bool | None
"""Default request params are JSON scalars (temperature, max_tokens, sim knobs...)."""

_PARAM_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/@+-]{0,127}$")


class VersionStatus(enum.StrEnum):
    """Lifecycle of a version; ordered so the later state wins when combined."""

    ACTIVE = "active"
    DEPRECATED = "deprecated"
    RETIRED = "retired"

    @property
    def rank(self) -> int:
        return list(VersionStatus).index(self)


@dataclass(frozen=True, slots=True)
class KnownIssue:
    """A caveat recorded against a version: appended, never edited."""

    text: str
    added_at: datetime
    added_by: str


@dataclass(frozen=True, slots=True)
class Version:
    """A pinned provider release registered in turnout, with its full record."""

    id: VersionId
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    introduced_at: datetime | None = None
    introduced_by: str = ""
    promoted_at: datetime | None = None
    prompt_version: str | None = None
    dataset_version: str | None = None
    eval_scores: Mapping[str, float] = field(default_factory=dict)
    known_issues: tuple[KnownIssue, ...] = ()
    deprecation_date: date | None = None
    retirement_date: date | None = None
    status: VersionStatus = VersionStatus.ACTIVE
    floating_allowed: bool = False
    warnings: tuple[str, ...] = ()

    @property
    def provider(self) -> str:
        return self.id.provider

    @property
    def model(self) -> str:
        return self.id.model

    def status_on(self, today: date) -> VersionStatus:
        """The stored status, advanced by the calendar: dates win over a stale flag."""
        by_date = VersionStatus.ACTIVE
        if self.retirement_date is not None and self.retirement_date <= today:
            by_date = VersionStatus.RETIRED
        elif self.deprecation_date is not None and self.deprecation_date <= today:
            by_date = VersionStatus.DEPRECATED
        return by_date if by_date.rank > self.status.rank else self.status


def validate_label(kind: str, value: str | None) -> str | None:
    """Check a lineage label (prompt or dataset version); ``None`` stays ``None``."""
    if value is None:
        return None
    if not _LABEL.fullmatch(value):
        raise InvalidInput(
            f"{kind} {value!r} must start with a letter or digit and use only "
            "letters, digits and _ . : / @ + - (at most 128)"
        )
    return value


def parse_param(text: str) -> tuple[str, ParamValue]:
    """Parse ``KEY=VALUE`` from the command line into a typed JSON scalar.

    ``true``/``false``/``null`` become bool/None, numbers become int or float,
    anything else stays a string (quote with ``"..."`` to force a string).
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep:
        raise InvalidInput(f"param {text!r} must be KEY=VALUE, for example temperature=0.2")
    if not _PARAM_KEY.match(key):
        raise InvalidInput(f"param key {key!r} must be a name like 'temperature' or 'max_tokens'")
    return key, _scalar(raw.strip())


def _scalar(raw: str) -> ParamValue:
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("null", "none"):
        return None
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return raw[1:-1]
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        number = float(raw)
    except ValueError:
        return raw
    if not math.isfinite(number):
        raise InvalidInput(f"param value {raw!r} must be a finite number")
    return number
