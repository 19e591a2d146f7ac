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


def test_plan_and_apply_against_a_server_url_with_a_token(
    run_cli, error_line, registry, serve_asgi, tmp_path: Path
) -> None:
    """A CI job with a token and no database credentials: same output, same exit codes."""
    from turnout.domain.access import LOCAL_ADMIN, Role
    from turnout.gateway.app import build_app

    url = serve_asgi(build_app(registry))
    deployer = registry.tokens.create(LOCAL_ADMIN, "ci", Role.DEPLOYER).secret
    viewer = registry.tokens.create(LOCAL_ADMIN, "drift", Role.VIEWER).secret
    path = tmp_path / "turnout.yaml"
    path.write_text(PROTECTED_FILE, encoding="utf-8")

    def cli(token: str, *args: str, expect: int = 0, one_line: bool = True):
        return run_cli("--db", url, "--token", token, *args, expect=expect, one_line=one_line)

    planned = cli(viewer, "plan", "-f", str(path))
    assert "+ alias prod" in planned.stdout
    assert "Plan: 2 to add, 0 to change." in planned.stdout
    assert "apply needs --reason" in planned.stderr
    drift = cli(viewer, "plan", "-f", str(path), "--check", expect=1, one_line=False)
    assert "the registry differs" in drift.stderr.strip().splitlines()[-1]
    refused = cli(viewer, "apply", "-f", str(path), "-r", "x", expect=2)
    assert "may not apply config: needs deployer" in error_line(refused)
    assert registry.versions.all() == []  # refused: nothing written
    applied = cli(deployer, "apply", "-f", str(path), "-r", "launch")
    assert "Applied. Plan: 2 to add, 0 to change." in applied.stdout
    assert str(registry.aliases.get("prod").target.version) == "sim/chat-2025-01-01"
    assert "No changes" in cli(viewer, "plan", "-f", str(path), "--check").stdout
    path.write_text(SCHEMA_ERROR_FILE, encoding="utf-8")
    bad = cli(deployer, "apply", "-f", str(path), "-r", "x", expect=2)
    assert f"{path}:4" in error_line(bad)  # the server parsed it; the line is still ours
    missing = cli(deployer, "plan", "-f", str(tmp_path / "nope.yaml"), expect=2)
    assert "cannot read config file" in error_line(missing)
