"""One process's access to a store file: a hardened read-only connection for model-written SQL,
and short-lived writer connections for the few writes an agent run makes (traces, calendar adds).

DuckDB refuses two connections to one file with different configurations in one process, so the
reader is closed while a writer is open and reopened lazily afterwards.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from quarry.store.db import connect


class StoreSession:
    """Hands out the reader and writers for one store path; not thread-safe (one per agent run/shell)."""

    def __init__(self, path: str | Path):
        self.path = Path(path).expanduser()
        self._reader: duckdb.DuckDBPyConnection | None = None
        # Create or migrate the file once, so read-only opens always find the current schema.
        connect(self.path).close()

    def reader(self) -> duckdb.DuckDBPyConnection:
        """The hardened read-only connection (no file access, no extensions, configuration locked)."""
        if self._reader is None:
            self._reader = connect(self.path, read_only=True, hardened=True)
        return self._reader

    @contextmanager
    def writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A normal read-write connection for the duration of the block."""
        self.close()
        con = connect(self.path)
        try:
            yield con
        finally:
            con.close()

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None


@contextmanager
def scratch_copy(store: StoreSession) -> Iterator[StoreSession]:
    """A throwaway copy of the store: evaluations and teacher runs may write (calendar adds, traces) there."""
    with store.writer() as con:
        con.execute("CHECKPOINT")
    with tempfile.TemporaryDirectory(prefix="quarry-scratch-") as tmp:
        copy = Path(tmp) / "scratch.duckdb"
        shutil.copyfile(store.path, copy)
        scratch = StoreSession(copy)
        try:
            yield scratch
        finally:
            scratch.close()


def mailbox_now(store: StoreSession) -> datetime:
    """'Today' for generated traces: the newest message's date, so relative words match the mailbox."""
    row = store.reader().execute("SELECT max(sent_at) FROM messages").fetchone()
    return row[0] if row and row[0] else datetime.now(timezone.utc)
