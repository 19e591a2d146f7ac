"""Suite files: both formats load, and every problem names its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from turnout.errors import ConfigError
from turnout.eval_file import load_suite, parse_jsonl_suite, parse_yaml_suite

ROOT = Path(__file__).resolve().parents[1]

GOOD = """\
name: support
scorers: [numeric]
cases:
  - id: add
    prompt: "What is 17 + 25?"
    expected: 42
  - id: json
    messages:
      - {role: system, content: "Answer in JSON."}
      - {role: user, content: "Who are you?"}
    schema: {type: object, required: [name]}
    scorers:
      - json_schema
      - {name: contains, weight: 0.5, value: name}
    params: {temperature: 0}
"""


def test_a_yaml_suite_loads() -> None:
    suite = parse_yaml_suite(GOOD, "s.yaml")
    assert suite.name == "support"
    add, js = suite.cases
    assert add.messages == ({"role": "user", "content": "What is 17 + 25?"},)
    assert add.expected == "42"
    assert [s.name for s in suite.scorers_for(add)] == ["numeric"]
    assert [(s.name, s.weight) for s in suite.scorers_for(js)] == [
        ("json_schema", 1.0),
        ("contains", 0.5),
    ]
    assert js.scorers[1].options == {"value": "name"}
    assert js.params == {"temperature": 0}
    assert js.prompt == "Who are you?"


def test_a_jsonl_suite_loads_and_matches_the_yaml_hash() -> None:
    text = (
        '{"id": "add", "prompt": "What is 17 + 25?", "expected": "42", "scorers": ["numeric"]}\n'
        "\n"
        '{"prompt": "Name a colour", "expected": "red", "scorers": [{"name": "contains"}]}\n'
    )
    suite = parse_jsonl_suite(text, "colours.jsonl", "colours")
    assert suite.name == "colours"
    assert [case.id for case in suite.cases] == ["add", "2"]
    yaml_twin = parse_yaml_suite(
        "name: other\ncases:\n"
        '  - {id: add, prompt: "What is 17 + 25?", expected: "42", scorers: [numeric]}\n'
        "  - {prompt: Name a colour, expected: red, scorers: [{name: contains}]}\n",
        "t.yaml",
    )
    assert yaml_twin.suite_hash == suite.suite_hash


def test_load_suite_picks_the_format_by_suffix(tmp_path: Path) -> None:
    jsonl = tmp_path / "smoke.jsonl"
    jsonl.write_text('{"prompt": "hi", "expected": "hello"}\n')
    assert load_suite(jsonl).name == "smoke"
    with pytest.raises(ConfigError, match=r"\.yaml, \.yml or \.jsonl"):
        load_suite(tmp_path / "suite.txt")
    with pytest.raises(ConfigError, match="cannot read suite file"):
        load_suite(tmp_path / "missing.yaml")


def test_the_shipped_example_loads() -> None:
    suite = load_suite(ROOT / "examples" / "evals" / "arithmetic.yaml")
    assert suite.name == "arithmetic"
    assert len(suite.cases) >= 10


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("", 1, "the file is empty"),
        ("- a\n- b\n", 1, "expected a mapping"),
        ("cases:\n  - {prompt: hi, expected: x}\n", 1, "field 'name' required"),
        ("name: s\ncolour: red\ncases: []\n", 2, "colour: unknown key"),
        ("name: s\ncases: []\n", 2, "cases: must be a non-empty list"),
        (
            "name: s\ncases:\n  - prompt: hi\n    expected: x\n  - prompt: hi\n",
            5,
            "nothing to score",
        ),
        ("name: s\ncases:\n  - {prompt: hi, messages: [], expected: x}\n", 3, "exactly one of"),
        (
            "name: s\ncases:\n  - prompt: hi\n    expected: x\n    scorers:\n      - exact\n"
            "      - exactly\n",
            7,
            "cases[0].scorers[1]: unknown scorer 'exactly'",
        ),
        (
            "name: s\ncases:\n  - prompt: hi\n    scorers:\n      - {name: regex, pattern: '('}\n",
            5,
            "invalid pattern",
        ),
        (
            "name: s\ncases:\n  - prompt: hi\n    schema: {type: nope}\n"
            "    scorers: [json_schema]\n",
            5,
            "invalid JSON schema",
        ),
        (
            "name: s\nscorers: [numeric]\ncases:\n  - prompt: a\n    expected: 1\n"
            "  - prompt: b\n    expected: many\n",
            6,
            "cases[1]: scorer 'numeric': expected 'many' is not a number",
        ),
        (
            "name: s\ncases:\n  - {id: a, prompt: x, expected: y}\n"
            "  - {id: a, prompt: z, expected: y}\n",
            4,
            "case id 'a' is used twice (first on line 3)",
        ),
        ("name: s\ncases:\n  - prompt: x\n    expected: y\n    expected: z\n", 5, "duplicate key"),
        (
            "name: s\ncases:\n  - prompt: x\n    expected: y\n"
            "    scorers: [{name: exact, weight: -1}]\n",
            5,
            "weight must be positive",
        ),
        (
            "name: s\ncases:\n  - expected: y\n    messages:\n      - {role: user}\n",
            5,
            "'content' must be a string",
        ),
        (
            "name: s\ncases:\n  - expected: y\n    messages:\n      - {role: robot, content: x}\n",
            4,
            "role must be one of",
        ),
        ("name: s\ncases:\n  - prompt: x\n    expected: [1]\n", 4, "string or a number"),
        ("name: s\ncases:\n  - prompt: x\n    expected: y\n    params: {t: [1]}\n", 5, "param"),
        ("name: s\ncases:\n  - prompt: [unclosed\n", 3, "invalid YAML"),
        ("name: bad name!\ncases:\n  - {prompt: x, expected: y}\n", 1, "suite name"),
    ],
)
def test_yaml_errors_carry_line_numbers(text: str, line: int, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_yaml_suite(text, "suite.yaml")
    assert raised.value.line == line, raised.value.message
    assert message in raised.value.message
    assert raised.value.message.startswith(f"suite.yaml:{line}: ")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('{"prompt": "a", "expected": "1"}\n{"prompt": "b", "expected": "1"\n', 2, "invalid JSON"),
        ('{"prompt": "a", "expected": "1"}\n\n["not", "a", "case"]\n', 3, "expected a mapping"),
        ('{"prompt": "a"}\n', 1, "nothing to score"),
        ('{"prompt": "a", "expected": "1", "scorer": "exact"}\n', 1, "scorer: unknown key"),
        ("\n\n", 1, "no cases"),
    ],
)
def test_jsonl_errors_carry_line_numbers(text: str, line: int, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_jsonl_suite(text, "cases.jsonl", "cases")
    assert raised.value.line == line, raised.value.message
    assert message in raised.value.message
