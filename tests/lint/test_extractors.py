"""Each extractor finds strings in model-id positions, at the right line and column."""

from __future__ import annotations

import pytest

from turnout.lint.base import Candidate, is_suppressed, line_starts, position
from turnout.lint.dotenv import DotenvExtractor
from turnout.lint.javascript import JavaScriptExtractor
from turnout.lint.json_config import JsonExtractor
from turnout.lint.python_source import PythonExtractor
from turnout.lint.registry import ExtractorRegistry
from turnout.lint.toml_config import TomlExtractor
from turnout.lint.yaml_config import YamlExtractor


def found(extractor: object, text: str) -> list[tuple[int, int, str]]:
    candidates = sorted(extractor.candidates(text))  # type: ignore[attr-defined]
    return [(c.line, c.column, c.text) for c in candidates]


def test_python_reads_keywords_dicts_assignments_defaults_and_getenv() -> None:
    text = (
        "import os\n"
        'client.chat.completions.create(model="gpt-4o", messages=[])\n'
        'body = {"model": "o3", "other": "gpt-4"}\n'
        'MODEL = "a"\n'
        'self.chat_model: str = "b"\n'
        'def f(x, model_name="c", *, judge_model="d"): ...\n'
        'M = os.getenv("OPENAI_MODEL", "e")\n'
        'AzureOpenAI(deployment_name="f", engine="g")\n'
    )
    assert found(PythonExtractor(), text) == [
        (2, 39, "gpt-4o"),
        (3, 19, "o3"),
        (4, 10, "a"),
        (5, 25, "b"),
        (6, 22, "c"),
        (6, 42, "d"),
        (7, 32, "e"),
        (8, 30, "f"),
        (8, 42, "g"),
    ]


def test_python_ignores_positional_arguments_messages_and_other_names() -> None:
    text = (
        'enc = tiktoken.encoding_for_model("gpt-4o")\n'
        'print("we use gpt-4o")\n'
        'SUMMARY = "gpt-4o"\n'
        'models = ["gpt-4o"]\n'
        "call(model=name)\n"
    )
    assert found(PythonExtractor(), text) == []


def test_python_columns_count_characters_and_skip_string_prefixes() -> None:
    assert found(PythonExtractor(), 'print("é", model=r"gpt-4o")\n') == [(1, 20, "gpt-4o")]


def test_python_that_does_not_parse_yields_nothing() -> None:
    assert found(PythonExtractor(), 'def broken(:\n    model="gpt-4o"\n') == []


def test_javascript_reads_object_keys_quoted_keys_and_assignments() -> None:
    text = (
        'await openai.chat.completions.create({ model: "gpt-4o", messages });\n'
        "const body = { \"model\": 'o3' };\n"
        "let model = `gpt-4.1`;\n"
        "this.modelName = 'claude-x';\n"
    )
    assert found(JavaScriptExtractor(), text) == [
        (1, 48, "gpt-4o"),
        (2, 26, "o3"),
        (3, 14, "gpt-4.1"),
        (4, 19, "claude-x"),
    ]


def test_javascript_skips_comments_comparisons_and_templates() -> None:
    text = (
        '// model: "gpt-4o"\n'
        ' * model: "gpt-4o"\n'
        'const u = "http://x"; // model: "gpt-4"\n'
        'if (model === "gpt-4o") {}\n'
        "const m = { model: `gpt-${v}` };\n"
    )
    assert found(JavaScriptExtractor(), text) == []


def test_yaml_reads_model_keys_at_any_depth_with_positions() -> None:
    text = (
        "llm:\n"
        "  model: gpt-4o\n"
        '  nested: {model_name: "o3"}\n'
        "steps:\n"
        "  - engine: gpt-4\n"
        "  - llm_model: 3\n"
    )
    assert found(YamlExtractor(), text) == [(2, 10, "gpt-4o"), (3, 25, "o3"), (5, 13, "gpt-4")]


def test_yaml_reads_turnout_versions_and_alias_targets_only_in_turnout_files() -> None:
    turnout_yaml = (
        "versions:\n"
        "  - id: openai/gpt-4o\n"
        "aliases:\n"
        "  chat:\n"
        "    version: openai/o3\n"
        "    fallbacks: [openai/gpt-4]\n"
    )
    assert found(YamlExtractor(), turnout_yaml) == [
        (2, 9, "openai/gpt-4o"),
        (5, 14, "openai/o3"),
        (6, 17, "openai/gpt-4"),
    ]
    assert found(YamlExtractor(), "services:\n  api:\n    version: gpt-4o\n    id: o3\n") == []


def test_yaml_that_does_not_parse_falls_back_to_model_lines() -> None:
    text = "spec: {{ .Values.x }}\n  model: gpt-4o  # comment\n  other: gpt-4\n"
    assert found(YamlExtractor(), text) == [(2, 10, "gpt-4o")]


def test_json_reads_model_keys_and_skips_escaped_ones() -> None:
    text = '{\n  "model": "gpt-4o",\n  "note": "say \\"model\\": \\"o3\\"",\n  "engine":"gpt-4"}\n'
    assert found(JsonExtractor(), text) == [(2, 13, "gpt-4o"), (4, 13, "gpt-4")]


def test_toml_reads_assignments_and_inline_tables_not_comments() -> None:
    text = 'model = "gpt-4o"\nbackup = { model_name = \'o3\' }\n# model = "gpt-4"\nname = "model"\n'
    assert found(TomlExtractor(), text) == [(1, 10, "gpt-4o"), (2, 26, "o3")]


def test_dotenv_reads_model_variables_only() -> None:
    text = (
        "OPENAI_MODEL=gpt-4o  # comment\n"
        'export judge_model="o3"\n'
        "OPENAI_API_KEY=sk-123\n"
        "# DEFAULT_MODEL=gpt-4\n"
    )
    assert found(DotenvExtractor(), text) == [(1, 14, "gpt-4o"), (2, 21, "o3")]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("app.py", "python"),
        ("stubs.PYI", "python"),
        ("index.tsx", "javascript"),
        ("server.mjs", "javascript"),
        ("config.yml", "yaml"),
        ("package.json", "json"),
        ("pyproject.toml", "toml"),
        (".env", "dotenv"),
        (".env.production", "dotenv"),
        ("prod.env", "dotenv"),
        ("README.md", None),
        ("Makefile", None),
        (".gitignore", None),
    ],
)
def test_the_registry_picks_an_extractor_by_suffix(name: str, kind: str | None) -> None:
    extractor = ExtractorRegistry().for_name(name)
    assert (extractor.name if extractor else None) == kind


def test_two_extractors_may_not_claim_one_suffix() -> None:
    with pytest.raises(ValueError, match=r"\.py"):
        ExtractorRegistry([PythonExtractor(), PythonExtractor()])


def test_suppression_comments_and_positions() -> None:
    assert is_suppressed('x(model="gpt-4o")  # turnout: ignore')
    assert is_suppressed('x({model: "gpt-4o"}) // turnout:ignore')
    assert not is_suppressed('x(model="gpt-4o")  # turnout')
    starts = line_starts("ab\ncd\n")
    assert position(starts, 0) == (1, 1)
    assert position(starts, 4) == (2, 2)
    assert Candidate(1, 2, "x") < Candidate(2, 1, "a")
