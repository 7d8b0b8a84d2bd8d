"""Row counts of every table in a store, for `quarry stats`."""

from __future__ import annotations

from pathlib import Path

from quarry.store.db import connect


def store_counts(db_path: str | Path) -> dict[str, int]:
    """{table: row count} for each base table of the store, opened read-only (a missing file is a StoreError)."""
    con = connect(db_path, read_only=True)
    con.execute("SET enable_progress_bar = false")  # it draws on stdout and would corrupt --json
    try:
        tables = [row[0] for row in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
            "AND table_schema = 'main' ORDER BY table_name").fetchall()]
        counts = {table: con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables}
        counts["threads"] = con.execute("SELECT count(*) FROM threads").fetchone()[0]
    finally:
        con.close()
    return counts
