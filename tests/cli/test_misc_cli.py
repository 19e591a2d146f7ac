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


def test_demo_ui_leaves_the_dashboard_open_on_the_demo_registry(
    turnout_exe: str, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """``turnout demo --ui``: the story, then the dashboard on its registry until stopped."""
    import re
    import signal
    import socket
    import subprocess
    import time

    import httpx
    from tests.support.web import sign_in

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        demo = subprocess.Popen(
            [turnout_exe, "demo", "--ui", "--port", str(port)],
            cwd=tmp_path,
            env=cli_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        token = None
        while token is None:
            assert demo.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            found = re.search(r"(tnt_\S+)", log.read_text())
            token = found.group(1) if found else None
            time.sleep(0.2)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            while True:
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            assert sign_in(client, token).status_code == 303  # to the aliases page
            page = client.get("/ui/aliases")
            assert page.status_code == 200
            assert "prod-chat" in page.text
            assert "legacy-summarizer" in page.text
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(timeout=20)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.wait(timeout=10)
