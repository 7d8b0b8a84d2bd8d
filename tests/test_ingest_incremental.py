"""Idempotent, incremental and crash-safe ingestion, and the `quarry ingest` / `quarry stats` command line.

The crash test runs the real CLI in a subprocess on a few thousand generated messages, kills its
process group with SIGKILL part-way (after some batches are committed), reruns, and compares every
count with a clean run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from quarry.extract.pipeline import ingest

QUARRY = [sys.executable, "-c", "from quarry.cli import main; main()"]
COUNTED = ("messages", "sources", "people", "message_people", "chunks", "attachments", "quarantine", "documents")


def _counts(db) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in COUNTED}
        counts["threads"] = con.execute("SELECT count(DISTINCT thread_id) FROM messages").fetchone()[0]
        return counts
    finally:
        con.close()


def _quarry(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([*QUARRY, *map(str, args)], capture_output=True, text=True, timeout=600, **kwargs)


def test_reingest_adds_nothing(tmp_path, mailkit):
    maildir = mailkit.write_maildir(tmp_path / "Maildir", mailkit.thread_of(9))
    mbox = tmp_path / "box.mbox"
    mbox.write_bytes(mailkit.mbox_bytes(mailkit.thread_of(6, prefix="mb")))
    (tmp_path / "notes.md").write_text("# Notes\n\nCourt 3 closed.", encoding="utf-8")
    db = tmp_path / "q.duckdb"
    first = ingest([maildir, mbox, tmp_path / "notes.md"], db)
    before = _counts(db)
    second = ingest([maildir, mbox, tmp_path / "notes.md"], db)
    assert (first.messages_new, first.documents_new) == (15, 1)
    assert (second.messages_new, second.documents_new, second.quarantined, second.sources_read) == (0, 0, 0, 0)
    assert second.sources_unchanged == 11
    assert _counts(db) == before


def test_appending_to_an_mbox_reads_only_the_new_messages(tmp_path, mailkit):
    messages = mailkit.thread_of(15)
    mbox = tmp_path / "box.mbox"
    mbox.write_bytes(mailkit.mbox_bytes(messages[:10]))
    db = tmp_path / "q.duckdb"
    assert ingest([mbox], db).messages_new == 10
    with mbox.open("ab") as handle:
        handle.write(mailkit.mbox_bytes(messages[10:]))
    summary = ingest([mbox], db)
    assert (summary.messages_new, summary.messages_skipped) == (5, 0)
    assert _counts(db)["messages"] == 15
    # A rewritten mbox (old bytes changed) is read again from the start; stored ids are skipped.
    mbox.write_bytes(mailkit.mbox_bytes(list(reversed(messages))))
    summary = ingest([mbox], db)
    assert (summary.messages_new, summary.messages_skipped) == (0, 15)


def test_truncated_mbox_completed_later(tmp_path, mailkit):
    data = mailkit.mbox_bytes(mailkit.thread_of(4))
    mbox = tmp_path / "box.mbox"
    mbox.write_bytes(data[:-30])
    db = tmp_path / "q.duckdb"
    first = ingest([mbox], db)
    assert (first.messages_new, first.quarantined) == (3, 1)
    again = ingest([mbox], db)
    assert (again.messages_new, again.quarantined) == (0, 0)
    mbox.write_bytes(data)
    assert ingest([mbox], db).messages_new == 1
    assert _counts(db)["messages"] == 4


def _crash_corpus(folder: Path, mailkit, n: int) -> Path:
    messages = mailkit.thread_of(n)
    messages[7] = mailkit.message(None, subject="no id here")
    messages[11] = b"\x00\x01\x02 binary junk \xff" * 50
    return mailkit.write_maildir(folder, messages)


#: The crash tests time the message store: fact extraction runs after it and would blur the kill point.
STORE_ONLY = ("--extractor", "none")


def _killed_after_commits(maildir: Path, db: Path, wal_bytes: int) -> int | None:
    """Start `quarry ingest`, SIGKILL its process group once its write-ahead log has held `wal_bytes`.

    DuckDB appends each committed batch to the `.wal` file, so a log this size means some batches are
    committed whatever the machine's speed (the schema alone writes ~16 kB). Returns the stored messages
    after the kill, or None if the run finished first.
    """
    wal = Path(f"{db}.wal")
    for leftover in (db, wal):
        leftover.unlink(missing_ok=True)
    proc = subprocess.Popen([*QUARRY, "ingest", str(maildir), "--db", str(db), *STORE_ONLY], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while proc.poll() is None:
        if wal.exists() and wal.stat().st_size >= wal_bytes:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return _counts(db)["messages"]
        time.sleep(0.002)
    return None


def test_kill_mid_run_then_rerun_equals_a_clean_run(tmp_path, mailkit):
    maildir = _crash_corpus(tmp_path / "Maildir", mailkit, 3000)
    clean_db, crash_db = tmp_path / "clean.duckdb", tmp_path / "crash.duckdb"
    assert _quarry("ingest", maildir, "--db", clean_db, *STORE_ONLY).returncode == 0
    clean = _counts(clean_db)
    assert clean["messages"] == 2999 and clean["quarantine"] == 1

    # A 500-message batch writes ~0.4 MB of log: kill after about two of the six batches.
    partial = _killed_after_commits(maildir, crash_db, wal_bytes=1_000_000)
    assert partial is not None and 0 < partial < clean["messages"], f"kill did not land mid-run: {partial}"

    rerun = _quarry("ingest", maildir, "--db", crash_db, "--json", *STORE_ONLY)
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout)["messages_new"] == clean["messages"] - partial
    assert _counts(crash_db) == clean


def test_cli_errors_are_one_line_and_exit_1(tmp_path):
    missing = _quarry("ingest", tmp_path / "nope.mbox", "--db", tmp_path / "q.duckdb")
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [f"error: {tmp_path / 'nope.mbox'}: no such file or directory"]
    odd = tmp_path / "photo.jpg"
    odd.write_bytes(b"\xff\xd8\xff\xe0")
    unsupported = _quarry("ingest", odd, "--db", tmp_path / "q.duckdb")
    assert unsupported.returncode == 1 and len(unsupported.stderr.strip().splitlines()) == 1
    assert "photo.jpg: unsupported file type" in unsupported.stderr
    no_store = _quarry("stats", "--db", tmp_path / "absent.duckdb")
    assert no_store.returncode == 1 and no_store.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'absent.duckdb'}: no Quarry store here (run `quarry ingest` first or pass --db)"]


def test_cli_ingest_and_stats(tmp_path, mailkit):
    maildir = mailkit.write_maildir(tmp_path / "Maildir", mailkit.thread_of(6))
    db = tmp_path / "q.duckdb"
    run = _quarry("ingest", maildir, "--db", db)
    assert run.returncode == 0, run.stderr
    assert "messages new / skipped" in run.stdout and "6 / 0" in run.stdout
    stats = _quarry("stats", "--db", db, "--json")
    assert stats.returncode == 0
    counts = json.loads(stats.stdout)
    assert counts["messages"] == 6 and counts["threads"] == 2 and counts["sources"] == 6
    assert "Example:" in _quarry("ingest", "--help").stdout
