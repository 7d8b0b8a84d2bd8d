"""Real-world mail nobody here wrote (tests/fixtures/mail-gem-fixtures, from the Ruby `mail` gem's test
fixtures, MIT licence inside: odd charsets, bad dates, broken MIME): every .eml file ends up stored or
quarantined with a reason, and nothing crashes."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from quarry.extract.mime import message_ids
from quarry.extract.pipeline import ingest

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "mail-gem-fixtures"


@pytest.fixture(scope="module")
def realmail_store(tmp_path_factory):
    db = tmp_path_factory.mktemp("realmail") / "q.duckdb"
    summary = ingest([FIXTURES], db)
    return db, summary


def _files() -> list[Path]:
    return sorted(FIXTURES.rglob("*.eml"))


def test_every_file_is_stored_or_quarantined(realmail_store):
    db, summary = realmail_store
    files = _files()
    assert len(files) >= 100
    con = duckdb.connect(str(db), read_only=True)
    sources = {row[0] for row in con.execute("SELECT path FROM sources").fetchall()}
    stored_ids = {row[0] for row in con.execute("SELECT message_id FROM messages").fetchall()}
    quarantined = dict(con.execute("SELECT source_path, reason FROM quarantine").fetchall())
    hashes = {row[0] for row in con.execute("SELECT content_hash FROM messages").fetchall()}
    con.close()
    unaccounted = []
    for path in files:
        if str(path) in quarantined:
            assert quarantined[str(path)].strip(), f"{path}: quarantined without a reason"
            continue
        assert str(path) in sources, f"{path}: neither stored nor quarantined"
        header_ids = message_ids(_message_id_header(path.read_bytes()))
        # Stored under its Message-ID (possibly shared with another fixture file) or its content hash.
        if not (header_ids and header_ids[0] in stored_ids) and _content_hash(path) not in hashes:
            unaccounted.append(path.name)
    assert unaccounted == []
    assert summary.messages_new + summary.messages_skipped + summary.quarantined == len(files)


def _message_id_header(data: bytes) -> str:
    import email

    return str(email.message_from_bytes(data).get("message-id", ""))


def _content_hash(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_odd_charsets_and_bad_dates_are_decoded_or_flagged(realmail_store):
    db, summary = realmail_store
    con = duckdb.connect(str(db), read_only=True)
    bodies = con.execute("SELECT count(*) FROM messages WHERE body_text LIKE '%\ufffd%'").fetchone()[0]
    undated = con.execute("SELECT count(*) FROM messages WHERE sent_at IS NULL").fetchone()[0]
    korean = con.execute("SELECT count(*) FROM messages WHERE subject LIKE '%한국말%'").fetchone()[0]
    con.close()
    assert korean >= 1
    assert bodies <= 2  # replacement characters only where the source itself is broken
    date_warnings = [w for w in summary.warnings if "Date header" in w]
    assert undated == len(date_warnings) > 0
    assert any("bad_date_header" in w for w in date_warnings)
