"""A serving process settles its heap once started; building an app alone does not."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from turnout.gateway.heap import SERVING_THRESHOLDS

_DRIVER = textwrap.dedent(
    """
    import asyncio, gc, json, sys
    from turnout.gateway.server import create_app

    async def main():
        before = {"frozen": gc.get_freeze_count(), "thresholds": gc.get_threshold()}
        app = create_app(sys.argv[1])
        built = {"frozen": gc.get_freeze_count(), "thresholds": gc.get_threshold()}
        inbox = asyncio.Queue()
        sent = []

        async def send(message):
            sent.append(message["type"])

        inbox.put_nowait({"type": "lifespan.startup"})
        task = asyncio.ensure_future(app({"type": "lifespan"}, inbox.get, send))
        while not sent:
            await asyncio.sleep(0.01)
        started = {"frozen": gc.get_freeze_count(), "thresholds": gc.get_threshold()}
        inbox.put_nowait({"type": "lifespan.shutdown"})
        await task
        print(json.dumps({"before": before, "built": built, "started": started, "sent": sent}))

    asyncio.run(main())
    """
)


def test_the_served_app_freezes_its_start_up_heap_and_raises_the_young_threshold(
    tmp_path: Path,
) -> None:
    db_url = f"sqlite:///{tmp_path / 'registry.db'}"
    done = subprocess.run(
        [sys.executable, "-c", _DRIVER, db_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={"TURNOUT_SNAPSHOT_FILE": str(tmp_path / "snapshot.json"), "PATH": "/usr/bin:/bin"},
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["sent"] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert seen["before"]["frozen"] == 0
    assert seen["built"]["frozen"] == 0  # building alone (tests, tools) changes nothing
    assert tuple(seen["built"]["thresholds"]) != SERVING_THRESHOLDS
    # a few hundred thousand objects of start-up state: never walked again
    assert seen["started"]["frozen"] > 50_000
    assert tuple(seen["started"]["thresholds"]) == SERVING_THRESHOLDS
