"""Per-invocation state shared by commands: global options and the lazily opened client."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import typer

from turnout.cli.output import Output

if TYPE_CHECKING:
    from turnout.client import TurnoutClient
    from turnout.services.registry import Registry

__all__ = ["State", "state_of"]


@dataclass
class State:
    db: str
    token: str | None
    output: Output
    _client: TurnoutClient | None = field(default=None, repr=False)

    def client(self) -> TurnoutClient:
        """Connect on first use, so ``--help`` and pure commands never touch a database."""
        if self._client is None:
            from turnout.wiring import connect_client

            self._client = connect_client(self.db, self.token)
        return self._client

    def local_registry(self, what: str) -> Registry:
        """The registry of a database URL, for commands that call models from this process.

        ``what`` names them in the refusal an ``http(s)://`` target gets.
        """
        from turnout.client import LocalClient
        from turnout.errors import InvalidInput

        client = self.client()
        if not isinstance(client, LocalClient):
            raise InvalidInput(
                f"{what} act on a database URL (--db sqlite:///... or postgresql://...)"
            )
        return client.registry

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def state_of(ctx: typer.Context) -> State:
    state = ctx.find_root().obj
    if not isinstance(state, State):  # pragma: no cover - set by the root callback
        raise RuntimeError("CLI state missing")
    return state
