"""The HTTP SDK resolves an alias in a rollout exactly as the local SDK does, key by key.

Its snapshot comes from ``GET /api/v1/snapshot``, so this also checks that the
canary split survives the admin API's JSON on its way to a remote client.
"""

from __future__ import annotations

from tests.support.canary import set_canary

from turnout.client import LocalClient
from turnout.http_client import HttpClient
from turnout.services.registry import Registry

V1 = "sim/chat-2025-01-01"
V2 = "sim/chat-2025-06-01"
ALIAS = "prod-chat"
KEYS = [f"user-{i}" for i in range(200)]


def test_remote_and_local_clients_pick_the_same_arm_per_key(
    registry: Registry, client: LocalClient, http_client: HttpClient
) -> None:
    client.add_version(V1)
    client.add_version(V2)
    client.set_alias(ALIAS, V1)
    set_canary(registry, ALIAS, V2, 2_500, salt="remote-salt", rollout_id=4)

    remote = {key: http_client.resolve(ALIAS, key=key) for key in KEYS}
    assert remote == {key: client.resolve(ALIAS, key=key) for key in KEYS}
    assert {(r.arm, r.version) for r in remote.values()} == {("stable", V1), ("canary", V2)}
    assert {(r.canary, r.weight, r.salt, r.rollout_id) for r in remote.values()} == {
        (V2, 2_500, "remote-salt", 4)
    }
