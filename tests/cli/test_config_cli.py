"""``turnout init|plan|apply``: the registry as code, through the real console script."""

from __future__ import annotations

from pathlib import Path

FLOATING_FILE = """\
versions:
  - id: sim/chat-2025-01-01
    params: {quality: 0.9}
  - id: openai/gpt-4o
aliases:
  support:
    version: sim/chat-2025-01-01
"""

SCHEMA_ERROR_FILE = """\
versions:
  - id: sim/chat-2025-01-01
    params: {quality: 0.9}
    promt_version: support-v12
"""

PROTECTED_FILE = """\
versions:
  - id: sim/chat-2025-01-01
aliases:
  prod:
    version: sim/chat-2025-01-01
    protected: true
"""


def test_init_plan_apply(run, run_json, error_line, tmp_path: Path) -> None:
    path = tmp_path / "turnout.yaml"
    file = str(path)
    assert "wrote" in run("init", file).stdout
    example = path.read_text(encoding="utf-8")
    assert "versions:" in example
    assert "aliases:" in example
    path.write_text("# edited\n" + example, encoding="utf-8")
    assert "--force" in error_line(run("init", file, expect=2))
    assert path.read_text(encoding="utf-8").startswith("# edited")  # not overwritten
    run("init", file, "--force")
    assert path.read_text(encoding="utf-8") == example

    # The example declares a protected alias, so plan (checked as apply) needs a reason.
    planned = run("plan", "-f", file, "--reason", "initial").stdout
    for expected in (
        "+ version sim/chat-2025-01-01",
        "+ version sim/chat-2025-06-01",
        "+ alias prod-chat -> sim/chat-2025-01-01",
        "+ alias staging-chat -> sim/chat-2025-06-01",
        "4 to add",
    ):
        assert expected in planned, expected
    drift = run_json("plan", "-f", file, "--check", "--reason", "initial", expect=1)
    assert drift["applied"] is False
    assert sorted((c["kind"], c["subject"]) for c in drift["changes"]) == [
        ("add_version", "sim/chat-2025-01-01"),
        ("add_version", "sim/chat-2025-06-01"),
        ("create_alias", "prod-chat"),
        ("create_alias", "staging-chat"),
    ]
    # plan wrote nothing
    assert run_json("version", "list") == []
    assert run_json("audit") == []

    applied = run_json("apply", "-f", file, "--reason", "initial")
    assert applied["applied"] is True
    assert len(applied["changes"]) == 4

    assert "No changes" in run("plan", "-f", file, "--check").stdout

    prod = run_json("alias", "show", "prod-chat")
    assert prod["protected"] is True
    assert prod["target"] == {
        "version": "sim/chat-2025-01-01",
        "fallbacks": ["sim/chat-2025-06-01"],
    }
    versions = {v["id"]: v for v in run_json("version", "list")}
    assert versions["sim/chat-2025-01-01"]["params"]["quality"] == 0.9
    assert versions["sim/chat-2025-01-01"]["prompt_version"] == "support-v12"

    # drift: an alias flipped by hand shows up in plan --check (exit 1, one line)
    run("alias", "set", "staging-chat", "sim/chat-2025-01-01")
    assert "differs" in error_line(run("plan", "-f", file, "--check", expect=1))


def test_apply_refuses_bad_files_and_writes_nothing(
    run, run_json, error_line, tmp_path: Path
) -> None:
    schema = tmp_path / "schema.yaml"
    schema.write_text(SCHEMA_ERROR_FILE, encoding="utf-8")
    message = error_line(run("apply", "-f", str(schema), expect=2))
    assert f"{schema}:4:" in message
    assert "promt_version" in message

    floating = tmp_path / "floating.yaml"
    floating.write_text(FLOATING_FILE, encoding="utf-8")
    for command in ("plan", "apply"):
        message = error_line(run(command, "-f", str(floating), expect=2))
        assert "openai/gpt-4o" in message
        assert "openai/gpt-4o-2024-11-20" in message

    missing = error_line(run("apply", "-f", str(tmp_path / "missing.yaml"), expect=2))
    assert "missing.yaml" in missing

    protected = tmp_path / "protected.yaml"
    protected.write_text(PROTECTED_FILE, encoding="utf-8")
    assert "--reason" in error_line(run("apply", "-f", str(protected), expect=2))

    # all-or-nothing: not even the valid version declared before the refused one
    assert run_json("version", "list") == []
    assert run_json("alias", "list") == []
    assert run_json("audit") == []

    run("apply", "-f", str(protected), "--reason", "launch")
    assert run_json("alias", "show", "prod")["protected"] is True
