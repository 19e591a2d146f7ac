"""A lint run over the fixture tree finds exactly the known problems, and nothing else."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from turnout.catalog_file import load_bundled_catalog
from turnout.domain.lint import FindingKind, IdLinter
from turnout.errors import InvalidInput
from turnout.lint import LintReport, scan
from turnout.lint.report import github_lines, json_data, summary, text_lines
from turnout.lint.walker import MAX_BYTES

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lint"
TODAY = date(2026, 11, 25)

FLOATING = FindingKind.FLOATING
RETIRED = FindingKind.RETIRED
RETIRING = FindingKind.RETIRING

EXPECTED = {
    ("app/chat.py", 11, FLOATING),  # os.getenv("SUPPORT_MODEL", "o3")
    ("app/chat.py", 16, FLOATING),  # model="gpt-4o" in an OpenAI call
    ("app/chat.py", 20, FLOATING),  # claude-3-5-sonnet-latest in an Anthropic call
    ("app/chat.py", 30, RETIRED),  # claude-3-5-sonnet-20240620
    ("config/llm.yaml", 3, RETIRING),  # claude-sonnet-4-5-20250929, 5 days left
    ("config/llm.yaml", 6, FLOATING),  # mistral-large-latest
    ("config/prompts.json", 3, FLOATING),  # gemini-1.5-pro
    ("config/prompts.json", 6, RETIRED),  # openai/gpt-4o-2024-05-13
    ("config/settings.toml", 3, RETIRED),  # gpt-4
    ("config/settings.toml", 4, FLOATING),  # deepseek-v4-pro in an inline table
    ("deploy/.env", 3, FLOATING),  # OPENAI_MODEL=gpt-4o-mini
    ("turnout.yaml", 4, RETIRED),  # a declared version
    ("turnout.yaml", 8, RETIRED),  # a fallback
    ("web/summarise.ts", 9, FLOATING),  # model: "gpt-4.1-mini"
}


@pytest.fixture(scope="module")
def report() -> LintReport:
    return scan([FIXTURES], IdLinter(load_bundled_catalog(), TODAY))


def relative(path: str) -> str:
    return Path(path).relative_to(FIXTURES).as_posix()


def test_the_fixture_tree_has_exactly_the_known_findings(report: LintReport) -> None:
    got = {(relative(f.path), f.line, f.kind) for f in report.findings}
    assert got == EXPECTED
    assert report.files_scanned == 7  # README.md is not read


def test_findings_point_at_the_id_and_carry_the_catalog_suggestion(report: LintReport) -> None:
    by_place = {(relative(f.path), f.line): f for f in report.findings}
    gpt4o = by_place[("app/chat.py", 16)]
    assert (gpt4o.column, gpt4o.problem.text) == (16, "gpt-4o")
    assert gpt4o.problem.suggestions == ("gpt-4o-2024-11-20", "gpt-4o-2024-08-06")
    fallback = by_place[("turnout.yaml", 4)]
    assert fallback.problem.suggestions == ("anthropic/claude-opus-4-8",)


def test_suppressed_lookalike_and_fine_ids_are_not_reported(report: LintReport) -> None:
    texts = {f.problem.text for f in report.findings}
    assert "gpt-4o-mini" in texts  # the .env one; the suppressed call on chat.py:34 is not
    assert ("app/chat.py", 34) not in {(relative(f.path), f.line) for f in report.findings}
    for fine in ("claude-sonnet-4-6", "prod-chat", "gpt-4-turbo", "gemini-2.5-flash-lite"):
        assert fine not in texts


def test_the_three_formats(report: LintReport) -> None:
    lines = text_lines(report)
    assert len(lines) == len(EXPECTED) + 1
    chat = str(FIXTURES / "app" / "chat.py")
    assert lines[1] == (
        f"{chat}:16:16: floating: the catalog lists 'gpt-4o' as a floating alias; it retires "
        "on 2027-01-14 (50 days left) (suggest: gpt-4o-2024-11-20 or gpt-4o-2024-08-06)"
    )
    assert (
        lines[-1] == "14 problems (8 floating, 5 retired, 1 retiring) in 7 files; 7 files scanned"
    )
    annotations = github_lines(report)
    assert annotations[3].startswith(f"::error file={chat},line=30,col=16,")
    assert "title=turnout lint%3A retired model id::" in annotations[3]
    assert annotations[0].startswith("::warning ")
    data = json.loads(json.dumps(json_data(report)))
    assert data[1]["kind"] == "floating"
    assert data[1]["suggestion"] == "gpt-4o-2024-11-20"
    assert {item["file"] for item in data} >= {chat}


def test_a_clean_run_says_ok(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text('client.create(model="claude-sonnet-4-6")\n')
    report = scan([tmp_path], IdLinter(load_bundled_catalog(), TODAY))
    assert report.findings == ()
    assert summary(report) == "OK: no floating, retired or retiring model ids in 1 file scanned"


def test_the_walk_skips_vendored_binary_huge_and_excluded_files(tmp_path: Path) -> None:
    bad = 'create(model="gpt-4o")\n'
    for skipped in ("node_modules/sdk", ".venv/lib", ".git/hooks", "build", "__pycache__"):
        (tmp_path / skipped).mkdir(parents=True)
        (tmp_path / skipped / "x.py").write_text(bad)
    (tmp_path / "binary.py").write_bytes(b"\0" + bad.encode())
    (tmp_path / "huge.py").write_text(bad + "#" * MAX_BYTES)
    (tmp_path / "latin1.py").write_bytes(b"# \xe9\n" + bad.encode())
    (tmp_path / "generated").mkdir()
    (tmp_path / "generated" / "client.py").write_text(bad)
    (tmp_path / "app_test.py").write_text(bad)
    (tmp_path / "app.py").write_text(bad)
    linter = IdLinter(load_bundled_catalog(), TODAY)
    report = scan([tmp_path, tmp_path / "app.py"], linter, ["generated", "*_test.py"])
    assert [Path(f.path).name for f in report.findings] == ["app.py"]
    assert report.files_scanned == 1


def test_a_named_file_is_read_even_inside_a_skipped_directory(tmp_path: Path) -> None:
    vendored = tmp_path / "node_modules" / "x.js"
    vendored.parent.mkdir()
    vendored.write_text('create({ model: "gpt-4o" })\n')
    report = scan([vendored], IdLinter(load_bundled_catalog(), TODAY))
    assert len(report.findings) == 1


def test_a_missing_path_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no such file or directory"):
        scan([tmp_path / "nope"], IdLinter(load_bundled_catalog(), TODAY))
