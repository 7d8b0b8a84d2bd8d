"""Each reader on real files in a temp dir, through the real pipeline into a real DuckDB store:
mbox, Maildir, a folder of .eml, a single .eml, documents (txt, md, html, pdf, ics), and bad input."""

from __future__ import annotations

from datetime import datetime, timezone

import duckdb
import pytest

from quarry.errors import InputError
from quarry.extract.mailreaders import discover, iter_mbox, mbox_ranges
from quarry.extract.pipeline import ingest


def _rows(db, sql):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_mbox_is_read_and_split_at_from_lines(tmp_path, mailkit):
    messages = mailkit.thread_of(5)
    messages.append(mailkit.message("fromline@test.example", body="Line one\nFrom the start it was clear.\n"))
    mbox = tmp_path / "inbox.mbox"
    mbox.write_bytes(mailkit.mbox_bytes(messages))
    summary = ingest([mbox], tmp_path / "q.duckdb")
    assert summary.messages_new == 6 and summary.quarantined == 0
    body = _rows(tmp_path / "q.duckdb", "SELECT body_text FROM messages WHERE message_id = 'fromline@test.example'")
    assert body == [("Line one\nFrom the start it was clear.",)]
    assert _rows(tmp_path / "q.duckdb", "SELECT kind, size_bytes FROM sources") == [("mbox", mbox.stat().st_size)]


def test_mbox_byte_ranges_cover_every_message_once(tmp_path, mailkit):
    mbox = tmp_path / "big.mbox"
    mbox.write_bytes(mailkit.mbox_bytes(mailkit.thread_of(300)))
    ranges = mbox_ranges(mbox, 0, 4, min_bytes=1000)
    assert len(ranges) == 4 and ranges[0][0] == 0 and ranges[-1][1] == mbox.stat().st_size
    pieces = [raw.locator for start, end in ranges for _, _, raw in iter_mbox(mbox, start, end)]
    assert len(pieces) == 300 == len(set(pieces))


def test_maildir_cur_and_new(tmp_path, mailkit):
    maildir = mailkit.write_maildir(tmp_path / "Maildir", mailkit.thread_of(6))
    (maildir / "tmp" / "partial").write_bytes(b"half a message")
    summary = ingest([maildir], tmp_path / "q.duckdb")
    assert summary.messages_new == 6 and summary.quarantined == 0 and summary.sources_read == 6
    assert _rows(tmp_path / "q.duckdb", "SELECT DISTINCT kind FROM sources") == [("maildir",)]


def test_eml_folder_recursive_and_single_file(tmp_path, mailkit):
    (tmp_path / "mail" / "deep" / "er").mkdir(parents=True)
    (tmp_path / "mail" / "a.eml").write_bytes(mailkit.message("a@test.example"))
    (tmp_path / "mail" / "deep" / "er" / "b.eml").write_bytes(mailkit.message("b@test.example"))
    (tmp_path / "mail" / "deep" / "notes.xyz").write_bytes(b"not mail")
    single = tmp_path / "single.eml"
    single.write_bytes(mailkit.message("c@test.example"))
    summary = ingest([tmp_path / "mail", single], tmp_path / "q.duckdb")
    assert summary.messages_new == 3 and summary.files_skipped == 1
    ids = _rows(tmp_path / "q.duckdb", "SELECT message_id FROM messages ORDER BY 1")
    assert ids == [("a@test.example",), ("b@test.example",), ("c@test.example",)]


def test_stored_message_fields(tmp_path, mailkit):
    eml = tmp_path / "one.eml"
    eml.write_bytes(mailkit.message("one@test.example", subject="Pickle game", headers={"Cc": "cara@test.example"},
                                    body="Hi Bob,\n\nGame on Saturday.\n\nBest,\nAnn\n"))
    ingest([eml], tmp_path / "q.duckdb")
    row = _rows(tmp_path / "q.duckdb", "SELECT sender, sender_name, subject, sent_at, sent_offset_min, body_clean, "
                                       "thread_id FROM messages")[0]
    assert row[:3] == ("ann@test.example", "Ann Lee", "Pickle game")
    assert row[3] == datetime(2026, 3, 3, 9, 0, tzinfo=timezone.utc) and row[4] == 60
    assert row[5] == "Hi Bob,\n\nGame on Saturday." and row[6] == "one@test.example"
    roles = _rows(tmp_path / "q.duckdb", "SELECT email, role FROM message_people ORDER BY role, email")
    assert roles == [("cara@test.example", "cc"), ("ann@test.example", "from"), ("bob@test.example", "to")]
    chunks = _rows(tmp_path / "q.duckdb", "SELECT parent_kind, text FROM chunks")
    assert chunks == [("message", "Pickle game\n\nHi Bob,\n\nGame on Saturday.")]


def _pdf(path, text):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 10, text)
    pdf.set_title("Club rules")
    pdf.output(str(path))


ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
    "BEGIN:VEVENT\r\nUID:e1@test\r\nSUMMARY:Board dinner\r\nDTSTART;TZID=Europe/Berlin:20260320T190000\r\n"
    "DTEND;TZID=Europe/Berlin:20260320T220000\r\nLOCATION:Rathaus\r\nATTENDEE:mailto:ann@test.example\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:e2@test\r\nSUMMARY:Team offsite with a very long title that the writer folded over\r\n"
    " two lines\r\nDTSTART;VALUE=DATE:20260401\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def test_documents_txt_md_html_pdf_ics(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "note.txt").write_text("Buy balls.\n\nCourt 3 is closed.", encoding="latin-1")
    (docs / "plan.md").write_text("# Season plan\n\nGames every Saturday.", encoding="utf-8")
    (docs / "page.html").write_text("<html><head><title>Fixtures</title></head><body><h1>Fixtures</h1>"
                                    "<p>Home game <b>14 March</b>.</p></body></html>", encoding="utf-8")
    _pdf(docs / "rules.pdf", "Rule 1: bring water.")
    (docs / "cal.ics").write_text(ICS, encoding="utf-8", newline="")
    summary = ingest([docs], tmp_path / "q.duckdb")
    assert summary.documents_new == 5 and summary.events_new == 2 and summary.quarantined == 0
    got = {kind: (title, text) for kind, title, text in _rows(tmp_path / "q.duckdb",
                                                                "SELECT kind, title, text FROM documents")}
    assert got["txt"] == ("note", "Buy balls.\n\nCourt 3 is closed.")
    assert got["md"][0] == "Season plan"
    assert got["html"][0] == "Fixtures" and "Home game **14 March**." in got["html"][1]
    assert got["pdf"] == ("Club rules", "Rule 1: bring water.")
    events = _rows(tmp_path / "q.duckdb", "SELECT title, starts_at, ends_at, all_day, location, participants, evidence,"
                                          " extractor, extractor_version, document_id IS NOT NULL FROM events ORDER BY title")
    dinner, offsite = events
    assert dinner[:6] == ("Board dinner", datetime(2026, 3, 20, 18, 0, tzinfo=timezone.utc),
                          datetime(2026, 3, 20, 21, 0, tzinfo=timezone.utc), False, "Rathaus", ["ann@test.example"])
    assert dinner[6] == "SUMMARY:Board dinner\nDTSTART;TZID=Europe/Berlin:20260320T190000"
    assert dinner[7:] == ("ics", "1", True)
    assert offsite[3] is True and offsite[6].startswith("SUMMARY:Team offsite with a very long title that the writer "
                                                         "folded overtwo lines\nDTSTART;VALUE=DATE:20260401")
    assert _rows(tmp_path / "q.duckdb", "SELECT count(*) FROM chunks WHERE parent_kind = 'document'")[0][0] >= 5


def test_bad_input_is_quarantined_and_the_run_goes_on(tmp_path, mailkit):
    mail = tmp_path / "mail"
    mail.mkdir()
    (mail / "junk.eml").write_bytes(bytes(range(256)) * 40)
    (mail / "empty.eml").write_bytes(b"")
    (mail / "good.eml").write_bytes(mailkit.message("good@test.example"))
    (mail / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    mbox = tmp_path / "cut.mbox"
    data = mailkit.mbox_bytes(mailkit.thread_of(3))
    mbox.write_bytes(data[:-40])  # truncated in the middle of the last message
    summary = ingest([mail, mbox], tmp_path / "q.duckdb")
    assert summary.messages_new == 3 and summary.quarantined == 4
    rows = _rows(tmp_path / "q.duckdb", "SELECT source_path, locator, reason, raw_size, octet_length(raw) FROM quarantine")
    reasons = {row[0].rsplit("/", 1)[-1]: row for row in rows}
    assert "no mail headers" in reasons["junk.eml"][2] and reasons["junk.eml"][3] == 256 * 40
    assert reasons["empty.eml"][2] == "empty message"
    assert reasons["broken.pdf"][2].startswith("unreadable PDF")
    assert reasons["cut.mbox"][1].startswith("mbox offset ") and "truncated" in reasons["cut.mbox"][2]


def test_explicit_bad_paths_raise_input_error(tmp_path):
    with pytest.raises(InputError, match="no such file or directory"):
        discover([tmp_path / "missing.mbox"])
    odd = tmp_path / "photo.jpg"
    odd.write_bytes(b"\xff\xd8\xff")
    with pytest.raises(InputError, match="photo.jpg: unsupported file type"):
        discover([odd])
