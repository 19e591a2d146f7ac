"""The pure diff between a config file's desired state and the registry."""

from __future__ import annotations

import pytest

from turnout.domain.aliases import Alias, AliasTarget
from turnout.domain.ids import VersionId
from turnout.domain.plan import (
    Change,
    ChangeKind,
    DesiredAlias,
    DesiredState,
    DesiredVersion,
    Plan,
    compute_plan,
    validate_desired,
)
from turnout.domain.providers import BUILTIN_PROVIDERS, ApiKeyAuth, ProviderConfig, ProviderKind
from turnout.domain.versions import ParamValue, Version
from turnout.errors import InvalidInput

A = VersionId.parse("sim/chat-2025-01-01")
B = VersionId.parse("sim/chat-2025-06-01")
C = VersionId.parse("openai/gpt-4o-2024-11-20")
VLLM = ProviderConfig("vllm-local", ProviderKind.OPENAI, "http://127.0.0.1:8000/v1", "VLLM_KEY")


def _state() -> DesiredState:
    return DesiredState(
        providers=(VLLM,),
        versions=(
            DesiredVersion(A, {"latency_ms": 20, "quality": 0.9}, "support-v12", "tickets-06"),
            DesiredVersion(B, {"latency_ms": 15}),
        ),
        aliases=(
            DesiredAlias("prod-chat", AliasTarget(A, (B,)), protected=True),
            DesiredAlias("staging-chat", AliasTarget(B)),
        ),
    )


def _registry() -> tuple[list[ProviderConfig], list[Version], list[Alias]]:
    versions = [
        Version(
            A,
            {"quality": 0.9, "latency_ms": 20},
            prompt_version="support-v12",
            dataset_version="tickets-06",
        ),
        Version(B, {"latency_ms": 15}),
    ]
    aliases = [
        Alias("prod-chat", AliasTarget(A, (B,)), revision=3, protected=True),
        Alias("staging-chat", AliasTarget(B), revision=1),
    ]
    return [VLLM], versions, aliases


def _kinds(plan: Plan) -> list[tuple[ChangeKind, str]]:
    return [(change.kind, change.subject) for change in plan.changes]


def test_identical_registry_gives_an_empty_plan() -> None:
    plan = compute_plan(_state(), *_registry())
    assert plan.empty
    assert plan.changes == ()
    assert plan.unmanaged_aliases == ()
    assert plan.summary() == "No changes: the registry matches the file."


def test_empty_registry_adds_everything_in_order() -> None:
    plan = compute_plan(_state(), [], [], [])
    assert _kinds(plan) == [
        (ChangeKind.ADD_PROVIDER, "vllm-local"),
        (ChangeKind.ADD_VERSION, "sim/chat-2025-01-01"),
        (ChangeKind.ADD_VERSION, "sim/chat-2025-06-01"),
        (ChangeKind.CREATE_ALIAS, "prod-chat"),
        (ChangeKind.CREATE_ALIAS, "staging-chat"),
    ]
    assert not plan.empty
    assert plan.summary() == "Plan: 5 to add, 0 to change."


def test_add_lines_read_like_terraform() -> None:
    lines = [change.describe() for change in compute_plan(_state(), [], [], []).changes]
    assert lines == [
        "+ provider vllm-local kind=openai base_url=http://127.0.0.1:8000/v1 api_key_env=VLLM_KEY",
        "+ version sim/chat-2025-01-01 {latency_ms=20, quality=0.9} prompt_version=support-v12"
        " dataset_version=tickets-06",
        "+ version sim/chat-2025-06-01 {latency_ms=15}",
        "+ alias prod-chat -> sim/chat-2025-01-01 (fallbacks: sim/chat-2025-06-01) (protected)",
        "+ alias staging-chat -> sim/chat-2025-06-01",
    ]


def test_brief_example_line() -> None:
    desired = DesiredState(versions=(DesiredVersion(A, {"latency_ms": 20}),))
    (change,) = compute_plan(desired, [], [], []).changes
    assert change.describe() == "+ version sim/chat-2025-01-01 {latency_ms=20}"


def test_floating_allowed_is_shown_on_additions() -> None:
    floating = VersionId.parse("openai/gpt-4o")
    desired = DesiredState(
        versions=(DesiredVersion(floating, allow_floating=True),),
        aliases=(DesiredAlias("dev", AliasTarget(floating), allow_floating=True),),
    )
    lines = [change.describe() for change in compute_plan(desired, [], [], []).changes]
    assert lines == [
        "+ version openai/gpt-4o {} (floating allowed)",
        "+ alias dev -> openai/gpt-4o (floating allowed)",
    ]


def test_changed_params_are_an_update_showing_only_what_differs() -> None:
    providers, versions, aliases = _registry()
    versions[1] = Version(B, {"latency_ms": 50}, prompt_version="support-v11")
    plan = compute_plan(_state(), providers, versions, aliases)
    (change,) = plan.changes
    assert change == Change(
        ChangeKind.UPDATE_VERSION,
        "sim/chat-2025-06-01",
        "{latency_ms=50} prompt_version=support-v11",
        "{latency_ms=15} prompt_version=(none)",
    )
    assert change.describe() == (
        "~ version sim/chat-2025-06-01: {latency_ms=50} prompt_version=support-v11"
        " -> {latency_ms=15} prompt_version=(none)"
    )
    assert plan.summary() == "Plan: 0 to add, 1 to change."


def test_dataset_version_change_is_an_update() -> None:
    providers, versions, aliases = _registry()
    versions[0] = Version(A, {"latency_ms": 20, "quality": 0.9}, prompt_version="support-v12")
    (change,) = compute_plan(_state(), providers, versions, aliases).changes
    assert change.kind is ChangeKind.UPDATE_VERSION
    assert change.describe() == (
        "~ version sim/chat-2025-01-01: dataset_version=(none) -> dataset_version=tickets-06"
    )


@pytest.mark.parametrize(
    ("stored", "declared", "changed"),
    [
        ({"t": 1}, {"t": 1.0}, False),  # the same number
        ({"t": True}, {"t": 1}, True),  # equal in Python, not the same setting
        ({"t": "1"}, {"t": 1}, True),
        ({"t": None}, {}, True),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}, False),  # order does not matter
    ],
)
def test_params_compare_by_json_value(
    stored: dict[str, ParamValue], declared: dict[str, ParamValue], changed: bool
) -> None:
    desired = DesiredState(versions=(DesiredVersion(A, declared),))
    plan = compute_plan(desired, [], [Version(A, stored)], [])
    assert plan.empty is not changed


def test_allow_floating_alone_is_not_a_difference() -> None:
    desired = DesiredState(versions=(DesiredVersion(A, allow_floating=True),))
    assert compute_plan(desired, [], [Version(A)], []).empty


def test_retarget_and_fallback_change() -> None:
    providers, versions, aliases = _registry()
    aliases[0] = Alias("prod-chat", AliasTarget(B), revision=4, protected=True)
    aliases[1] = Alias("staging-chat", AliasTarget(B, (A,)), revision=2)
    plan = compute_plan(_state(), providers, versions, aliases)
    assert [change.describe() for change in plan.changes] == [
        "~ alias prod-chat: sim/chat-2025-06-01 -> sim/chat-2025-01-01 "
        "(fallbacks: sim/chat-2025-06-01)",
        "~ alias staging-chat: sim/chat-2025-06-01 (fallbacks: sim/chat-2025-01-01)"
        " -> sim/chat-2025-06-01",
    ]


def test_brief_retarget_line() -> None:
    change = Change(ChangeKind.RETARGET_ALIAS, "prod-chat", "a", "b")
    assert change.describe() == "~ alias prod-chat: a -> b"


def test_protect_and_unprotect() -> None:
    providers, versions, aliases = _registry()
    aliases[0] = Alias("prod-chat", AliasTarget(A, (B,)), revision=3, protected=False)
    aliases[1] = Alias("staging-chat", AliasTarget(B), revision=1, protected=True)
    plan = compute_plan(_state(), providers, versions, aliases)
    assert _kinds(plan) == [
        (ChangeKind.PROTECT_ALIAS, "prod-chat"),
        (ChangeKind.UNPROTECT_ALIAS, "staging-chat"),
    ]
    assert plan.changes[0].describe() == "~ alias prod-chat: unprotected -> protected"
    assert plan.changes[1].describe() == "~ alias staging-chat: protected -> unprotected"


def test_retarget_comes_before_protection_change_of_the_same_alias() -> None:
    providers, versions, aliases = _registry()
    aliases[0] = Alias("prod-chat", AliasTarget(B), revision=3, protected=False)
    plan = compute_plan(_state(), providers, versions, aliases)
    assert _kinds(plan) == [
        (ChangeKind.RETARGET_ALIAS, "prod-chat"),
        (ChangeKind.PROTECT_ALIAS, "prod-chat"),
    ]


def test_unmanaged_aliases_are_reported_never_removed() -> None:
    providers, versions, aliases = _registry()
    aliases += [Alias("zeta", AliasTarget(A), 1), Alias("legacy", AliasTarget(B), 7)]
    plan = compute_plan(_state(), providers, versions, aliases)
    assert plan.empty
    assert plan.unmanaged_aliases == ("legacy", "zeta")


def test_registry_versions_not_in_the_file_are_left_alone() -> None:
    providers, versions, aliases = _registry()
    versions.append(Version(C))
    assert compute_plan(_state(), providers, versions, aliases).empty


def test_builtin_provider_redeclared_identically_is_no_change() -> None:
    desired = DesiredState(providers=(BUILTIN_PROVIDERS["openai"], BUILTIN_PROVIDERS["sim"]))
    assert compute_plan(desired, [], [], []).empty


def test_overriding_a_builtin_provider_is_an_update() -> None:
    proxy = ProviderConfig(
        "openai", ProviderKind.OPENAI, "https://proxy.example/v1", "OPENAI_API_KEY"
    )
    (change,) = compute_plan(DesiredState(providers=(proxy,)), [], [], []).changes
    assert change.kind is ChangeKind.UPDATE_PROVIDER
    assert change.describe() == (
        "~ provider openai: base_url=https://api.openai.com/v1 -> base_url=https://proxy.example/v1"
    )


def test_switching_a_provider_to_azure_auth_is_an_update() -> None:
    azure = ProviderConfig(
        "vllm-local",
        ProviderKind.OPENAI,
        "http://127.0.0.1:8000/v1",
        "VLLM_KEY",
        ApiKeyAuth.API_KEY,
        "2024-10-21",
    )
    (change,) = compute_plan(DesiredState(providers=(azure,)), [VLLM], [], []).changes
    assert change.kind is ChangeKind.UPDATE_PROVIDER
    assert change.describe() == (
        "~ provider vllm-local: auth=(none) api_version=(none)"
        " -> auth=api-key api_version=2024-10-21"
    )
    assert compute_plan(DesiredState(providers=(azure,)), [azure], [], []).empty


def test_stored_provider_wins_over_builtin_and_is_compared() -> None:
    proxy = ProviderConfig(
        "openai", ProviderKind.OPENAI, "https://proxy.example/v1", "OPENAI_API_KEY"
    )
    assert compute_plan(DesiredState(providers=(proxy,)), [proxy], [], []).empty
    keyless = ProviderConfig("vllm-local", ProviderKind.OPENAI, "http://127.0.0.1:8000/v1")
    (change,) = compute_plan(DesiredState(providers=(keyless,)), [VLLM], [], []).changes
    assert change.describe() == "~ provider vllm-local: api_key_env=VLLM_KEY -> api_key_env=(none)"


def test_changes_are_sorted_by_section_then_name() -> None:
    desired = DesiredState(
        providers=(
            ProviderConfig("zz", ProviderKind.SIM),
            ProviderConfig("aa", ProviderKind.SIM),
        ),
        versions=(DesiredVersion(B), DesiredVersion(C), DesiredVersion(A)),
        aliases=(DesiredAlias("b", AliasTarget(A)), DesiredAlias("a", AliasTarget(B))),
    )
    assert _kinds(compute_plan(desired, [], [], [])) == [
        (ChangeKind.ADD_PROVIDER, "aa"),
        (ChangeKind.ADD_PROVIDER, "zz"),
        (ChangeKind.ADD_VERSION, "openai/gpt-4o-2024-11-20"),
        (ChangeKind.ADD_VERSION, "sim/chat-2025-01-01"),
        (ChangeKind.ADD_VERSION, "sim/chat-2025-06-01"),
        (ChangeKind.CREATE_ALIAS, "a"),
        (ChangeKind.CREATE_ALIAS, "b"),
    ]


@pytest.mark.parametrize(
    ("desired", "message"),
    [
        (
            DesiredState(versions=(DesiredVersion(A), DesiredVersion(A, {"x": 1}))),
            "version sim/chat-2025-01-01 is declared twice",
        ),
        (
            DesiredState(
                aliases=(DesiredAlias("p", AliasTarget(A)), DesiredAlias("p", AliasTarget(B)))
            ),
            "alias p is declared twice",
        ),
        (DesiredState(providers=(VLLM, VLLM)), "provider vllm-local is declared twice"),
    ],
)
def test_duplicates_are_rejected(desired: DesiredState, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        validate_desired(desired)
    with pytest.raises(InvalidInput, match=message):
        compute_plan(desired, [], [], [])


def test_valid_state_passes_validation() -> None:
    validate_desired(_state())


def test_lookups_by_subject() -> None:
    state = _state()
    assert state.version("sim/chat-2025-06-01") == state.versions[1]
    assert state.version(A) == state.versions[0]
    assert state.alias("staging-chat") == state.aliases[1]
    assert state.provider("vllm-local") == VLLM
    assert state.version(C) is None
    assert state.alias("nope") is None
    assert state.provider("nope") is None


def test_change_kind_nouns() -> None:
    assert {kind.noun for kind in ChangeKind} == {"provider", "version", "alias"}
    assert [kind.value for kind in ChangeKind] == [
        "add_provider",
        "update_provider",
        "add_version",
        "update_version",
        "create_alias",
        "policy_alias",
        "retarget_alias",
        "rollout_alias",
        "shadow_alias",
        "protect_alias",
        "unprotect_alias",
    ]
