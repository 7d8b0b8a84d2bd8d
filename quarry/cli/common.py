"""Options and output helpers shared by every CLI command module."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from quarry.config import default_db_path

console = Console()
err_console = Console(stderr=True)

DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="DuckDB store to use (default: $QUARRY_DB, else quarry.duckdb in the Quarry home).",
                 show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON instead of a table.")]


def resolve_db(db: Path | None) -> Path:
    """The store path a command should use: the flag, else $QUARRY_DB, else the default."""
    return db.expanduser() if db else default_db_path()


def print_json(data: Any) -> None:
    """Machine-readable output: one JSON document on stdout, nothing else."""
    typer.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))
