"""Fixtures for CLI tests: the real ``turnout`` console script, run as a subprocess.

``run`` points ``--db`` at the ``db_url`` fixture, so every test that uses it runs
on SQLite and on PostgreSQL; ``run_cli`` runs the script with exactly the
arguments given (for ``--help``, ``demo`` and broken database URLs).

Every call asserts its exit code and that stderr holds no traceback; a failing
call (exit 1 or 2) must also explain itself in exactly one stderr line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import pytest


class Run(Protocol):
    def __call__(
        self, *args: str, expect: int = 0, one_line: bool = True
    ) -> subprocess.CompletedProcess[str]: ...


@pytest.fixture(scope="session")
def turnout_exe() -> str:
    """The installed console script (``.venv/bin/turnout``), not ``python -m``."""
    found = shutil.which("turnout", path=os.path.dirname(sys.executable))
    assert found, f"no turnout console script next to {sys.executable}; pip install -e ."
    return found


@pytest.fixture(scope="session")
def cli_env() -> dict[str, str]:
    """The environment minus anything that would change what the CLI prints or targets."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"TURNOUT_DB", "TURNOUT_TOKEN", "TURNOUT_DEBUG", "FORCE_COLOR"}
    }
    env.update({"NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200"})
    return env


@pytest.fixture
def run_cli(turnout_exe: str, cli_env: dict[str, str], tmp_path: Path) -> Run:
    """``run_cli(*args, expect=0)``: run turnout with exactly ``args`` in ``tmp_path``."""

    def run(*args: str, expect: int = 0, one_line: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [turnout_exe, *args],
            cwd=tmp_path,
            env=cli_env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        shown = f"turnout {' '.join(args)}\n--- stdout\n{result.stdout}--- stderr\n{result.stderr}"
        assert result.returncode == expect, f"exit {result.returncode}, expected {expect}: {shown}"
        assert "Traceback" not in result.stderr, shown
        if expect != 0 and one_line:
            assert len(result.stderr.strip().splitlines()) == 1, f"not one error line: {shown}"
        return result

    return run


@pytest.fixture
def run(run_cli: Run, db_url: str) -> Run:
    """``run(*args, expect=0)``: turnout against the test registry (SQLite, PostgreSQL)."""

    def run_db(
        *args: str, expect: int = 0, one_line: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return run_cli("--db", db_url, *args, expect=expect, one_line=one_line)

    return run_db


@pytest.fixture
def run_json(run: Run) -> Callable[..., Any]:
    """``run_json(*args, expect=0)``: run with ``--json``; stdout must be one JSON document."""

    def run_parsed(*args: str, expect: int = 0) -> Any:
        result = run("--json", *args, expect=expect)
        try:
            return json.loads(result.stdout)
        except json.JSONDecodeError as exc:  # pragma: no cover - the failure message
            pytest.fail(
                f"turnout --json {' '.join(args)}: stdout is not JSON ({exc}):\n{result.stdout}"
            )

    return run_parsed


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one stderr line of a failed command."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture(name="error_line")
def error_line_fixture() -> Callable[[subprocess.CompletedProcess[str]], str]:
    return error_line
