"""The store: a fresh file has exactly the schema.sql tables and columns, migration is idempotent and
brings older files forward, and opening a missing file read-only is a clear StoreError."""

from __future__ import annotations

import re

import duckdb
import pytest

from quarry.errors import StoreError
from quarry.store import db
from quarry.store.db import connect, current_version, latest_version, migrate, schema_sql


def _expected_schema() -> dict[str, set[str]]:
    """{table or view: columns} as schema.sql declares them, read by DuckDB from the statements themselves."""
    scratch = duckdb.connect()
    scratch.execute("LOAD icu")
    scratch.execute(schema_sql())
    return _actual_schema(scratch)


def _actual_schema(con) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for schema, table, column in con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE table_catalog = current_database()").fetchall():
        out.setdefault(f"{schema}.{table}", set()).add(column)
    return out


def test_schema_sql_declares_the_core_tables():
    names = re.findall(r"CREATE (?:TABLE IF NOT EXISTS|OR REPLACE VIEW) ([\w.]+)", schema_sql())
    declared = {name if "." in name else f"main.{name}" for name in names}
    core = {"messages", "people", "message_people", "sources", "quarantine", "chunks", "documents", "events"}
    assert {f"main.{name}" for name in core} <= declared
    assert declared == set(_expected_schema())


def test_fresh_store_has_exactly_the_schema(tmp_path):
    con = connect(tmp_path / "fresh.duckdb")
    assert _actual_schema(con) == _expected_schema()
    assert current_version(con) == latest_version()
    versions = con.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
    assert [v for (v,) in versions] == [v for v, _, _ in db.migrations()]
    con.close()


def test_migrate_is_idempotent(tmp_path):
    path = tmp_path / "store.duckdb"
    connect(path).close()
    con = connect(path)
    assert migrate(con) == 0
    assert con.execute("SELECT count(*) FROM schema_version").fetchone()[0] == len(db.migrations())
    con.close()


def test_file_with_empty_schema_version_is_built(tmp_path):
    path = tmp_path / "old.duckdb"
    raw = duckdb.connect(str(path))
    raw.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                "applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)")
    raw.close()
    con = connect(path)
    assert current_version(con) == latest_version()
    assert _actual_schema(con) == _expected_schema()
    con.close()


def test_older_file_gets_a_new_migration(tmp_path, monkeypatch):
    path = tmp_path / "older.duckdb"
    connect(path).close()
    base = db.migrations()
    extra = (base[-1][0] + 1, "add_probe", "CREATE TABLE probe_migration (x INTEGER);")
    monkeypatch.setattr(db, "migrations", lambda: [*base, extra])
    con = connect(path)
    assert current_version(con) == extra[0]
    assert con.execute("SELECT name FROM schema_version WHERE version = ?", [extra[0]]).fetchone()[0] == "add_probe"
    assert "main.probe_migration" in _actual_schema(con)
    assert migrate(con) == 0
    con.close()


def test_newer_file_is_refused(tmp_path):
    path = tmp_path / "newer.duckdb"
    con = connect(path)
    con.execute("INSERT INTO schema_version (version, name) VALUES (999, 'future')")
    con.close()
    with pytest.raises(StoreError, match="newer than this Quarry"):
        connect(path)


def test_read_only_connect_of_missing_file_is_a_store_error(tmp_path):
    missing = tmp_path / "nope.duckdb"
    with pytest.raises(StoreError, match="no Quarry store here"):
        connect(missing, read_only=True)
    assert not missing.exists()
