"""turnout.yaml parsing: the expected desired state, and every error at its line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from turnout.config_file import example_config, load_config, parse_config
from turnout.domain.aliases import AliasTarget
from turnout.domain.ids import VersionId
from turnout.domain.plan import DesiredAlias, DesiredState, DesiredVersion
from turnout.domain.providers import ApiKeyAuth, ProviderConfig, ProviderKind
from turnout.errors import ConfigError, InvalidInput

SIM = VersionId.parse("sim/chat-2025-01-01")
GPT = VersionId.parse("openai/gpt-4o-2024-11-20")

VALID = """\
# turnout.yaml
providers:
  vllm-local:
    kind: openai
    base_url: http://127.0.0.1:8000/v1
    api_key_env: VLLM_API_KEY
versions:
  - id: sim/chat-2025-01-01
    params: {latency_ms: 20, error_rate: 0.01, quality: 0.9}
    prompt_version: support-v12
    dataset_version: tickets-2025-06
  - id: openai/gpt-4o-2024-11-20
    params: {temperature: 0.2, stop: null, stream: false, user: "x"}
  - id: openai/gpt-4o
    allow_floating: true
aliases:
  prod-chat:
    version: sim/chat-2025-01-01
    fallbacks: [openai/gpt-4o-2024-11-20]
    protected: true
  dev-chat:
    version: openai/gpt-4o
    allow_floating: true
"""


def _error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_config(textwrap.dedent(text), "turnout.yaml")
    return caught.value


def test_valid_file_parses_to_the_desired_state() -> None:
    assert parse_config(VALID, "turnout.yaml") == DesiredState(
        providers=(
            ProviderConfig(
                "vllm-local", ProviderKind.OPENAI, "http://127.0.0.1:8000/v1", "VLLM_API_KEY"
            ),
        ),
        versions=(
            DesiredVersion(
                SIM,
                {"latency_ms": 20, "error_rate": 0.01, "quality": 0.9},
                "support-v12",
                "tickets-2025-06",
            ),
            DesiredVersion(GPT, {"temperature": 0.2, "stop": None, "stream": False, "user": "x"}),
            DesiredVersion(VersionId.parse("openai/gpt-4o"), allow_floating=True),
        ),
        aliases=(
            DesiredAlias("prod-chat", AliasTarget(SIM, (GPT,)), protected=True),
            DesiredAlias(
                "dev-chat", AliasTarget(VersionId.parse("openai/gpt-4o")), allow_floating=True
            ),
        ),
    )


def test_param_types_survive() -> None:
    state = parse_config(VALID, "turnout.yaml")
    params = state.versions[0].params
    assert type(params["latency_ms"]) is int
    assert type(params["quality"]) is float


def test_every_section_is_optional() -> None:
    assert parse_config("versions: []\n", "t.yaml") == DesiredState()
    assert parse_config("providers:\nversions:\naliases:\n", "t.yaml") == DesiredState()


def test_load_config_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "turnout.yaml"
    path.write_text(VALID, encoding="utf-8")
    assert load_config(path) == parse_config(VALID, "turnout.yaml")
    assert load_config(str(path)) == load_config(path)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match="cannot read config file") as caught:
        load_config(missing)
    assert caught.value.path == str(missing)
    assert caught.value.line is None


def test_the_example_file_parses() -> None:
    state = parse_config(example_config(), "turnout.yaml")
    assert state.versions
    assert {version.id.provider for version in state.versions} == {"sim"}
    assert state.alias("prod-chat") is not None
    for alias in state.aliases:  # every alias points at a version the example declares
        for version_id in alias.target.versions():
            assert state.version(version_id) is not None


def _uncomment(text: str, first: str) -> str:
    """Uncomment the block that starts with the commented line ``first``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == f"# {first}")
    prefix = lines[start][: lines[start].index("#")] + "# "
    lines[start] = lines[start].replace("# ", "", 1)
    for i in range(start + 1, len(lines)):
        if not lines[i].startswith(prefix + " "):
            break
        lines[i] = lines[i].replace("# ", "", 1)
    return "\n".join(lines) + "\n"


def test_the_examples_commented_blocks_parse_when_uncommented() -> None:
    text = _uncomment(example_config(), "providers:")
    text = _uncomment(text, "- id: openai/gpt-4o-2024-11-20")
    text = _uncomment(text, "rollout:")
    state = parse_config(text, "turnout.yaml")
    prod = state.alias("prod-chat")
    assert prod is not None
    assert prod.rollout is not None
    assert prod.rollout.steps[0].min_samples == 200
    assert state.provider("vllm-local") == ProviderConfig(
        "vllm-local", ProviderKind.OPENAI, "http://127.0.0.1:8000/v1", "VLLM_API_KEY"
    )
    assert state.version(GPT) == DesiredVersion(GPT, {"temperature": 0.2})


def test_unknown_key_reports_its_line() -> None:
    error = _error(
        """\
        versions:
          - id: sim/chat-2025-01-01
            temprature: 0.2
        """
    )
    assert error.line == 3
    assert str(error).startswith("turnout.yaml:3: versions[0].temprature: unknown key;")
    assert "params" in str(error)


def test_unknown_top_level_key() -> None:
    error = _error("versions: []\nalias:\n  x: {version: sim/a-2025-01-01}\n")
    assert error.line == 2
    assert "alias: unknown key; expected one of: providers, versions, aliases" in str(error)


def test_wrong_type_reports_its_line() -> None:
    error = _error(
        """\
        aliases:
          prod-chat:
            version: sim/chat-2025-01-01
            protected: maybe
        """
    )
    assert error.line == 4
    assert str(error) == (
        "turnout.yaml:4: aliases.prod-chat.protected: input should be a valid boolean, not 'maybe'"
    )


def test_numbers_are_not_coerced_to_ids() -> None:
    error = _error("versions:\n  - id: sim/a-2025-01-01\n  - id: 2024\n")
    assert error.line == 3
    assert "versions[1].id: input should be a valid string" in str(error)


def test_non_scalar_param_value() -> None:
    error = _error(
        """\
        versions:
          - id: sim/chat-2025-01-01
            params:
              latency_ms: 20
              stop: [a, b]
        """
    )
    assert error.line == 5
    assert "versions[0].params.stop: param values must be" in str(error)


def test_infinite_param_value() -> None:
    error = _error("versions:\n  - id: sim/a-2025-01-01\n    params: {t: .inf}\n")
    assert error.line == 3
    assert "finite" in str(error)


def test_missing_version_on_an_alias() -> None:
    error = _error(
        """\
        versions:
          - id: sim/chat-2025-01-01
        aliases:
          staging: {version: sim/chat-2025-01-01}
          prod-chat:
            fallbacks: [sim/chat-2025-01-01]
        """
    )
    assert error.line == 5
    assert str(error) == "turnout.yaml:5: aliases.prod-chat.version: field required"


def test_several_problems_report_the_first_in_file_order() -> None:
    error = _error(
        """\
        versions:
          - id: sim/chat-2025-01-01
            colour: red
          - {}
        """
    )
    assert error.line == 3
    assert str(error).endswith("(and 1 more problem)")


def test_bad_version_id() -> None:
    error = _error(
        """\
        versions:
          - id: sim/chat-2025-01-01
          - params: {x: 1}
            id: gpt-4o-2024-11-20
        """
    )
    assert error.line == 4
    assert "versions[1].id: version id 'gpt-4o-2024-11-20' must be 'provider/model_id'" in str(
        error
    )


def test_bad_version_id_in_an_alias_fallback() -> None:
    error = _error(
        """\
        aliases:
          prod-chat:
            version: sim/chat-2025-01-01
            fallbacks:
              - sim/chat-2025-06-01
              - not an id
        """
    )
    assert error.line == 6
    assert "aliases.prod-chat.fallbacks[1]:" in str(error)


def test_alias_that_falls_back_to_itself() -> None:
    error = _error(
        "aliases:\n  p:\n    version: sim/a-2025-01-01\n    fallbacks: [sim/a-2025-01-01]\n"
    )
    assert error.line == 4
    assert "cannot be its own fallback" in str(error)


@pytest.mark.parametrize("name", ["Prod-Chat", "latest", "v2", "-x"])
def test_bad_alias_name(name: str) -> None:
    error = _error(
        f"versions: []\naliases:\n  ok: {{version: sim/a-2025-01-01}}\n  {name}:\n"
        "    version: sim/a-2025-01-01\n"
    )
    assert error.line == 4
    assert str(error).startswith(f"turnout.yaml:4: aliases.{name}: alias name")


def test_bad_lineage_label() -> None:
    error = _error("versions:\n  - id: sim/a-2025-01-01\n    dataset_version: 'has space'\n")
    assert error.line == 3
    assert "versions[0].dataset_version: dataset_version 'has space'" in str(error)


def test_bad_provider_kind_points_at_kind() -> None:
    error = _error("providers:\n  vllm:\n    base_url: http://h/v1\n    kind: grpc\n")
    assert error.line == 4
    assert "providers.vllm.kind: provider kind 'grpc' must be one of" in str(error)


def test_bad_provider_points_at_the_provider() -> None:
    error = _error("providers:\n  ok:\n    kind: sim\n  vllm:\n    kind: openai\n")
    assert error.line == 4
    assert "providers.vllm: provider 'vllm' of kind openai needs a base_url" in str(error)


def test_azure_provider_declares_its_auth_and_api_version() -> None:
    state = parse_config(
        "providers:\n  azure:\n    kind: openai\n"
        "    base_url: https://res.openai.azure.com/openai/deployments/gpt-4o-2024-11-20\n"
        "    api_key_env: AZURE_OPENAI_API_KEY\n    auth: api-key\n"
        "    api_version: '2024-10-21'\n",
        "turnout.yaml",
    )
    (azure,) = state.providers
    assert azure.auth is ApiKeyAuth.API_KEY
    assert azure.api_version == "2024-10-21"


def test_bad_auth_points_at_auth() -> None:
    error = _error(
        "providers:\n  az:\n    kind: openai\n    base_url: http://h/v1\n    auth: basic\n"
    )
    assert error.line == 5
    assert "providers.az.auth: auth 'basic' must be one of bearer|api-key" in str(error)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "    api_version: '2024-10-21'\n",
            "api_version apply to kind openai (Azure OpenAI), not to kind anthropic",
        ),
        ("    auth: api-key\n", "auth apply to kind openai (Azure OpenAI), not to kind anthropic"),
    ],
)
def test_azure_fields_on_another_kind_are_refused(extra: str, message: str) -> None:
    error = _error("providers:\n  claude:\n    kind: anthropic\n    base_url: http://h\n" + extra)
    assert error.line == 2
    assert message in str(error)


@pytest.mark.parametrize("version", ["latest", "2024-10", "2024-10-21-beta", "v1"])
def test_a_malformed_api_version_is_refused(version: str) -> None:
    error = _error(
        "providers:\n  az:\n    kind: openai\n    base_url: http://h/v1\n"
        f"    api_version: '{version}'\n"
    )
    assert f"api_version {version!r} must look like 2024-10-21" in str(error)


def test_bad_provider_name() -> None:
    error = _error("providers:\n  My Server:\n    kind: sim\n")
    assert error.line == 2
    assert "provider names are lowercase" in str(error)


def test_yaml_syntax_error_uses_the_yaml_mark() -> None:
    error = _error(
        """\
        versions:
          - id: sim/chat-2025-01-01
            params: {latency_ms: 20
        aliases:
          prod-chat: {version: sim/chat-2025-01-01}
        """
    )
    assert error.line is not None
    assert 3 <= error.line <= 4
    assert str(error).startswith(f"turnout.yaml:{error.line}: invalid YAML:")


def test_yaml_syntax_error_bad_indentation() -> None:
    error = _error("versions:\n  - id: sim/a-2025-01-01\n   params: {}\n")
    assert error.line == 3
    assert "invalid YAML" in str(error)


def test_yaml_error_at_end_of_stream_points_at_the_last_line() -> None:
    error = _error("versions: []\naliases: [\n")
    assert error.line == 2


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file(text: str) -> None:
    error = _error(text)
    assert error.line == 1
    assert "empty" in str(error)


def test_top_level_list_is_refused() -> None:
    error = _error("\n- id: sim/a-2025-01-01\n")
    assert error.line == 2
    assert "top level must be a mapping" in str(error)


def test_duplicate_alias_reports_the_second_one() -> None:
    error = _error(
        """\
        aliases:
          prod-chat:
            version: sim/chat-2025-01-01
          staging: {version: sim/chat-2025-01-01}
          prod-chat:
            version: sim/chat-2025-06-01
        """
    )
    assert error.line == 5
    assert str(error) == "turnout.yaml:5: aliases: duplicate key 'prod-chat' (first on line 2)"


def test_duplicate_key_inside_an_item() -> None:
    error = _error("versions:\n  - id: sim/a-2025-01-01\n    id: sim/b-2025-01-01\n")
    assert error.line == 3
    assert "versions[0]: duplicate key 'id'" in str(error)


def test_duplicate_version() -> None:
    error = _error(
        """\
        versions:
          - id: sim/chat-2025-01-01
          - id: openai/gpt-4o-2024-11-20
          - id: " sim/chat-2025-01-01"
        """
    )
    assert error.line == 4
    assert "version sim/chat-2025-01-01 is declared twice (first on line 2)" in str(error)


def test_config_errors_are_invalid_input() -> None:
    error = _error("")
    assert isinstance(error, InvalidInput)
    assert error.code == "config_error"
    assert error.path == "turnout.yaml"


def test_recursive_anchor_does_not_hang() -> None:
    error = _error("versions: &v\n  - *v\n")
    assert error.line is not None


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("versions:\n  - id: sim/a-2025-01-01\n  - sim/b\n", 3, "versions[1]: expected a mapping"),
        ("versions: {a: 1}\n", 1, "versions: expected a list"),
        ("aliases:\n  - prod\n", 1, "aliases: expected a mapping"),
        ("aliases:\n  2025:\n    version: sim/a-2025-01-01\n", 2, "keys must be strings"),
    ],
)
def test_wrong_shapes_name_no_internal_classes(text: str, line: int, message: str) -> None:
    error = _error(text)
    assert error.line == line
    assert message in str(error)
    assert "_Model" not in str(error)


def test_an_alias_may_declare_a_rollout_policy() -> None:
    text = textwrap.dedent(
        """\
        aliases:
          prod-chat:
            version: sim/b-2026-02-01
            rollout:
              steps: [5, 50, 100]
              min_samples: 300
              gates:
                - {metric: error_rate, max_ratio: 1.0}
        """
    )
    [alias] = parse_config(text, "turnout.yaml").aliases
    assert alias.rollout is not None
    assert [step.percent for step in alias.rollout.steps] == [5, 50, 100]
    assert alias.rollout.steps[0].min_samples == 300


def test_a_bad_rollout_policy_reports_its_line() -> None:
    text = textwrap.dedent(
        """\
        aliases:
          prod-chat:
            version: sim/b-2026-02-01
            rollout:
              steps: [50, 10, 100]
        """
    )
    with pytest.raises(ConfigError, match=r"turnout.yaml:4: .*must increase"):
        parse_config(text, "turnout.yaml")


def test_an_alias_may_declare_shadows_and_a_promotion_policy() -> None:
    text = textwrap.dedent(
        """\
        aliases:
          prod-chat:
            version: sim/b-2026-02-01
            shadow:
              - {candidate: sim/c-2026-03-01, sample: 0.25, max_rps: 5}
            promotion:
              suites: [qa]
              max_regression: 0.02
          other:
            version: sim/b-2026-02-01
            promotion: null
        """
    )
    prod, other = parse_config(text, "turnout.yaml").aliases
    assert prod.shadows is not None
    assert [(str(s.candidate), s.sample, s.max_rps) for s in prod.shadows] == [
        ("sim/c-2026-03-01", 0.25, 5.0)
    ]
    assert prod.promotion is not None
    assert prod.promotion.suites == ("qa",)
    assert prod.manages_promotion
    assert other.shadows is None  # not declared: left alone
    assert other.manages_promotion
    assert other.promotion is None  # declared null: cleared


@pytest.mark.parametrize(
    ("block", "line", "message"),
    [
        ("    shadow:\n      - {candidate: sim/c-2026-03-01, sample: 2}\n", 5, "sample"),
        ("    shadow:\n      - {candidate: sim/b-2026-02-01}\n", 4, "shadow itself"),
        ("    promotion: {suites: [qa], colour: red}\n", 4, "unknown key"),
    ],
)
def test_bad_shadow_or_promotion_blocks_report_their_line(
    block: str, line: int, message: str
) -> None:
    text = "aliases:\n  prod-chat:\n    version: sim/b-2026-02-01\n" + block
    with pytest.raises(ConfigError, match=rf"turnout.yaml:{line}: .*{message}"):
        parse_config(text, "turnout.yaml")


def test_the_commented_provider_examples_parse_once_uncommented() -> None:
    lines = example_config().splitlines()
    block: list[str] = []
    for line in lines[lines.index("# providers:") :]:
        if not line.startswith("#"):
            break
        block.append(line[2:])
    state = parse_config("\n".join(block) + "\n", "turnout.yaml")
    by_name = {p.name: p for p in state.providers}
    assert by_name["vllm-local"].api_key_env == "VLLM_API_KEY"
    assert by_name["azure"].auth is ApiKeyAuth.API_KEY
    assert by_name["azure"].api_version == "2024-10-21"
