"""``turnout token ...`` and ``turnout audit [--verify]`` through the real console script."""

from __future__ import annotations

import json

import sqlalchemy as sa


def test_token_lifecycle(run, run_json, error_line) -> None:
    created = run("token", "create", "--name", "ci", "--role", "deployer")
    secrets = [line for line in created.stdout.splitlines() if line.startswith("tnt_")]
    assert len(secrets) == 1, created.stdout
    ci_secret = secrets[0]
    assert "deployer" in created.stdout

    bot = run_json("token", "create", "--name", "bot")
    assert bot["secret"].startswith("tnt_")
    assert bot["role"] == "viewer"
    assert bot["secret"].startswith(bot["prefix"])

    listing = run("--json", "token", "list").stdout
    tokens = json.loads(listing)
    assert [t["name"] for t in tokens] == ["ci", "bot"]
    assert all("secret" not in t for t in tokens)
    assert all(t["revoked_at"] is None for t in tokens)
    table = run("token", "list").stdout
    for secret in (ci_secret, bot["secret"]):
        assert secret not in listing
        assert secret not in table

    assert "revoked token 'ci'" in run("token", "revoke", "ci").stdout  # by name
    revoked = run_json("token", "revoke", str(bot["id"]))  # by id
    assert revoked["name"] == "bot"
    assert revoked["revoked_at"]
    assert "already revoked" in error_line(run("token", "revoke", "ci", expect=2))
    assert "'nobody'" in error_line(run("token", "revoke", "nobody", expect=2))
    assert "role 'god'" in error_line(
        run("token", "create", "--name", "x", "--role", "god", expect=2)
    )

    assert all(t["revoked_at"] for t in run_json("token", "list"))
    assert [e["action"] for e in run_json("audit")] == [
        "token.revoke", "token.revoke", "token.create", "token.create",
    ]  # fmt: skip


def _tamper(db_url: str, seq: int) -> None:
    """Alter one audit entry behind turnout's back, as a DBA with SQL access could."""
    audit_log = sa.table("audit_log", sa.column("seq", sa.Integer), sa.column("detail", sa.JSON))
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as conn:
            changed = conn.execute(
                sa.update(audit_log)
                .where(audit_log.c.seq == seq)
                .values(detail={"params": {}, "tampered": True})
            )
            assert changed.rowcount == 1
    finally:
        engine.dispose()


def test_audit_log_and_verify(run, run_json, error_line, db_url: str) -> None:
    run("version", "add", "sim/chat-2025-01-01", "--param", "quality=0.9")
    run("alias", "set", "prod-chat", "sim/chat-2025-01-01")
    run("version", "note", "sim/chat-2025-01-01", "slow on long inputs")

    entries = run_json("audit")
    assert [e["seq"] for e in entries] == [3, 2, 1]  # newest first
    assert [e["action"] for e in entries] == ["version.known_issue", "alias.create", "version.add"]
    assert entries[2]["detail"]["params"] == {"quality": 0.9}
    assert entries[0]["prev_hash"] == entries[1]["hash"]
    assert all(e["actor"] and e["at"] and len(e["hash"]) == 64 for e in entries)
    assert [e["seq"] for e in run_json("audit", "--subject", "prod-chat", "--limit", "5")] == [2]
    table = run("audit").stdout
    assert "alias.create" in table
    assert "slow on long inputs" in table

    intact = run("audit", "--verify")
    assert "audit chain intact: 3 entries verified" in intact.stdout
    assert run_json("audit", "--verify") == {
        "ok": True, "entries": 3, "first_bad_seq": None, "reason": None,
    }  # fmt: skip

    _tamper(db_url, seq=2)
    broken = error_line(run("audit", "--verify", expect=1))
    assert "entry 2" in broken
    assert "entry 1" not in broken
    # --json: exactly one JSON document on stdout, naming the entry
    report = run_json("audit", "--verify", expect=1)
    assert report["ok"] is False
    assert report["first_bad_seq"] == 2
    assert report["reason"]
