"""Flipping an alias while the gateway runs: the next requests follow, on every store.

The write comes from the ``registry`` fixture (its own engine on the same
database), as the CLI or another replica's admin API would make it; the gateway
learns of it through its snapshot feed (LISTEN/NOTIFY on PostgreSQL, a marker
poll on SQLite). Nothing here sleeps for a fixed time: each step polls until the
new version answers, within a generous deadline.
"""

from __future__ import annotations

import openai
import pytest
from tests.gateway.conftest import ALIAS, MESSAGES, V1, V2, wait_until

from turnout.domain.access import LOCAL_ADMIN
from turnout.services.registry import Registry


def served(oai: openai.OpenAI, model: str = ALIAS) -> str:
    """The version that answered one request; the body and the header must agree."""
    raw = oai.chat.completions.with_raw_response.create(model=model, messages=MESSAGES)
    version = raw.headers["x-turnout-version"]
    assert raw.parse().model == version
    return version


def streamed(oai: openai.OpenAI, model: str = ALIAS) -> str:
    """The version that answered one streamed request (header and every chunk agree)."""
    with oai.chat.completions.with_streaming_response.create(
        model=model, messages=MESSAGES, stream=True
    ) as raw:
        version = raw.headers["x-turnout-version"]
        assert {chunk.model for chunk in raw.parse()} == {version}
    return version


def test_set_then_rollback_reach_the_running_gateway(seeded: Registry, oai: openai.OpenAI) -> None:
    assert served(oai) == V1

    seeded.aliases.set(LOCAL_ADMIN, ALIAS, V2, reason="upgrade")
    wait_until(lambda: served(oai) == V2, "the gateway to serve V2 after the flip")
    assert streamed(oai) == V2
    assert all(served(oai) == V2 for _ in range(5))  # and it stays flipped

    seeded.aliases.rollback(LOCAL_ADMIN, ALIAS, reason="V2 regressed")
    wait_until(lambda: served(oai) == V1, "the gateway to serve V1 after the rollback")
    assert streamed(oai) == V1
    assert all(served(oai) == V1 for _ in range(5))


def test_a_new_alias_appears_without_a_restart(seeded: Registry, oai: openai.OpenAI) -> None:
    def listed() -> bool:
        return "summarise" in {model.id for model in oai.models.list()}

    assert not listed()
    with pytest.raises(openai.NotFoundError):
        served(oai, "summarise")

    seeded.aliases.set(LOCAL_ADMIN, "summarise", V2)
    wait_until(listed, "the new alias in /v1/models")
    assert served(oai, "summarise") == V2
    assert served(oai) == V1  # the other alias did not move
