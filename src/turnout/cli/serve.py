"""``turnout serve`` (gateway + admin API) and ``turnout sim serve`` (the simulated provider)."""

from __future__ import annotations

import contextlib
from typing import Annotated

import typer

from turnout.cli.state import state_of
from turnout.domain.versions import ParamValue, parse_param
from turnout.errors import InvalidInput, StoreUnavailable

sim_app = typer.Typer(help="The built-in simulated model provider.", no_args_is_help=True)

Host = Annotated[str, typer.Option("--host", help="Interface to bind (loopback by default).")]


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("controller")(controller)
    app.add_typer(sim_app, name="sim")


def _port(value: int) -> int:
    if not 0 < value < 65536:
        raise InvalidInput(f"port {value} must be between 1 and 65535")
    return value


def serve(
    ctx: typer.Context,
    host: Host = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", help="Port for the gateway, admin API and UI.")
    ] = 8600,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Worker processes.")] = 1,
) -> None:
    """Serve the OpenAI-compatible gateway, /metrics, /readyz and the admin API on one port."""
    from turnout.gateway.server import serve as run_server
    from turnout.store.engine import normalise_url, safe_url
    from turnout.wiring import default_snapshot_path, open_registry

    state = state_of(ctx)
    if state.db.startswith(("http://", "https://")):
        raise InvalidInput("serve needs a database URL (--db sqlite:///... or postgresql://...)")
    _port(port)  # bad usage fails before the database is touched (or migrated)
    try:
        open_registry(state.db).close()  # migrate and fail fast on a bad URL, before workers
    except StoreUnavailable as exc:
        snapshot = default_snapshot_path(state.db)
        if not snapshot.exists():
            raise
        state.output.warn(
            f"{exc.message}; serving the last snapshot in {snapshot} until it returns"
        )
    shown = safe_url(normalise_url(state.db))  # never print the database password
    state.output.err.print(f"turnout serving {shown} on http://{host}:{port} ({workers} worker(s))")
    run_server(state.db, host, port, workers)


def controller(
    ctx: typer.Context,
    interval: Annotated[
        float, typer.Option("--interval", min=0.1, help="Seconds between looks at the rollouts.")
    ] = 2.0,
    once: Annotated[bool, typer.Option("--once", help="Look once and exit.")] = False,
) -> None:
    """Run the rollout controller alone (``turnout serve`` also runs one).

    With many processes on one PostgreSQL database exactly one acts at a time
    (an advisory lock); the others take over when it goes away.
    """
    from turnout.wiring import build_controller, open_registry

    state = state_of(ctx)
    if state.db.startswith(("http://", "https://")):
        raise InvalidInput(
            "controller needs a database URL (--db sqlite:///... or postgresql://...)"
        )
    registry = open_registry(state.db)
    try:
        ctl = build_controller(registry, interval)
        if once:
            try:
                changes = ctl.run_once()
            finally:
                ctl.stop()  # release the lock (and its connection) at once
            for change in changes:
                state.output.line(
                    f"rollout {change.rollout.id} on {change.rollout.alias}: {change.message}"
                )
            if not ctl.leading:
                state.output.warn("another controller holds the lock; nothing done")
            return
        state.output.err.print(f"rollout controller: looking every {interval:g}s (Ctrl+C stops)")
        with contextlib.suppress(KeyboardInterrupt):
            ctl.run_forever()
    finally:
        registry.close()


@sim_app.command("serve")
def sim_serve(
    ctx: typer.Context,
    host: Host = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", help="Port for the OpenAI-compatible sim API.")
    ] = 8700,
    param: Annotated[
        list[str],
        typer.Option(
            "--param", "-p", help="Default sim param KEY=VALUE for every model (repeatable)."
        ),
    ] = [],  # noqa: B006
    seed: Annotated[
        int, typer.Option("--seed", help="Seed: the same requests get the same answers.")
    ] = 0,
) -> None:
    """Serve sim models over an OpenAI-compatible HTTP API.

    Models registered as sim/... versions in --db use their registered params;
    any other model name is served with the --param defaults.
    """
    from turnout.providers.sim_server import build_sim_app, serve_sim

    state = state_of(ctx)
    defaults: dict[str, ParamValue] = dict(parse_param(p) for p in param)
    models: dict[str, dict[str, ParamValue]] = {}
    if not state.db.startswith(("http://", "https://")):
        models = {
            v.model: dict(v.params) for v in state.client().list_versions() if v.provider == "sim"
        }
    app = build_sim_app(models, defaults, seed)
    state.output.err.print(
        f"sim provider on http://{host}:{_port(port)}/v1 ({len(models)} registered models)"
    )
    serve_sim(host, port, app)
