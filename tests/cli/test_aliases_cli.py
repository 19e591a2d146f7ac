"""``turnout alias ...`` through the real console script: flips, rollback, CAS, time travel."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

V1 = "sim/chat-2025-01-01"
V2 = "sim/chat-2025-06-01"


def _two_versions(run) -> None:
    run("version", "add", V1)
    run("version", "add", V2)


def test_alias_flow(run, run_json, error_line) -> None:
    _two_versions(run)

    created = run_json("alias", "set", "prod-chat", V1)
    assert created["changed"] is True
    assert created["revision"]["revision"] == 1
    assert created["revision"]["action"] == "create"
    assert created["revision"]["target"] == {"version": V1, "fallbacks": []}
    assert created["revision"]["previous"] is None

    nothing_earlier = error_line(run("alias", "rollback", "prod-chat", expect=2))
    assert "no earlier revision" in nothing_earlier

    flipped = run("alias", "set", "prod-chat", V2, "--fallback", V1)
    assert f"{V1} -> {V2}" in flipped.stdout
    assert "revision 2" in flipped.stdout

    # compare-and-set: a stale --expect-revision is refused and writes nothing
    stale = run("--json", "alias", "set", "prod-chat", V1, "--expect-revision", "1", expect=2)
    assert json.loads(stale.stdout)["error"]["code"] == "conflict"
    assert "revision 2, not 1" in error_line(stale)
    shown = run_json("alias", "show", "prod-chat")
    assert shown["revision"] == 2
    assert shown["target"] == {"version": V2, "fallbacks": [V1]}

    rolled = run_json("alias", "rollback", "prod-chat", "--expect-revision", "2")
    assert rolled["revision"]["revision"] == 3
    assert rolled["revision"]["action"] == "rollback"
    assert rolled["revision"]["restored_from"] == 1
    assert rolled["revision"]["target"]["version"] == V1

    back = run_json("alias", "rollback", "prod-chat", "--to", "2")
    assert back["revision"]["restored_from"] == 2
    assert back["revision"]["target"] == {"version": V2, "fallbacks": [V1]}

    # protection: every change needs a reason, including protecting itself
    assert "--reason" in error_line(run("alias", "protect", "prod-chat", expect=2))
    run("alias", "protect", "prod-chat", "--reason", "launch")
    assert "--reason" in error_line(run("alias", "set", "prod-chat", V1, expect=2))
    assert "--reason" in error_line(run("alias", "rollback", "prod-chat", expect=2))
    run("alias", "set", "prod-chat", V1, "--reason", "fix [/INST] handling")
    assert "--reason" in error_line(run("alias", "unprotect", "prod-chat", expect=2))
    run("alias", "unprotect", "prod-chat", "-r", "handover")

    [listed] = run_json("alias", "list")
    assert listed["name"] == "prod-chat"
    assert listed["revision"] == 7
    assert listed["protected"] is False
    assert listed["target"]["version"] == V1

    history = run_json("alias", "history", "prod-chat")
    assert [r["revision"] for r in history] == [1, 2, 3, 4, 5, 6, 7]
    assert [r["action"] for r in history] == [
        "create", "set", "rollback", "rollback", "protect", "set", "unprotect",
    ]  # fmt: skip
    assert [r["reason"] for r in history][4:] == ["launch", "fix [/INST] handling", "handover"]
    assert all(r["created_at"] and r["actor"] for r in history)

    table = run("alias", "history", "prod-chat").stdout
    assert "fix [/INST] handling" in table  # a reason is text, not Rich markup
    assert "rollback to 1" in table

    resolved = run_json("alias", "resolve", "prod-chat")
    assert resolved["version"] == V1
    assert resolved["revision"]["revision"] == 7


def test_unknown_alias_and_bad_names(run, run_json, error_line) -> None:
    for command in ("show", "rollback"):
        assert "'nope' does not exist" in error_line(run("alias", command, "nope", expect=2))

    for name in ("Prod", "latest", "v2", "-x"):
        message = error_line(run("alias", "set", "--", name, V1, expect=2))
        assert f"alias name {name!r}" in message
        if name == "Prod":  # the pattern in the message is printed, not eaten as Rich markup
            assert "^[a-z0-9]" in message

    assert run_json("alias", "list") == []
    assert run_json("audit") == []


def test_resolve_at_a_point_in_time(run, run_json, error_line) -> None:
    _two_versions(run)
    run("alias", "set", "support", V1)
    run("alias", "set", "support", V2)
    first, second = (
        datetime.fromisoformat(r["created_at"]) for r in run_json("alias", "history", "support")
    )
    assert first < second

    midpoint = first + (second - first) / 2
    then = run_json("alias", "resolve", "support", "--at", midpoint.isoformat())
    assert then["version"] == V1
    assert then["revision"]["revision"] == 1

    # "Z" suffix and an exact revision time
    zulu = second.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert run_json("alias", "resolve", "support", "--at", zulu)["version"] == V2
    human = run("alias", "resolve", "support", "--at", midpoint.isoformat()).stdout
    assert V1 in human

    assert "ISO 8601" in error_line(
        run("alias", "resolve", "support", "--at", "yesterday", expect=2)
    )
    before = (first - timedelta(hours=1)).isoformat()
    assert "did not exist" in error_line(
        run("alias", "resolve", "support", "--at", before, expect=2)
    )
