"""``turnout eval ...`` through the real console script, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = str(ROOT / "examples" / "evals" / "arithmetic.yaml")
V1 = "sim/chat-2025-01-01"
V2 = "sim/chat-2025-06-01"


def test_run_list_show_compare(run, run_json, error_line) -> None:
    run("version", "add", V1, "--param", "quality=0.5")
    run("version", "add", V2, "--param", "quality=1.0")
    run("alias", "set", "prod-chat", V2)
    assert "no eval runs yet" in run("eval", "list").stdout

    first = run_json("eval", "run", EXAMPLE, "--version", V1, "--concurrency", "3")
    assert first["suite"] == "arithmetic"
    assert first["version"] == V1
    assert len(first["suite_hash"]) == 64
    assert first["aggregate"]["cases"] == len(first["results"]) == 10
    assert 0.0 < first["aggregate"]["mean_score"] < 1.0

    human = run("eval", "run", EXAMPLE, "--alias", "prod-chat", "--threshold", "0.9").stdout
    assert "eval run 2: suite arithmetic on sim/chat-2025-06-01 (alias prod-chat)" in human
    assert "10/10 (100%) >= 0.9" in human

    listed = run_json("eval", "list")
    assert [r["id"] for r in listed] == [2, 1]
    assert "results" not in listed[0]
    assert [r["id"] for r in run_json("eval", "list", "--version", V1)] == [1]
    assert run_json("eval", "list", "--suite", "other") == []
    assert "arithmetic" in run("eval", "list").stdout

    shown = run_json("eval", "show", "1")
    assert shown["id"] == 1
    assert len(shown["results"]) == 10
    table = run("eval", "show", "1").stdout
    scores = [float(line.split("│")[2]) for line in table.splitlines() if "The answer is" in line]
    assert len(scores) == 10
    assert scores == sorted(scores)  # worst first

    compared = run_json("eval", "compare", "1", "2")
    assert compared["paired_cases"] == 10
    interval = compared["interval"]
    assert interval["mean_difference"] == 1.0 - first["aggregate"]["mean_score"]
    assert interval["low"] <= interval["mean_difference"] <= interval["high"]
    assert compared["losses"] == 0
    assert compared["notes"] == []
    assert "95% CI" in run("eval", "compare", "1", "2").stdout

    failed = run("eval", "run", EXAMPLE, "--version", V1, "--fail-under", "0.99", expect=1)
    assert "below --fail-under 0.99" in error_line(failed)
    assert "eval run 3" in failed.stdout  # the run is stored and summarised all the same
    assert run("eval", "run", EXAMPLE, "--version", V2, "--fail-under", "0.99").returncode == 0


def test_bad_eval_input_exits_2_and_writes_nothing(run, run_json, error_line, tmp_path) -> None:
    run("version", "add", V1)
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: s\ncases:\n  - prompt: hi\n    expected: x\n    scorers: [exactly]\n")
    cases = [
        (("eval", "run", str(bad), "--version", V1), "bad.yaml:5: cases[0].scorers[0]"),
        (("eval", "run", str(tmp_path / "missing.yaml"), "--version", V1), "cannot read"),
        (("eval", "run", EXAMPLE), "exactly one of --version or --alias"),
        (("eval", "run", EXAMPLE, "--version", V1, "--alias", "a"), "exactly one"),
        (("eval", "run", EXAMPLE, "--version", "sim/nope-2026-01-01"), "not registered"),
        (("eval", "run", EXAMPLE, "--alias", "nope"), "does not exist"),
        (("eval", "run", EXAMPLE, "--version", V1, "--concurrency", "0"), "--concurrency"),
        (("eval", "run", EXAMPLE, "--version", V1, "--threshold", "2"), "--threshold"),
        (("eval", "run", EXAMPLE, "--version", V1, "--fail-under", "-1"), "--fail-under"),
        (("eval", "show", "x"), "a run id is a number"),
        (("eval", "show", "7"), "eval run 7 does not exist"),
        (("eval", "compare", "1", "0"), "positive"),
        (("eval", "compare", "1", "2"), "does not exist"),
    ]
    for args, message in cases:
        result = run(*args, expect=2)
        assert message in error_line(result), args
    assert run_json("eval", "list") == []
    refused = run_json("eval", "run", EXAMPLE, "--version", "sim/nope-2026-01-01", expect=2)
    assert refused["error"]["code"] == "not_found"
