"""``demo``, ``--help`` and broken databases, through the real console script.

These take no ``db_url``: they run once, not once per database.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def test_demo_runs_to_completion(run_cli) -> None:
    out = run_cli("demo").stdout
    assert "audit chain intact" in out
    assert "refusing floating version id" in out


@pytest.mark.parametrize("group", [None, "version", "alias", "token", "sim"])
def test_help(run_cli, group: str | None) -> None:
    args = ["--help"] if group is None else [group, "--help"]
    out = run_cli(*args).stdout
    assert "Usage" in out
    if group is None:
        for command in ("version", "alias", "token", "audit", "plan", "apply", "init", "demo"):
            assert command in out


def test_unreachable_database(run_cli, error_line) -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:1/x"
    assert "unreachable" in error_line(run_cli("--db", url, "version", "list", expect=2))
    result = run_cli("--json", "--db", url, "alias", "list", expect=2)
    assert json.loads(result.stdout)["error"]["code"] == "store_unavailable"


def test_sqlite_in_a_missing_directory(run_cli, error_line, tmp_path: Path) -> None:
    where = tmp_path / "no" / "such" / "dir"
    message = error_line(run_cli("--db", f"sqlite:///{where}/r.db", "version", "list", expect=2))
    assert "does not exist" in message
    assert not where.exists()  # the CLI did not create it either
