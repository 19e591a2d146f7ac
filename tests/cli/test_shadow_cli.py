"""``turnout shadow start|stop|status`` through the real console script."""

from __future__ import annotations

V1 = "sim/chat-2025-01-01"
V2 = "sim/chat-2025-06-01"


def _alias(run) -> None:
    run("version", "add", V1)
    run("version", "add", V2)
    run("alias", "set", "prod-chat", V1)


def test_shadow_lifecycle(run, run_json) -> None:
    _alias(run)
    assert "no shadow candidates" in run("shadow", "status", "prod-chat").stdout
    started = run_json(
        "shadow", "start", "prod-chat", "--candidate", V2, "--sample", "0.5", "--max-rps", "3"
    )
    assert started["changed"] is True
    assert started["revision"]["action"] == "shadow"
    assert started["revision"]["target"]["version"] == V1
    human = run("shadow", "status", "prod-chat").stdout
    assert V2 in human
    assert "active" in human
    assert "50%" in human
    status = run_json("shadow", "status", "prod-chat")
    assert status["candidates"][0]["policy"]["max_rps"] == 3.0
    history = run("alias", "history", "prod-chat").stdout
    assert "shadow" in history
    stopped = run_json("shadow", "stop", "prod-chat")
    assert stopped["revision"]["target"].get("shadows") is None
    assert run_json("shadow", "status", "prod-chat")["candidates"] == []


def test_bad_shadow_input_exits_2_and_writes_nothing(run, run_json, error_line) -> None:
    _alias(run)
    cases = [
        (("shadow", "start", "prod-chat", "--candidate", V2, "--sample", "0"), "sample"),
        (("shadow", "start", "prod-chat", "--candidate", "sim/nope-2026-01-01"), "not registered"),
        (("shadow", "start", "prod-chat", "--candidate", V1), "already serves"),
        (("shadow", "start", "nope", "--candidate", V2), "does not exist"),
        (("shadow", "start", "prod-chat", "--candidate", "openai/gpt-4o"), "gpt-4o"),
        (("shadow", "stop", "prod-chat"), "no shadow running"),
        (("shadow", "status", "prod-chat", "--window-hours", "0"), "window"),
    ]
    for args, message in cases:
        result = run(*args, expect=2)
        assert message in error_line(result), args
    usage = run(
        "shadow", "start", "prod-chat", "--candidate", V2, "--sample", "x", expect=2, one_line=False
    )
    assert "--sample" in usage.stderr
    assert run_json("alias", "show", "prod-chat")["revision"] == 1


def _captured(db_url: str, n: int) -> None:
    """Pairs as the gateway stores them (V1 served, V2 shadowing), written to the store."""
    from datetime import UTC, datetime, timedelta

    from turnout.domain.completions import Completion
    from turnout.domain.shadow import ShadowPair
    from turnout.store import open_store

    now = datetime.now(UTC)
    store = open_store(db_url)
    try:
        store.log_shadow_pairs(
            [
                ShadowPair(
                    request_id=f"req_{i:04d}",
                    at=now - timedelta(seconds=i),
                    alias="prod-chat",
                    messages=[{"role": "user", "content": f"What is {i} + {i}?"}],
                    primary=Completion(V1, f"{2 * i}", 50.0, tokens_in=8, tokens_out=1),
                    candidate=Completion(V2, f"{2 * i}" if i % 4 else "<script>x</script>", 70.0),
                )
                for i in range(n)
            ]
        )
    finally:
        store.close()


def test_report_and_replay(run, run_json, error_line, db_url: str, tmp_path) -> None:
    _alias(run)
    run("version", "add", "sim/chat-2025-07-01")
    _captured(db_url, 8)
    found = run_json("shadow", "report", "prod-chat", "--comparators", "exact,token_set,latency_ms")
    assert (found["alias"], found["candidate"], found["pairs"]) == ("prod-chat", V2, 8)
    exact = next(a for a in found["agreements"] if a["name"] == "exact")
    assert exact["mean"] == 0.75
    human = run("shadow", "report", "prod-chat", "--html", str(tmp_path / "r.html")).stdout
    assert "exact" in human
    assert "token_set" in human
    page = (tmp_path / "r.html").read_text()
    assert "<script>x" not in page
    assert "&lt;script&gt;x" in page

    replayed = run_json(
        "shadow", "replay", "prod-chat", "-c", "sim/chat-2025-07-01", "--limit", "5"
    )
    assert (replayed["pairs"], replayed["candidate_errors"]) == (5, 0)
    again = run_json(
        "shadow", "report", "prod-chat", "-c", "sim/chat-2025-07-01", "--source", "replay"
    )
    assert again["pairs"] == 5

    for args, message in [
        (("shadow", "report", "prod-chat"), "several candidates"),
        (("shadow", "report", "prod-chat", "-c", V2, "--comparators", "vibes"), "vibes"),
        (("shadow", "report", "prod-chat", "-c", V2, "--source", "dream"), "--source"),
        (("shadow", "report", "prod-chat", "-c", V2, "--since", "yesterday"), "ISO"),
        (("shadow", "report", "prod-chat", "-c", V2, "--hours", "0"), "--hours"),
        (("shadow", "report", "prod-chat", "-c", V2, "--judge-both-orders"), "--judge VERSION"),
        (("shadow", "replay", "prod-chat", "-c", "sim/chat-2030-01-01"), "not registered"),
        (("shadow", "replay", "prod-chat", "-c", V2, "--limit", "0"), "--limit"),
    ]:
        assert message in error_line(run(*args, expect=2)), args
