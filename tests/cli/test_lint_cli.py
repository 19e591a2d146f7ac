"""``turnout lint`` through the real console script: exit codes, text, GitHub, JSON.

The CLI reads today's date from the system clock, so these tests only use ids
whose verdict does not change with the date (no retirement date in the catalog,
or one long past).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Run, error_line

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lint"

APP = (
    "import anthropic\n"
    "\n"
    "client = anthropic.Anthropic()\n"
    'client.messages.create(model="claude-3-5-sonnet-latest", max_tokens=1, messages=[])\n'
    'client.messages.create(model="claude-3-5-sonnet-20240620", max_tokens=1, messages=[])\n'
    'client.messages.create(model="claude-sonnet-4-6", max_tokens=1, messages=[])\n'
)


def write_app(root: Path) -> Path:
    (root / "src").mkdir()
    path = root / "src" / "app.py"
    path.write_text(APP, encoding="utf-8")
    (root / "settings.yaml").write_text("model: mistral-large-latest\n", encoding="utf-8")
    return path


def test_a_clean_tree_exits_0_with_an_ok_line(run_cli: Run, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text('client.create(model="claude-sonnet-4-6")\n')
    result = run_cli("lint", ".")
    assert result.stdout == "OK: no floating, retired or retiring model ids in 1 file scanned\n"
    assert result.stderr == ""


def test_findings_exit_1_with_one_line_each_and_a_summary(run_cli: Run, tmp_path: Path) -> None:
    write_app(tmp_path)
    result = run_cli("lint", ".", expect=1)
    assert result.stdout.splitlines() == [
        "settings.yaml:1:8: floating: 'mistral-large-latest' is a moving alias that the "
        "provider re-points (suggest: mistral-large-2512)",
        "src/app.py:4:31: floating: 'claude-3-5-sonnet-latest' is a moving alias that the "
        "provider re-points (suggest: claude-sonnet-4-6)",
        "src/app.py:5:31: retired: 'claude-3-5-sonnet-20240620' was retired on 2025-10-28; "
        "the provider's replacement is claude-sonnet-4-6; calls to it fail "
        "(suggest: claude-sonnet-4-6)",
        "3 problems (2 floating, 1 retired) in 2 files; 2 files scanned",
    ]
    assert error_line(result) == "error: lint found 3 model id problems"


def test_github_format_prints_workflow_annotations(run_cli: Run, tmp_path: Path) -> None:
    write_app(tmp_path)
    result = run_cli("lint", "src", "--format", "github", expect=1)
    assert result.stdout.splitlines() == [
        "::warning file=src/app.py,line=4,col=31,title=turnout lint%3A floating model id::"
        "'claude-3-5-sonnet-latest' is a moving alias that the provider re-points. "
        "Pin claude-sonnet-4-6 instead",
        "::error file=src/app.py,line=5,col=31,title=turnout lint%3A retired model id::"
        "'claude-3-5-sonnet-20240620' was retired on 2025-10-28; the provider's replacement "
        "is claude-sonnet-4-6; calls to it fail. Pin claude-sonnet-4-6 instead",
        "2 problems (1 floating, 1 retired) in 1 file; 1 file scanned",
    ]


def test_json_format_prints_a_list(run_cli: Run, tmp_path: Path) -> None:
    write_app(tmp_path)
    for args in (("lint", "--format", "json", "src"), ("--json", "lint", "src")):
        result = run_cli(*args, expect=1)
        data = json.loads(result.stdout)
        assert [(d["file"], d["line"], d["column"], d["kind"]) for d in data] == [
            ("src/app.py", 4, 31, "floating"),
            ("src/app.py", 5, 31, "retired"),
        ]
        assert data[1]["id"] == "claude-3-5-sonnet-20240620"
        assert data[1]["version_id"] == "anthropic/claude-3-5-sonnet-20240620"
        assert data[1]["suggestion"] == "claude-sonnet-4-6"
        assert data[1]["replacement"] == "claude-sonnet-4-6"
        assert data[1]["days_left"] < 0


def test_exclude_and_suppression(run_cli: Run, tmp_path: Path) -> None:
    app = write_app(tmp_path)
    text = app.read_text().replace(
        "max_tokens=1, messages=[])\n", "messages=[])  # turnout: ignore\n"
    )
    app.write_text(text)
    result = run_cli("lint", ".", "--exclude", "*.yaml")
    assert result.stdout.startswith("OK: ")


def test_bad_input_exits_2_with_one_line(run_cli: Run, tmp_path: Path) -> None:
    result = run_cli("lint", "missing-dir", expect=2)
    assert error_line(result) == "error: no such file or directory: missing-dir"
    result = run_cli("lint", ".", "--within", "-1", expect=2)
    assert error_line(result) == "error: --within must be 0 or more days, not -1"
    result = run_cli("lint", ".", "--format", "xml", expect=2)
    assert "--format must be one of text, json, github" in error_line(result)
    run_cli("lint", ".", "--within", "soon", expect=2, one_line=False)
    run_cli("lint", expect=2, one_line=False)


def test_the_fixture_tree_fails_with_its_known_findings(run_cli: Run) -> None:
    result = run_cli("lint", str(FIXTURES), "--format", "json", expect=1)
    places = {
        (Path(d["file"]).relative_to(FIXTURES).as_posix(), d["line"], d["kind"])
        for d in json.loads(result.stdout)
    }
    # The verdicts that do not depend on today's date.
    assert {
        ("app/chat.py", 20, "floating"),
        ("app/chat.py", 30, "retired"),
        ("config/llm.yaml", 6, "floating"),
        ("config/prompts.json", 3, "floating"),
        ("turnout.yaml", 4, "retired"),
    } <= places
    assert not {(file, line) for file, line, _ in places} & {("app/chat.py", 34)}
