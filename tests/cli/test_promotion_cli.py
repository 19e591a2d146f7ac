"""``turnout alias policy`` with real eval runs: a flip without evidence exits 2 naming
what is missing; after ``turnout eval run`` on both versions it goes through and the
score is stamped into the version's record."""

from __future__ import annotations

from pathlib import Path

SUITE = str(Path(__file__).parents[2] / "examples" / "evals" / "arithmetic.yaml")
V1 = "sim/chat-2025-01-01"
V2 = "sim/chat-2025-06-01"


def test_a_policy_demands_evidence_before_a_flip(run, run_json, error_line) -> None:
    run("version", "add", V1, "--param", "quality=0.9")
    run("version", "add", V2, "--param", "quality=0.9")
    run("alias", "set", "prod-chat", V1)
    policy = run_json(
        "alias", "policy", "prod-chat", "--suite", "arithmetic", "--max-regression", "0.5"
    )
    assert policy["revision"]["action"] == "policy"
    assert policy["revision"]["target"]["promotion"]["suites"] == ["arithmetic"]
    assert "(promotion policy)" in run("alias", "show", "prod-chat").stdout

    refused = error_line(run("alias", "set", "prod-chat", V2, expect=2))
    assert f"an eval run of suite 'arithmetic' on {V2}" in refused
    assert f"turnout eval run SUITE_FILE --version {V2}" in refused
    assert run_json("alias", "show", "prod-chat")["target"]["version"] == V1

    run("eval", "run", SUITE, "--version", V2)
    refused = error_line(run("alias", "set", "prod-chat", V2, expect=2))
    assert f"on the current version {V1}" in refused
    run("eval", "run", SUITE, "--version", V1)
    flipped = run_json("alias", "set", "prod-chat", V2)
    assert flipped["revision"]["target"]["version"] == V2
    scores = run_json("version", "show", V2)["eval_scores"]
    assert 0.0 <= scores["eval:arithmetic"] <= 1.0

    assert run_json("alias", "rollback", "prod-chat")["revision"]["target"]["version"] == V1
    run("alias", "policy", "prod-chat", "--clear", "--reason", "done")
    assert "promotion" not in run_json("alias", "show", "prod-chat")["target"]


def test_bad_policy_input_exits_2_and_writes_nothing(run, run_json, error_line) -> None:
    run("version", "add", V1)
    run("alias", "set", "prod-chat", V1)
    for args, message in [
        (("alias", "policy", "prod-chat"), "needs suites or min_shadow_pairs"),
        (("alias", "policy", "prod-chat", "--suite", "a", "--min-score", "3"), "min_score"),
        (("alias", "policy", "prod-chat", "--clear"), "no promotion policy"),
        (("alias", "policy", "prod-chat", "--clear", "--suite", "a"), "--clear"),
        (("alias", "policy", "nope", "--suite", "a"), "does not exist"),
    ]:
        assert message in error_line(run(*args, expect=2)), args
    assert run_json("alias", "show", "prod-chat")["revision"] == 1
