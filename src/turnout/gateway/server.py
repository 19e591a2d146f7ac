"""Running the app under uvicorn (``turnout serve``), with one or many workers.

With one worker the app is built here and handed to uvicorn. With several,
uvicorn starts each worker process from an import string, so this module offers
:func:`create_app_from_env`, a factory that reads the database URL from
``TURNOUT_DB``; importing the module builds nothing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator

import uvicorn

from turnout.errors import StoreUnavailable
from turnout.gateway.asgi import TurnoutASGI
from turnout.gateway.heap import settle_heap
from turnout.gateway.metrics import MULTIPROCESS_ENV
from turnout.wiring import DB_ENV, build_server_app, default_db_url, open_registry

__all__ = ["APP_FACTORY", "create_app", "create_app_from_env", "serve", "shared_metrics"]

APP_FACTORY = "turnout.gateway.server:create_app_from_env"
"""The import string uvicorn workers use (``uvicorn --factory`` accepts it too)."""


def create_app(db_url: str) -> TurnoutASGI:
    """Open (and migrate) the registry at ``db_url`` and build the app that owns it.

    Every worker runs a rollout controller thread; the leader lock lets exactly
    one of them (across all replicas on the database) act at a time. Once the
    app has started, the process's heap is settled for serving
    (:func:`~turnout.gateway.heap.settle_heap`): a serving process only.
    """
    app = build_server_app(db_url, run_controller=True)
    app.after_startup(settle_heap)
    return app


def create_app_from_env() -> TurnoutASGI:
    """The app for ``$TURNOUT_DB`` (default ``sqlite:///turnout.db``): one per worker."""
    return create_app(default_db_url())


def serve(db_url: str, host: str, port: int, workers: int) -> None:
    """Serve the app in the foreground until interrupted (Ctrl+C / SIGTERM).

    The registry is opened (and migrated) here first, so a bad URL or a failed
    migration stops start-up with one clear error instead of once per worker,
    and workers never race to migrate.
    """
    app: TurnoutASGI | str = APP_FACTORY
    if workers <= 1:
        app = create_app(db_url)
    else:
        with contextlib.suppress(StoreUnavailable):  # fail-static: start from the snapshot file
            open_registry(db_url).close()
        os.environ[DB_ENV] = db_url  # inherited by the worker processes
    with shared_metrics(workers):
        uvicorn.run(
            app,
            factory=isinstance(app, str),
            workers=max(workers, 1),
            host=host,
            port=port,
            loop="uvloop",
            http="httptools",
            ws="none",
            lifespan="on",
            log_level="info",
            access_log=False,  # a line per request costs more CPU than the gateway itself
            server_header=False,
            proxy_headers=False,  # X-Forwarded-* rewriting costs ~4% CPU a request; not needed
            date_header=False,
            backlog=4096,
        )


@contextlib.contextmanager
def shared_metrics(workers: int) -> Iterator[str | None]:
    """With several workers, a fresh directory for prometheus-client's multi-process mode.

    Set in the environment before uvicorn spawns the workers, so each imports
    prometheus-client in multi-process mode and ``/metrics`` from any of them
    reports all of them (see :mod:`turnout.gateway.metrics`). Removed when serving
    ends: the files are only meaningful for the processes that wrote them. A
    directory the operator set already is used as it is and left in place.
    """
    if workers <= 1 or MULTIPROCESS_ENV in os.environ:
        yield os.environ.get(MULTIPROCESS_ENV)
        return
    path = tempfile.mkdtemp(prefix="turnout-metrics-")
    os.environ[MULTIPROCESS_ENV] = path
    try:
        yield path
    finally:
        os.environ.pop(MULTIPROCESS_ENV, None)
        shutil.rmtree(path, ignore_errors=True)
