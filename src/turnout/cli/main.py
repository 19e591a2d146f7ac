"""The ``turnout`` entry point: global options, command groups, and exit codes.

Exit codes: 0 ok, 1 a check ran and failed (:class:`~turnout.errors.CheckFailed`),
2 bad usage or input, and every other turnout error (conflict, not found, store
unavailable...). Errors print as one line on stderr, never a traceback (set
``TURNOUT_DEBUG=1`` to see one).
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer
from typer._click.core import Context as ClickContext  # typer 0.29 vendors click
from typer.core import TyperGroup

from turnout.cli import (
    aliases,
    audit,
    catalog,
    config,
    demo,
    deprecations,
    evals,
    health,
    lint,
    rollouts,
    serve,
    shadow,
    tokens,
    versions,
)
from turnout.cli.output import Output
from turnout.cli.state import State
from turnout.errors import CheckFailed, TurnoutError

__all__ = ["EXIT_BAD_INPUT", "EXIT_CHECK_FAILED", "app", "exit_code_for", "run"]

EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2


def exit_code_for(error: TurnoutError) -> int:
    """The one table from the exception tree to exit codes."""
    return EXIT_CHECK_FAILED if isinstance(error, CheckFailed) else EXIT_BAD_INPUT


class _TurnoutGroup(TyperGroup):
    """Translates turnout errors once, for every command, and closes the client."""

    def invoke(self, ctx: ClickContext) -> Any:
        try:
            return super().invoke(ctx)
        except TurnoutError as exc:
            state = ctx.obj if isinstance(ctx.obj, State) else None
            output = state.output if state else Output()
            if output.json and not output.emitted:
                output.emit_json({"error": {"code": exc.code, "message": exc.message}})
            output.error(exc.message)
            raise typer.Exit(exit_code_for(exc)) from None
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except Exception as exc:
            if os.environ.get("TURNOUT_DEBUG"):
                raise
            Output().error(
                f"internal error: {type(exc).__name__}: {exc} (TURNOUT_DEBUG=1 shows a traceback)"
            )
            raise typer.Exit(EXIT_BAD_INPUT) from None
        finally:
            if isinstance(ctx.obj, State):
                ctx.obj.close()


app = typer.Typer(
    cls=_TurnoutGroup,
    name="turnout",
    help="Model versioning for production AI: pinned versions, aliases, instant rollback.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def main(
    ctx: typer.Context,
    db: Annotated[
        str,
        typer.Option(
            "--db",
            envvar="TURNOUT_DB",
            help="Registry: sqlite:///PATH, postgresql+psycopg://..., "
            "or http(s):// for the admin API.",
        ),
    ] = "sqlite:///turnout.db",
    token: Annotated[
        str | None,
        typer.Option(
            "--token", envvar="TURNOUT_TOKEN", help="API token for an http(s):// registry."
        ),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Machine-readable JSON output.")
    ] = False,
) -> None:
    ctx.obj = State(db=db, token=token, output=Output(json=json_output))


app.add_typer(versions.app, name="version")
app.add_typer(aliases.app, name="alias")
app.add_typer(rollouts.app, name="rollout")
app.add_typer(evals.app, name="eval")
app.add_typer(shadow.app, name="shadow")
app.add_typer(tokens.app, name="token")
app.add_typer(catalog.app, name="catalog")
audit.register(app)
config.register(app)
deprecations.register(app)
health.register(app)
lint.register(app)
serve.register(app)
demo.register(app)


def run() -> None:
    """Console-script entry point."""
    app()
