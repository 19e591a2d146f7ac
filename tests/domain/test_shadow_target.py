"""Shadow policies as part of an alias target: validation, round trips, and what a
rollback compares (what is served, never the shadows)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from turnout.domain.aliases import AliasAction, AliasRevision, AliasTarget, pick_rollback
from turnout.domain.ids import VersionId
from turnout.domain.shadow import ShadowPolicy
from turnout.errors import InvalidInput

V1 = VersionId.parse("sim/chat-2025-01-01")
V2 = VersionId.parse("sim/chat-2025-06-01")
V3 = VersionId.parse("sim/chat-2025-09-01")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sample": 0.0}, "sample must be in (0, 1]"),
        ({"sample": 1.5}, "sample must be in (0, 1]"),
        ({"sample": float("nan")}, "sample must be in (0, 1]"),
        ({"max_rps": 0.0}, "max_rps must be positive"),
        ({"max_cost_per_day": -1.0}, "max_cost_per_day must be positive"),
    ],
)
def test_a_policy_refuses_nonsense(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        ShadowPolicy(V2, **kwargs)


def test_from_dict_names_the_bad_field() -> None:
    with pytest.raises(InvalidInput, match="needs a 'candidate'"):
        ShadowPolicy.from_dict({"sample": 0.5})
    with pytest.raises(InvalidInput, match="'sample' must be a number"):
        ShadowPolicy.from_dict({"candidate": str(V2), "sample": "lots"})
    with pytest.raises(InvalidInput, match="'max_rps' must be a number"):
        ShadowPolicy.from_dict({"candidate": str(V2), "max_rps": True})


def test_a_target_with_shadows_round_trips_and_describes_them() -> None:
    target = AliasTarget(V1, (V3,), shadows=(ShadowPolicy(V2, 0.25, 5.0, 10.0),))
    again = AliasTarget.from_dict(target.to_dict())
    assert again == target
    assert "+ shadow sim/chat-2025-06-01 at 25%" in target.describe()
    assert AliasTarget(V1).to_dict() == {"version": str(V1), "fallbacks": []}  # unchanged shape


def test_a_version_cannot_shadow_itself_nor_twice() -> None:
    with pytest.raises(InvalidInput, match="cannot shadow itself"):
        AliasTarget(V1, shadows=(ShadowPolicy(V1),))
    with pytest.raises(InvalidInput, match="shadows the alias twice"):
        AliasTarget(V1, shadows=(ShadowPolicy(V2), ShadowPolicy(V2, 0.5)))


def test_flipping_to_a_shadow_candidate_ends_that_shadow() -> None:
    shadows = (ShadowPolicy(V2), ShadowPolicy(V3))
    flipped = AliasTarget(V2).with_shadows(shadows)
    assert flipped.shadow_versions() == (V3,)
    assert AliasTarget(V1).with_shadows(shadows).shadow_versions() == (V2, V3)


def _revision(number: int, target: AliasTarget) -> AliasRevision:
    return AliasRevision(
        "prod-chat",
        number,
        AliasAction.SET,
        target,
        None,
        False,
        "t",
        None,
        datetime(2026, 1, number, tzinfo=UTC),
    )


def test_a_rollback_skips_revisions_that_only_changed_shadows() -> None:
    with_shadow = (ShadowPolicy(V3),)
    history = [
        _revision(1, AliasTarget(V1)),
        _revision(2, AliasTarget(V2)),
        _revision(3, AliasTarget(V2, shadows=with_shadow)),
    ]
    assert pick_rollback(history).revision == 1  # the last *served* change, not the shadow
    with pytest.raises(InvalidInput, match="nothing to roll back"):
        pick_rollback(history, to=2)
