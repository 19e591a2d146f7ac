"""``turnout version add|list|show|note`` through the real console script."""

from __future__ import annotations

V1 = "sim/chat-2025-01-01"
V2 = "sim/chat-2025-06-01"


def test_add_list_show_note(run, run_json) -> None:
    added = run_json(
        "version", "add", V1,
        "--param", "quality=0.9", "--param", "name=x", "--param", "flag=true",
        "--param", "max_tokens=256",
        "--prompt-version", "support-v12", "--dataset-version", "tickets-2025-06",
    )  # fmt: skip
    # typed, not strings: a float, a string, a bool, an int
    assert added["params"] == {"quality": 0.9, "name": "x", "flag": True, "max_tokens": 256}
    assert type(added["params"]["flag"]) is bool
    assert type(added["params"]["max_tokens"]) is int
    assert added["id"] == V1
    assert (added["provider"], added["model"]) == ("sim", "chat-2025-01-01")
    assert (added["prompt_version"], added["dataset_version"]) == ("support-v12", "tickets-2025-06")
    assert added["status"] == "active"
    assert added["floating_allowed"] is False
    assert added["introduced_at"]
    assert added["introduced_by"]
    assert added["known_issues"] == []
    assert added["warnings"] == []

    # human output; a param value that looks like Rich markup is printed as text
    second = run("version", "add", V2, "-p", "stop=[/INST]")
    assert V2 in second.stdout

    listed = run_json("version", "list")
    assert sorted(v["id"] for v in listed) == [V1, V2]
    by_id = {v["id"]: v for v in listed}
    assert by_id[V1]["params"]["quality"] == 0.9
    assert by_id[V2]["params"] == {"stop": "[/INST]"}
    assert by_id[V2]["prompt_version"] is None

    noted = run_json("version", "note", V1, "breaks on [/INST] tokens")
    assert [i["text"] for i in noted["known_issues"]] == ["breaks on [/INST] tokens"]
    assert noted["known_issues"][0]["added_by"]

    shown = run("version", "show", V1).stdout
    for expected in (V1, "support-v12", "tickets-2025-06", "quality=0.9", "[/INST]"):
        assert expected in shown, expected
    assert run_json("version", "show", V1)["known_issues"] == noted["known_issues"]

    table = run("version", "list").stdout
    assert V1 in table
    assert V2 in table


def test_refused_ids_write_nothing(run, run_json, error_line) -> None:
    floating = error_line(run("version", "add", "openai/gpt-4o", expect=2))
    assert "openai/gpt-4o" in floating
    assert "floating" in floating
    assert "openai/gpt-4o-2024-11-20" in floating  # the pinned release to use instead

    refused = run("--json", "version", "add", "openai/gpt-4o", expect=2)
    assert '"floating_version"' in refused.stdout

    for bad, words in [
        ("gpt-4o-2024-11-20", "provider/model_id"),  # no provider
        ("OpenAI/x-001", "lowercase"),  # provider must be lowercase
        ("", "provider/model_id"),  # empty
    ]:
        message = error_line(run("version", "add", bad, expect=2))
        assert repr(bad) in message
        assert words in message

    unknown = error_line(run("version", "add", "nosuch/model-2024-01-01", expect=2))
    assert "unknown provider 'nosuch'" in unknown

    no_equals = error_line(run("version", "add", V1, "--param", "quality", expect=2))
    assert "KEY=VALUE" in no_equals

    assert "sim/never-2024-01-01" in error_line(
        run("version", "note", "sim/never-2024-01-01", "text", expect=2)
    )

    # every refusal above was all-or-nothing
    assert run_json("version", "list") == []
    assert run_json("audit") == []


def test_allow_floating_registers_with_a_warning(run, run_json) -> None:
    result = run("version", "add", "openai/gpt-4o", "--allow-floating")
    assert "added openai/gpt-4o" in result.stdout
    assert "warning" in result.stderr
    assert "floating" in result.stderr

    [version] = run_json("version", "list")
    assert version["id"] == "openai/gpt-4o"
    assert version["floating_allowed"] is True
    assert any("floating" in w for w in version["warnings"])
    assert [e["action"] for e in run_json("audit")] == ["version.add"]
