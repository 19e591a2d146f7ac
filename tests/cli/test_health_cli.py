"""``turnout health`` through the real console script."""

from __future__ import annotations

V1 = "sim/chat-2025-01-01"
V2 = "sim/chat-2025-06-01"


def test_health_reports_versions_and_weak_fallbacks(run, run_json, error_line) -> None:
    assert "no aliases yet" in run("health").stdout
    run("version", "add", V1)
    run("version", "add", V2)
    run("alias", "set", "prod-chat", V1, "--fallback", V2)
    report = run_json("health")
    assert report["healthy"] is True
    assert [v["version"] for v in report["versions"]] == [V1, V2]
    assert report["versions"][1]["uses"] == ["prod-chat (fallback 1)"]
    human = run("health").stdout
    assert "prod-chat (primary)" in human
    assert "healthy" in human
    run("alias", "policy", "prod-chat", "--suite", "arithmetic", "--reason", "guard")
    weak = run("health", "--fail", expect=1, one_line=False)
    assert "has no eval run of suite 'arithmetic'" in weak.stdout
    assert "--window-minutes" in error_line(run("health", "--window-minutes", "0", expect=2))


def test_plan_flags_a_fallback_that_has_fallen_behind(run, tmp_path) -> None:
    run("version", "add", V1)
    run("version", "add", V2)
    run("alias", "set", "prod-chat", V1, "--fallback", V2)
    run("alias", "policy", "prod-chat", "--suite", "arithmetic", "--reason", "guard")
    config = tmp_path / "turnout.yaml"
    config.write_text(f"aliases:\n  prod-chat:\n    version: {V1}\n    fallbacks: [{V2}]\n")
    planned = run("plan", "-f", str(config))
    assert f"fallback {V2} has no eval run of suite 'arithmetic'" in planned.stderr
