"""The SDK's HTTP client against the live server: the local client's values and errors."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

import turnout
from turnout.client import LocalClient
from turnout.domain.access import Principal, Role
from turnout.errors import (
    AuthenticationFailed,
    Conflict,
    FloatingVersionError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    StoreUnavailable,
    TurnoutError,
)
from turnout.http_client import HttpClient
from turnout.services.registry import Registry

V1 = "openai/gpt-4o-2024-11-20"
V2 = "openai/gpt-4o-2024-08-06"
V3 = "anthropic/claude-sonnet-4-5-20250929"
ODD = "sim/acme/chat:exp+v2@2025-06-01"  # '/', ':', '+' and '@' survive the URL
ALIAS = "prod-chat"


def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``check`` until it holds; fail after ``timeout`` seconds (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def test_versions_match_the_local_client(http_client: HttpClient, client: LocalClient) -> None:
    added = http_client.add_version(
        V1,
        {"temperature": 0.2, "stop": "END", "seed": 7, "logprobs": False, "user": None},
        prompt_version="chat-v7",
        dataset_version="golden-2026-01",
    )
    assert added == client.get_version(V1)
    assert http_client.add_version(ODD) == client.get_version(ODD)
    assert http_client.get_version(ODD) == client.get_version(ODD)

    annotated = http_client.add_known_issue(V1, "drops the system prompt over 8k tokens")
    assert annotated == client.get_version(V1)
    assert annotated.known_issues[0].added_by == "token:admin"
    floating = http_client.add_version("openai/gpt-4o", allow_floating=True)
    assert floating == client.get_version("openai/gpt-4o")
    assert floating.warnings
    assert http_client.list_versions() == client.list_versions()
    assert len(http_client.list_versions()) == 3


def test_aliases_match_the_local_client(
    http_client: HttpClient, client: LocalClient, clock: Any
) -> None:
    for vid in (V1, V2, V3):
        http_client.add_version(vid)
    created = http_client.set_alias(ALIAS, V1, fallbacks=[V3])
    assert created.changed
    assert created.revision == client.alias_history(ALIAS)[-1]
    assert not http_client.set_alias(ALIAS, V1).changed
    start = clock.now

    clock.advance(30)
    flipped = http_client.set_alias(ALIAS, V2, reason="eval win", expected_revision=1)
    assert flipped.revision == client.alias_history(ALIAS)[-1]
    assert flipped.revision.target.fallbacks == created.revision.target.fallbacks
    clock.advance(30)
    rolled = http_client.rollback_alias(ALIAS, reason="latency", expected_revision=2)
    assert rolled.revision == client.alias_history(ALIAS)[-1]
    assert rolled.revision.restored_from == 1
    guarded = http_client.protect_alias(ALIAS, True, reason="production")
    assert guarded.revision == client.alias_history(ALIAS)[-1]

    assert http_client.get_alias(ALIAS) == client.get_alias(ALIAS)
    assert http_client.list_aliases() == client.list_aliases()
    assert http_client.alias_history(ALIAS) == client.alias_history(ALIAS)
    assert http_client.resolve_at(ALIAS) == client.resolve_at(ALIAS)
    assert http_client.resolve_at(ALIAS, start) == client.resolve_at(ALIAS, start)
    assert http_client.resolve_at(ALIAS, start).revision == 1


def test_tokens_and_audit_match_the_local_client(
    http_client: HttpClient, client: LocalClient, api_url: str, clock: Any
) -> None:
    issued = http_client.create_token("ci", Role.DEPLOYER, expires_in=timedelta(days=30))
    assert issued.secret.startswith("tnt_")
    assert issued.token.expires_at == clock.now + timedelta(days=30)
    assert http_client.list_tokens() == client.list_tokens()
    with HttpClient(api_url, issued.secret) as deployer:
        deployer.add_version(V1)  # the new token works, as a deployer
        with pytest.raises(PermissionDenied):
            deployer.list_tokens()
    revoked = http_client.revoke_token("ci")
    assert revoked == next(t for t in client.list_tokens() if t.name == "ci")
    assert revoked.revoked_at is not None

    assert http_client.audit_entries() == client.audit_entries()
    assert http_client.audit_entries(limit=2) == client.audit_entries(limit=2)
    assert http_client.audit_entries(limit=None) == client.audit_entries(limit=None)
    assert http_client.audit_entries(subject="ci") == client.audit_entries(subject="ci")
    assert [e.action for e in http_client.audit_entries(subject="ci")] == [
        "token.revoke",
        "token.create",
    ]
    assert http_client.verify_audit() == client.verify_audit()
    assert http_client.verify_audit()[1] is None


def test_resolve_follows_a_flip_made_elsewhere(
    http_client: HttpClient, client: LocalClient
) -> None:
    for vid in (V1, V2):
        client.add_version(vid)
    client.set_alias(ALIAS, V1, fallbacks=[V2])
    first = http_client.resolve(ALIAS, key="user-1")
    assert (first.version, first.fallbacks, first.revision) == (V1, (V2,), 1)

    client.set_alias(ALIAS, V2)
    client.set_alias("summarise", V1)
    eventually(lambda: http_client.resolve(ALIAS).version == V2)
    assert http_client.resolve(ALIAS).revision == 2
    eventually(lambda: _resolves(http_client, "summarise"))
    with pytest.raises(NotFound, match="'nope'"):
        http_client.resolve("nope")


def _resolves(client: HttpClient, alias: str) -> bool:
    try:
        client.resolve(alias)
    except NotFound:
        return False
    return True


def test_errors_come_back_as_the_same_exceptions(
    http_client: HttpClient, client: LocalClient
) -> None:
    client.add_version(V1)
    client.set_alias(ALIAS, V1)
    cases: list[Callable[[Any], object]] = [
        lambda c: c.get_alias("nope"),
        lambda c: c.get_version("openai/gpt-4o-2099-01-01"),
        lambda c: c.add_version("gpt-4o"),
        lambda c: c.add_version(V1),
        lambda c: c.set_alias("Bad Name", V1),
        lambda c: c.set_alias(ALIAS, "openai/gpt-4o-2099-01-01"),
        lambda c: c.set_alias(ALIAS, V1, expected_revision=5),
        lambda c: c.rollback_alias(ALIAS),
        lambda c: c.revoke_token("nobody"),
        lambda c: c.create_token("x", Role.VIEWER, expires_in=timedelta(seconds=-1)),
    ]
    seen: list[type[TurnoutError]] = []
    for case in cases:
        with pytest.raises(TurnoutError) as local:
            case(client)
        with pytest.raises(TurnoutError) as remote:
            case(http_client)
        assert type(remote.value) is type(local.value)
        assert remote.value.message == local.value.message
        seen.append(type(local.value))
    assert {NotFound, InvalidInput, Conflict} <= set(seen)

    with pytest.raises(FloatingVersionError) as local_floating:
        client.add_version("openai/gpt-4o")
    with pytest.raises(FloatingVersionError) as remote_floating:
        http_client.add_version("openai/gpt-4o")
    assert remote_floating.value.version_id == local_floating.value.version_id
    assert remote_floating.value.suggestions == local_floating.value.suggestions
    assert remote_floating.value.message == local_floating.value.message


def test_roles_are_enforced_the_same_way(
    api_url: str, make_token: Callable[..., str], registry: Registry
) -> None:
    secret = make_token(Role.VIEWER, "watcher")
    local = LocalClient(registry, Principal("token:watcher", Role.VIEWER))
    with HttpClient(api_url, secret) as remote:
        for client in (local, remote):
            with pytest.raises(PermissionDenied, match="needs operator") as caught:
                client.add_version(V1)
            assert "token:watcher (viewer)" in caught.value.message
        assert remote.list_versions() == []


def test_no_token_means_authentication_failed_without_a_request(api_url: str) -> None:
    with (
        HttpClient(api_url, None) as anonymous,
        pytest.raises(AuthenticationFailed, match="TURNOUT_TOKEN"),
    ):
        anonymous.list_aliases()
    with (
        HttpClient(api_url, "tnt_forged") as forged,
        pytest.raises(AuthenticationFailed, match="unknown token"),
    ):
        forged.list_aliases()


def test_connect_picks_the_http_client_for_http_urls(
    api_url: str, admin_token: str, client: LocalClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.add_version(V1)
    monkeypatch.setenv("TURNOUT_TOKEN", admin_token)
    remote = turnout.connect(f"{api_url}/")
    try:
        assert isinstance(remote, HttpClient)
        assert remote.list_versions() == client.list_versions()
    finally:
        remote.close()


def test_unreachable_server_is_store_unavailable_naming_the_url() -> None:
    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    secret = "tnt_do-not-print-me"
    with HttpClient(url, secret, timeout=2) as client:
        with pytest.raises(StoreUnavailable) as caught:
            client.list_versions()
        with pytest.raises(StoreUnavailable):
            client.resolve(ALIAS)
    assert url in caught.value.message
    assert secret not in caught.value.message
    assert secret not in repr(client)


class SwitchableTransport(httpx.HTTPTransport):
    """A real transport that can be made to fail, as a network partition would."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        return super().handle_request(request)


def test_resolve_keeps_the_last_snapshot_while_the_server_is_away(
    api_url: str, admin_token: str, client: LocalClient
) -> None:
    client.add_version(V1)
    client.set_alias(ALIAS, V1)
    transport = SwitchableTransport()
    with HttpClient(api_url, admin_token, transport=transport, poll_interval=0.02) as remote:
        assert remote.resolve(ALIAS).version == V1
        transport.down = True
        eventually(lambda: remote.degraded is not None)
        assert remote.resolve(ALIAS).version == V1  # fail-static
        assert "cannot reach" in (remote.degraded or "")
        transport.down = False
        eventually(lambda: remote.degraded is None)


def test_close_stops_the_follower_thread(http_client: HttpClient, client: LocalClient) -> None:
    client.add_version(V1)
    client.set_alias(ALIAS, V1)
    http_client.resolve(ALIAS)
    assert "turnout-http-snapshot" in {t.name for t in threading.enumerate()}
    http_client.close()
    assert "turnout-http-snapshot" not in {t.name for t in threading.enumerate()}
    http_client.close()  # idempotent
