"""Open a Quarry DuckDB file, creating or migrating it so its schema matches schema.sql.

A fresh file is built from schema.sql and stamped with the latest version. A file at an older
version gets each missing migration (store/migrations/mNNN_name.sql) applied in order, each in one
transaction together with its schema_version row, so a crash never leaves a half-migrated file.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import duckdb

from quarry.errors import StoreError

_MIGRATION_NAME = re.compile(r"^m(\d{3})_(\w+)\.sql$")

#: Settings for connections that run model-written SQL: no files, no extensions, no SET.
HARDENED_CONFIG = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


def schema_sql() -> str:
    """The current schema, the single source of truth for a fresh store."""
    return resources.files("quarry.store").joinpath("schema.sql").read_text(encoding="utf-8")


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every migration after the baseline, in order.

    Version 1 is the baseline schema itself; later versions live in store/migrations/.
    """
    found = [(1, "initial", "")]
    folder = resources.files("quarry.store").joinpath("migrations")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    return found


def latest_version() -> int:
    return migrations()[-1][0]


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    """The highest applied migration, 0 for an empty file."""
    has_table = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    ).fetchone()[0]
    if not has_table:
        return 0
    return con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Bring the open store to the latest schema; returns the number of steps applied."""
    version = current_version(con)
    steps = migrations()
    if version == 0:
        con.execute("BEGIN")
        con.execute(schema_sql())
        con.executemany(
            "INSERT INTO schema_version (version, name) VALUES (?, ?)", [(v, n) for v, n, _ in steps]
        )
        con.execute("COMMIT")
        return len(steps)
    if version > steps[-1][0]:
        raise StoreError(
            f"store is at schema version {version}, newer than this Quarry ({steps[-1][0]}): upgrade Quarry"
        )
    applied = 0
    for number, name, sql in steps:
        if number <= version:
            continue
        con.execute("BEGIN")
        con.execute(sql)
        con.execute("INSERT INTO schema_version (version, name) VALUES (?, ?)", [number, name])
        con.execute("COMMIT")
        applied += 1
    return applied


def connect(path: str | Path, *, read_only: bool = False, hardened: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (and for writers, create/migrate) the store at `path`; ':memory:' gives a fresh one.

    `hardened` adds HARDENED_CONFIG and locks the configuration, for connections that run model-written SQL. DuckDB refuses two
    open connections to one file with different configurations in a process: close one first.
    """
    target = str(path)
    if target != ":memory:":
        file = Path(target).expanduser()
        if read_only and not file.exists():
            raise StoreError(f"{file}: no Quarry store here (run `quarry ingest` first or pass --db)")
        if not read_only:
            file.parent.mkdir(parents=True, exist_ok=True)
        target = str(file)
    config = dict(HARDENED_CONFIG) if hardened else {}
    try:
        con = duckdb.connect(target, read_only=read_only, config=config)
        con.execute("LOAD icu")
        # DuckDB's progress bar writes to stdout on slow statements and would corrupt --json output.
        con.execute("SET enable_progress_bar = false")
        con.execute("SET TimeZone = 'UTC'")
        if hardened:
            # Locked last, so model-written SQL cannot SET anything back.
            con.execute("SET lock_configuration = true")
    except duckdb.Error as exc:
        raise StoreError(f"{target}: cannot open store: {exc}".splitlines()[0]) from exc
    if not read_only:
        migrate(con)
    elif current_version(con) != latest_version():
        con.close()
        raise StoreError(f"{target}: store schema is out of date; open it once for writing to migrate")
    return con
