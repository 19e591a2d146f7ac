"""``turnout rollout ...`` and ``turnout controller`` through the real console script."""

from __future__ import annotations

from pathlib import Path

V1 = "sim/chat-2025-01-01"
V2 = "sim/chat-2025-06-01"


def _alias(run) -> None:
    run("version", "add", V1)
    run("version", "add", V2)
    run("alias", "set", "prod-chat", V1)


def test_rollout_lifecycle(run, run_json, error_line, tmp_path: Path) -> None:
    _alias(run)
    assert "no rollouts yet" in run("rollout", "list").stdout

    policy = tmp_path / "policy.yaml"
    policy.write_text("steps: [5, 50, 100]\nmin_samples: 300\napproval_before: [50]\n")
    started = run_json("rollout", "start", "prod-chat", "--to", V2, "--policy", str(policy))
    assert (started["status"], started["weight_pct"], started["stable"]) == ("running", 5.0, V1)
    assert started["plan"]["steps"][0]["min_samples"] == 300

    status = run_json("rollout", "status", "prod-chat")
    assert status["samples"] == {"canary": 0, "stable": 0, "canary_this_step": 0}
    assert {g["metric"] for g in status["gates"]} == {"error_rate", "latency_p95"}
    assert {g["verdict"] for g in status["gates"]} == {"insufficient"}  # no data is not harm
    human = run("rollout", "status", "prod-chat").stdout
    assert "step 1/3" in human
    assert "canary at 5%" in human

    again = run("rollout", "start", "prod-chat", "--to", V2, expect=2)
    assert "abort it first" in error_line(again)

    assert run_json("rollout", "pause", "prod-chat")["status"] == "paused"
    assert run_json("rollout", "resume", "prod-chat")["status"] == "running"
    refused = run("rollout", "approve", "prod-chat", expect=2)
    assert "nothing awaits approval" in error_line(refused)

    # the controller looks once: no traffic yet, so it holds
    assert run("controller", "--once").returncode == 0
    assert run_json("rollout", "status", "prod-chat")["status"] == "running"

    aborted = run_json("rollout", "abort", "prod-chat", "--reason", "not today")
    assert aborted["status"] == "aborted"
    assert run_json("alias", "show", "prod-chat")["target"] == {"version": V1, "fallbacks": []}
    listed = run("rollout", "list", "prod-chat").stdout
    assert "aborted" in listed


def test_bad_rollout_input_exits_2_and_writes_nothing(run, run_json, error_line, tmp_path) -> None:
    _alias(run)
    cases = [
        (("rollout", "start", "prod-chat", "--to", V2, "--steps", "1,10"), "100%"),
        (("rollout", "start", "prod-chat", "--to", V2, "--steps", "ten,100"), "number"),
        (("rollout", "start", "prod-chat", "--to", "sim/nope-2026-01-01"), "not registered"),
        (("rollout", "start", "nope", "--to", V2), "does not exist"),
        (("rollout", "start", "prod-chat", "--to", V1), "nothing to roll out"),
        (("rollout", "start", "prod-chat", "--to", V2, "--policy", str(tmp_path / "x")), "read"),
        (("rollout", "status", "prod-chat"), "no rollout"),
        (("rollout", "abort", "prod-chat"), "no rollout"),
    ]
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps: [1, 100]\ncolour: red\n")
    cases.append((("rollout", "start", "prod-chat", "--to", V2, "--policy", str(bad)), "colour"))
    for args, message in cases:
        result = run(*args, expect=2)
        assert message in error_line(result), args
    assert run_json("rollout", "list") == []
    assert run_json("alias", "show", "prod-chat")["revision"] == 1
