"""Put an alias into a canary split (or out of one), as a rollout would.

The rollout service is what starts splits in production; these tests need a
split without driving a whole rollout, so this writes the target through the
same door the rollout service uses, :meth:`AliasService.write_target_in`: one
write unit of work, compare-and-set on the alias revision, and an audit entry.
The audit entry is what moves the store's change marker (and, on PostgreSQL,
sends the NOTIFY), so snapshot feeds and SDK followers pick the split up like
any other alias change.
"""

from __future__ import annotations

from dataclasses import replace

from turnout.domain.access import LOCAL_ADMIN
from turnout.domain.aliases import AliasAction, AliasRevision, CanarySplit
from turnout.domain.ids import VersionId
from turnout.services.registry import Registry

__all__ = ["set_canary"]


def set_canary(
    registry: Registry,
    alias: str,
    version: str | None,
    weight: int = 0,
    salt: str = "test-salt",
    rollout_id: int = 1,
    scorers: tuple[str, ...] = (),
) -> AliasRevision:
    """Give ``alias`` a canary ``version`` at ``weight`` basis points (None: end the split)."""
    split = (
        None
        if version is None
        else CanarySplit(VersionId.parse(version), weight, salt, rollout_id, scorers)
    )
    with registry.ctx.store.unit_of_work(write=True) as uow:
        current = uow.aliases.get(alias)
        assert current is not None, f"alias {alias} must exist first"
        target = replace(current.target, canary=split)
        change = registry.aliases.write_target_in(
            uow, LOCAL_ADMIN, alias, target, AliasAction.ROLLOUT, "test canary split"
        )
    return change.revision
