"""``turnout deprecations`` and ``turnout catalog``: the real console script, both stores."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.cli.conftest import Run

from turnout.domain.access import LOCAL_ADMIN
from turnout.wiring import open_registry

LITELLM = Path(__file__).parents[1] / "fixtures" / "catalog" / "litellm-prices.json"


@pytest.fixture
def seeded(db_url: str) -> None:
    """prod-chat on a version retiring in 20 days (real clock: the CLI runs now)."""
    registry = open_registry(db_url)
    try:
        soon = date.today() + timedelta(days=20)
        registry.versions.add(LOCAL_ADMIN, "sim/chat-001", retirement_date=soon)
        registry.versions.add(LOCAL_ADMIN, "sim/chat-002")
        registry.aliases.set(LOCAL_ADMIN, "prod-chat", "sim/chat-002", ["sim/chat-001"])
    finally:
        registry.close()


def test_deprecations_lists_fails_with_fail_and_prints_json(
    run: Run, run_json: Callable[..., Any], seeded: None
) -> None:
    shown = run("deprecations")
    assert "sim/chat-001" in shown.stdout
    assert "prod-chat (fallback)" in shown.stdout
    failed = run("deprecations", "--fail", expect=1)
    assert "retire within 90 days" in failed.stderr
    assert run("deprecations", "--within", "10", "--fail").returncode == 0
    data = run_json("deprecations")
    assert data["data"][0]["version"] == "sim/chat-001"
    assert data["data"][0]["days_left"] == 20
    assert data["data"][0]["used_by"] == [{"alias": "prod-chat", "role": "fallback"}]
    run("deprecations", "--within", "-3", expect=2)


def test_alias_set_warns_on_stderr_and_keeps_json_clean(run: Run, seeded: None) -> None:
    result = run("--json", "alias", "set", "prod-chat", "sim/chat-001")
    assert json.loads(result.stdout)["changed"] is True
    assert "warning:" in result.stderr
    assert "sim/chat-001 retires on" in result.stderr


def test_catalog_update_dry_run_then_update(run: Run, run_json: Callable[..., Any]) -> None:
    dry = run("catalog", "update", "--from", str(LITELLM), "--checked", "2026-12-01", "--dry-run")
    assert "gpt-4o-2024-08-06" in dry.stdout
    assert "dry run: nothing written" in dry.stdout
    assert "skipped 3" in dry.stdout
    before = run_json("catalog", "show", "openai/gpt-4o-2024-08-06")
    assert before["retires"] != "2027-03-01"
    data = run_json("catalog", "update", "--from", str(LITELLM), "--checked", "2026-12-01")
    assert data["added"] == 2
    assert data["skipped"]["provider not mapped"] == 1
    assert {
        "id": "openai/gpt-4o-2024-08-06",
        "field": "retires",
        "old": before["retires"],
        "new": "2027-03-01",
    } in data["changes"]
    after = run_json("catalog", "show", "openai/gpt-4o-2024-08-06")
    assert after["retires"] == "2027-03-01"
    assert after["family"] == before["family"]
    listed = run_json("catalog", "list", "--provider", "mistral")
    assert "mistral-large-2407" in {entry["id"] for entry in listed}
    again = run_json("catalog", "update", "--from", str(LITELLM), "--checked", "2026-12-01")
    assert again["changes"] == []


def test_catalog_update_refuses_bad_input_and_writes_nothing(
    run: Run, run_json: Callable[..., Any], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"gpt-4o-2024-08-06": {"litellm_provider": "openai", "deprecation_date": "x"}}')
    run("catalog", "update", "--from", str(bad), expect=2)
    run("catalog", "update", "--from", str(tmp_path / "missing.yaml"), expect=2)
    run("catalog", "update", "--from", str(LITELLM), "--checked", "soon", expect=2)
    shown = run_json("catalog", "show", "openai/gpt-4o-2024-08-06")
    assert shown["retires"] != "2027-03-01"
    run("catalog", "show", "openai/nope-2020-01-01", expect=2)


CONFIG = """\
versions:
  - id: sim/chat-002
aliases:
  support:
    version: sim/chat-002
    fallbacks: [sim/chat-001]
"""


def test_plan_and_apply_warn_per_retiring_version(run: Run, seeded: None, tmp_path: Path) -> None:
    path = tmp_path / "turnout.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    planned = run("plan", "-f", str(path))
    warnings = [line for line in planned.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert "sim/chat-001 retires on" in warnings[0]
    assert "support (fallback)" in warnings[0]
    assert "prod-chat (fallback)" in warnings[0]
    applied = run("--json", "apply", "-f", str(path))
    assert json.loads(applied.stdout)["applied"] is True
    assert "sim/chat-001 retires on" in applied.stderr
