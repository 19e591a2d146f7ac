"""Version records: typed params from the command line, lifecycle by date, lineage labels."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from turnout.domain.ids import VersionId
from turnout.domain.versions import (
    Version,
    VersionStatus,
    parse_param,
    validate_label,
)
from turnout.errors import InvalidInput

VID = VersionId("openai", "gpt-4o-2024-11-20")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("temperature=0.2", ("temperature", 0.2)),
        ("max_tokens=256", ("max_tokens", 256)),
        ("max_tokens=-1", ("max_tokens", -1)),
        ("top_p=1e-3", ("top_p", 0.001)),
        ("stream=true", ("stream", True)),
        ("stream=False", ("stream", False)),
        ("stop=null", ("stop", None)),
        ("stop=None", ("stop", None)),
        ("name=hello world", ("name", "hello world")),
        ('seed="42"', ("seed", "42")),
        ('flag="true"', ("flag", "true")),
        (" sim.delay_ms = 15 ", ("sim.delay_ms", 15)),
        ("user=a=b", ("user", "a=b")),
        ("empty=", ("empty", "")),
    ],
)
def test_parse_param_types_values(text: str, expected: tuple[str, object]) -> None:
    key, value = parse_param(text)
    assert (key, value) == expected
    assert type(value) is type(expected[1])


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("temperature", "must be KEY=VALUE"),
        ("=0.2", "param key ''"),
        ("1temp=0.2", "param key '1temp'"),
        ("temp erature=1", "param key 'temp erature'"),
        ("x=nan", "finite number"),
        ("x=inf", "finite number"),
        ("x=-Infinity", "finite number"),
    ],
)
def test_parse_param_rejects_bad_input(text: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_param(text)
    assert fragment in info.value.message


@given(st.integers(-(10**12), 10**12))
def test_parse_param_keeps_integers_integral(number: int) -> None:
    assert parse_param(f"n={number}") == ("n", number)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_parse_param_round_trips_finite_floats(number: float) -> None:
    _, value = parse_param(f"x={number!r}")
    assert value == number


def test_version_exposes_provider_and_model() -> None:
    version = Version(VID)
    assert (version.provider, version.model) == ("openai", "gpt-4o-2024-11-20")
    assert version.status is VersionStatus.ACTIVE


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 1, 9), VersionStatus.ACTIVE),
        (date(2026, 1, 10), VersionStatus.DEPRECATED),
        (date(2026, 6, 30), VersionStatus.DEPRECATED),
        (date(2026, 7, 1), VersionStatus.RETIRED),
        (date(2030, 1, 1), VersionStatus.RETIRED),
    ],
)
def test_status_on_follows_the_calendar(today: date, expected: VersionStatus) -> None:
    version = Version(VID, deprecation_date=date(2026, 1, 10), retirement_date=date(2026, 7, 1))
    assert version.status_on(today) is expected


def test_status_on_never_moves_a_stored_status_backwards() -> None:
    retired = Version(VID, status=VersionStatus.RETIRED, retirement_date=date(2030, 1, 1))
    assert retired.status_on(date(2026, 1, 1)) is VersionStatus.RETIRED
    deprecated = Version(VID, status=VersionStatus.DEPRECATED, retirement_date=date(2026, 1, 1))
    assert deprecated.status_on(date(2025, 1, 1)) is VersionStatus.DEPRECATED
    assert deprecated.status_on(date(2026, 1, 1)) is VersionStatus.RETIRED
    assert Version(VID).status_on(date(2999, 1, 1)) is VersionStatus.ACTIVE


def test_retirement_without_deprecation_date_still_retires() -> None:
    version = Version(VID, retirement_date=date(2026, 7, 1))
    assert version.status_on(date(2026, 6, 30)) is VersionStatus.ACTIVE
    assert version.status_on(date(2026, 7, 1)) is VersionStatus.RETIRED


def test_status_ranks_are_ordered() -> None:
    ranks = [status.rank for status in VersionStatus]
    assert ranks == [0, 1, 2]
    assert VersionStatus.RETIRED.rank > VersionStatus.DEPRECATED.rank


@pytest.mark.parametrize(
    "label", ["v3", "prompt-2025-01-01", "ds/eval@sha:ab12+x", "A" * 128, "0_x.y"]
)
def test_validate_label_accepts_good_labels(label: str) -> None:
    assert validate_label("prompt version", label) == label


def test_validate_label_passes_none_through() -> None:
    assert validate_label("dataset version", None) is None


@pytest.mark.parametrize("label", ["", "-v3", ".hidden", "has space", "A" * 129, "v1\n", "é"])
def test_validate_label_rejects_bad_labels(label: str) -> None:
    with pytest.raises(InvalidInput) as info:
        validate_label("prompt version", label)
    assert info.value.message.startswith(f"prompt version {label!r}")
