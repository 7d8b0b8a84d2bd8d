"""The `quarry` command line: one typer app; each command module registers its own command group.

The CLI is the composition root: the only layer that sees all others, it hands the adapter
registry's model opener to the agent and the evaluations.

Commands are thin: parse flags, call one library function, format the result. Any QuarryError
becomes one line on stderr and exit code 1 (see `main`).
"""

from __future__ import annotations

import sys

import typer

from quarry.errors import QuarryError

app = typer.Typer(
    name="quarry",
    help="Mailbox and documents -> typed facts in DuckDB, an agent that answers over them, "
    "and a small model you own.\n\nExample: quarry ingest ~/Mail/inbox.mbox && quarry ask 'when is the board dinner?'",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


#: Command modules, in --help order; each exposes `register(app)`.
_COMMAND_MODULES = ("ingest", "facts", "ask", "traces", "data", "models", "train", "eval")


def _register_commands() -> None:
    # Imported here so each module can register on the shared app without import cycles.
    from importlib import import_module

    for name in _COMMAND_MODULES:
        import_module(f"quarry.cli.{name}").register(app)


_register_commands()


def main() -> None:
    """Console-script entry point: run the app, turning user-facing errors into one line."""
    try:
        code = app(standalone_mode=False)
    except QuarryError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:
        # Usage errors (bad flag, missing argument): typer ships its own click copy, so match both.
        show = getattr(exc, "show", None)
        if show is None or not hasattr(exc, "exit_code"):
            raise
        show()
        sys.exit(exc.exit_code or 2)
    sys.exit(code if isinstance(code, int) else 0)
