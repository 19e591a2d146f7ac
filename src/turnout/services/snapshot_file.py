"""The snapshot file: the last good routing snapshot on disk (fail-static across restarts).

A gateway worker that starts while the registry is unreachable has nothing to
route with; the snapshot feed therefore writes every snapshot it swaps in to a
file and reads it back on a cold start. The JSON shape is versioned by
:data:`SNAPSHOT_FORMAT`, and fields added later are optional, so files written
by older releases still load.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from turnout.domain.aliases import AliasTarget
from turnout.domain.providers import ApiKeyAuth, ProviderConfig, ProviderKind
from turnout.errors import InvalidInput
from turnout.services.snapshot import RoutingSnapshot, SnapshotVersion

__all__ = [
    "SNAPSHOT_FORMAT",
    "read_snapshot_file",
    "snapshot_from_json",
    "snapshot_json",
    "write_snapshot_file",
]

SNAPSHOT_FORMAT = 1
"""Version of the snapshot file's JSON shape; bumped if it ever changes incompatibly."""


def snapshot_json(snapshot: RoutingSnapshot) -> dict[str, Any]:
    """The JSON shape of a snapshot; the same ``marker``/``aliases`` shape as ``GET /snapshot``."""
    return {
        "format": SNAPSHOT_FORMAT,
        "marker": snapshot.marker,
        "loaded_at": snapshot.loaded_at.isoformat(),
        "aliases": {
            name: {
                "target": snapshot.targets[name].to_dict(),
                "revision": snapshot.arms(name)[0].revision,
            }
            for name in snapshot.aliases()
        },
        "versions": {vid: _version_json(v) for vid, v in snapshot.versions.items()},
        "providers": {name: p.as_dict() for name, p in snapshot.providers.items()},
    }


def _version_json(version: SnapshotVersion) -> dict[str, Any]:
    out: dict[str, Any] = {"params": dict(version.params)}
    if version.retires is not None:  # absent, not null: files of older releases still load
        out["retires"] = version.retires.isoformat()
    return out


def snapshot_from_json(data: Mapping[str, Any]) -> RoutingSnapshot:
    """Rebuild a snapshot from :func:`snapshot_json`; raise InvalidInput if malformed."""
    try:
        if data.get("format", SNAPSHOT_FORMAT) != SNAPSHOT_FORMAT:
            raise InvalidInput(f"unsupported snapshot format {data.get('format')!r}")
        aliases = {
            str(name): (AliasTarget.from_dict(entry["target"]), int(entry["revision"]))
            for name, entry in data["aliases"].items()
        }
        loaded_at = datetime.fromisoformat(data["loaded_at"])
        if loaded_at.tzinfo is None:
            raise InvalidInput("routing snapshot 'loaded_at' has no timezone")
        versions = {
            str(vid): SnapshotVersion(
                str(vid),
                dict(entry.get("params") or {}),
                date.fromisoformat(entry["retires"]) if entry.get("retires") else None,
            )
            for vid, entry in (data.get("versions") or {}).items()
        }
        providers = {
            str(name): ProviderConfig(
                str(name),
                ProviderKind.parse(entry["kind"]),
                entry.get("base_url"),
                entry.get("api_key_env"),
                ApiKeyAuth.parse(entry["auth"]) if entry.get("auth") else None,
                entry.get("api_version"),
            )
            for name, entry in (data.get("providers") or {}).items()
        }
        return RoutingSnapshot.build(int(data["marker"]), loaded_at, aliases, versions, providers)
    except InvalidInput:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidInput(f"malformed routing snapshot: {exc!r}") from exc


def write_snapshot_file(path: Path, snapshot: RoutingSnapshot) -> None:
    """Write ``snapshot`` to ``path`` atomically: a temp file beside it, then ``os.replace``.

    A reader (another worker starting up) sees the old file or the new one, never
    half of one. Several workers sharing a path is fine: the last writer wins.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(snapshot_json(snapshot), indent=1, sort_keys=True).encode()
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def read_snapshot_file(path: Path) -> RoutingSnapshot | None:
    """The snapshot stored at ``path``, or None if there is no file.

    Raises InvalidInput if the file is not a snapshot (truncated, edited, another
    format) and OSError if it cannot be read.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise InvalidInput(f"snapshot file {path} is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidInput(f"snapshot file {path} does not hold a snapshot")
    return snapshot_from_json(data)
