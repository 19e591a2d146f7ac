"""The deprecation rule: versions in use, by role, with days left on a fixed date."""

from __future__ import annotations

from datetime import date

from turnout.domain.aliases import AliasTarget, CanarySplit
from turnout.domain.catalog import Catalog, CatalogEntry
from turnout.domain.deprecations import (
    Finding,
    Use,
    UseRole,
    crossed_thresholds,
    find_deprecations,
)
from turnout.domain.ids import VersionId
from turnout.domain.shadow import ShadowPolicy

TODAY = date(2026, 1, 15)
PRIMARY = VersionId("sim", "chat-001")
FALLBACK = VersionId("sim", "chat-002")
CANARY = VersionId("sim", "chat-003")
SHADOW = VersionId("sim", "chat-004")
CATALOGUED = VersionId("openai", "gpt-old-0613")
CATALOG = Catalog.of(
    [
        CatalogEntry(
            "openai",
            "gpt-old-0613",
            "gpt-old",
            True,
            retires=date(2026, 2, 14),
            replacement="gpt-new",
        )
    ]
)


def _targets() -> dict[str, AliasTarget]:
    return {
        "prod-chat": AliasTarget(
            PRIMARY,
            (FALLBACK,),
            canary=CanarySplit(CANARY, 1000, "salt", 1),
            shadows=(ShadowPolicy(SHADOW),),
        ),
        "batch": AliasTarget(CATALOGUED, (PRIMARY,)),
    }


OWN = {
    PRIMARY: date(2026, 3, 1),  # 45 days
    FALLBACK: date(2026, 1, 22),  # 7 days
    CANARY: date(2026, 1, 10),  # retired 5 days ago
    SHADOW: date(2026, 12, 1),  # far away
    CATALOGUED: None,  # the catalog's date: 30 days
}


def test_every_role_is_found_with_days_left_soonest_first() -> None:
    found = find_deprecations(_targets(), OWN, CATALOG, TODAY, 90)
    assert [(f.version, f.days_left) for f in found] == [
        ("sim/chat-003", -5),
        ("sim/chat-002", 7),
        ("openai/gpt-old-0613", 30),
        ("sim/chat-001", 45),
    ]
    by_version = {f.version: f for f in found}
    assert by_version["sim/chat-001"].uses == (
        Use("batch", UseRole.FALLBACK),
        Use("prod-chat", UseRole.PRIMARY),
    )
    assert by_version["sim/chat-003"].uses == (Use("prod-chat", UseRole.CANARY),)
    assert by_version["sim/chat-003"].retired
    catalogued = by_version["openai/gpt-old-0613"]
    assert catalogued.source == "catalog"
    assert catalogued.replacement == "gpt-new"
    assert by_version["sim/chat-002"].source == "version"


def test_shadows_are_found_and_the_window_is_inclusive() -> None:
    found = find_deprecations(_targets(), OWN, CATALOG, TODAY, 320)
    shadow = [f for f in found if f.version == "sim/chat-004"]
    assert shadow
    assert shadow[0].days_left == 320
    assert shadow[0].uses == (Use("prod-chat", UseRole.SHADOW),)
    assert "sim/chat-004" not in {
        f.version for f in find_deprecations(_targets(), OWN, CATALOG, TODAY, 319)
    }


def test_a_version_date_wins_over_the_catalog() -> None:
    own = {**OWN, CATALOGUED: date(2026, 6, 1)}
    found = {f.version: f for f in find_deprecations(_targets(), own, CATALOG, TODAY, 365)}
    assert found["openai/gpt-old-0613"].retires == date(2026, 6, 1)


def test_findings_round_trip_through_json() -> None:
    for finding in find_deprecations(_targets(), OWN, CATALOG, TODAY, 90):
        assert Finding.from_dict(finding.to_dict()) == finding
        assert finding.version in finding.describe()


def test_thresholds_crossed() -> None:
    assert crossed_thresholds(100) == []
    assert crossed_thresholds(90) == [90]
    assert crossed_thresholds(20) == [90, 30]
    assert crossed_thresholds(-1) == [90, 30, 7]
