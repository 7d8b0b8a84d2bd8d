"""MIME decoding on real message bytes: encoded words, charsets (declared, wrong, unknown), HTML,
multipart/alternative, attachments (including a 50 MB one), Date handling and generated ids."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timezone

import pytest

from quarry.errors import ParseError
from quarry.extract.mime import parse_mail
from quarry.extract.pipeline import ingest


def _parse(data: bytes):
    return parse_mail(data, "/tmp/x.eml", "/tmp/x.eml")


def test_rfc2047_subject_and_display_names(mailkit):
    mail = _parse(mailkit.message(
        "enc@test.example", subject="=?utf-8?q?Gr=C3=BC=C3=9Fe_aus_M=C3=BCnchen?= =?iso-8859-1?b?4A==?= la carte",
        sender="=?iso-8859-1?q?J=FCrgen_M=FCller?= <Juergen@Test.Example>",
        to='"Lee, Ann" <ann@test.example>, =?utf-8?b?0JDQvdC90LA=?= <anna@test.example>'))
    assert mail.subject == "Grüße aus Münchenà la carte"
    assert ("from", "juergen@test.example", "Jürgen Müller") in mail.addresses
    assert ("to", "ann@test.example", "Lee, Ann") in mail.addresses
    assert ("to", "anna@test.example", "Анна") in mail.addresses


def test_latin1_body_declared_correctly(mailkit):
    mail = _parse(mailkit.message(charset="iso-8859-1", body="Grüße, café à 10h\n"))
    assert mail.body_text == "Grüße, café à 10h"


def test_wrong_and_unknown_charset_declarations_fall_back(mailkit):
    wrong = _parse(mailkit.message(charset="us-ascii", body_bytes="Grüße aus Köln\n".encode("utf-8")))
    assert wrong.body_text == "Grüße aus Köln"
    unknown = _parse(mailkit.message(charset="x-no-such-charset", body_bytes="Grüße aus Köln\n".encode("latin-1")))
    assert "Köln" in unknown.body_text
    raw_header = mailkit.message(subject="caf\xe9 tonight", charset=None).replace(b"caf\xc3\xa9", b"caf\xe9")
    assert _parse(raw_header).subject == "café tonight"


def _multipart(parts: list[tuple[str, str, bytes]], kind: str = "alternative") -> bytes:
    head = (b"From: Ann <ann@test.example>\nTo: bob@test.example\nSubject: mp\nMessage-ID: <mp@test.example>\n"
            b"Date: Tue, 03 Mar 2026 10:00:00 +0100\nMIME-Version: 1.0\n"
            b"Content-Type: multipart/" + kind.encode() + b'; boundary="BOUND"\n\n')
    body = b""
    for ctype, extra, payload in parts:
        body += b"--BOUND\nContent-Type: " + ctype.encode() + b"\n" + extra.encode() + b"\n" + payload + b"\n"
    return head + body + b"--BOUND--\n"


def test_alternative_prefers_plain_else_converts_html():
    html = b"<html><body><p>Game at <b>10:00</b></p><ul><li>bring water</li></ul></body></html>"
    both = _parse(_multipart([("text/plain; charset=utf-8", "", b"Game at 10:00 (plain)"), ("text/html", "", html)]))
    assert both.body_text == "Game at 10:00 (plain)" and both.has_html
    only_html = _parse(_multipart([("text/html; charset=utf-8", "", html)]))
    assert "Game at **10:00**" in only_html.body_text and "* bring water" in only_html.body_text


def test_attachments_recorded_and_text_kept_for_text_like(mailkit):
    csv = base64.encodebytes(b"name,court\nann,3\n")
    pdf = base64.encodebytes(b"%PDF-1.4 binary" * 100)
    mail = _parse(_multipart([
        ("text/plain", "", b"See attached."),
        ("text/csv; name=list.csv", "Content-Disposition: attachment; filename=list.csv\n"
                                    "Content-Transfer-Encoding: base64\n", csv),
        ("application/pdf", "Content-Disposition: attachment; filename=\"=?utf-8?q?Pl=C3=A4ne.pdf?=\"\n"
                            "Content-Transfer-Encoding: base64\n", pdf),
    ], kind="mixed"))
    assert mail.body_text == "See attached."
    by_name = {a.filename: a for a in mail.attachments}
    assert by_name["list.csv"].text == "name,court\nann,3\n" and by_name["list.csv"].size_bytes == 17
    assert by_name["Pläne.pdf"].text is None and by_name["Pläne.pdf"].size_bytes == 1500
    assert by_name["Pläne.pdf"].content_type == "application/pdf"


def test_fifty_megabyte_attachment_is_sized_not_kept(tmp_path):
    payload = bytes(range(256)) * (50 * 4096)  # 50 MiB
    eml = tmp_path / "big.eml"
    eml.write_bytes(_multipart([
        ("text/plain", "", b"The scans are attached."),
        ("application/octet-stream", "Content-Disposition: attachment; filename=scans.bin\n"
                                     "Content-Transfer-Encoding: base64\n", base64.encodebytes(payload)),
    ], kind="mixed"))
    del payload
    ingest([eml], tmp_path / "q.duckdb")
    import duckdb

    con = duckdb.connect(str(tmp_path / "q.duckdb"), read_only=True)
    assert con.execute("SELECT filename, size_bytes, text FROM attachments").fetchall() == [
        ("scans.bin", 50 << 20, None)]
    assert con.execute("SELECT body_text FROM messages").fetchall() == [("The scans are attached.",)]
    con.close()


@pytest.mark.parametrize(("date", "utc", "offset"), [
    ("Tue, 03 Mar 2026 10:00:00 +0100", datetime(2026, 3, 3, 9, 0, tzinfo=timezone.utc), 60),
    ("Tue, 3 Mar 2026 10:00:00 -0530", datetime(2026, 3, 3, 15, 30, tzinfo=timezone.utc), -330),
    ("3 Mar 2026 10:00 GMT", datetime(2026, 3, 3, 10, 0, tzinfo=timezone.utc), 0),
])
def test_date_with_offset(mailkit, date, utc, offset):
    mail = _parse(mailkit.message(date=date))
    assert (mail.sent_at, mail.sent_offset_min, mail.warnings) == (utc, offset, [])


@pytest.mark.parametrize(("date", "warning"), [(None, "missing Date header"),
                                               ("next tuesday-ish", "unparseable Date header"),
                                               ("Wed, 15 Dec 2010 59:10 -0500", "unparseable Date header")])
def test_missing_or_garbled_date_is_null_with_warning(mailkit, date, warning):
    mail = _parse(mailkit.message(date=date))
    assert mail.sent_at is None and mail.sent_offset_min is None
    assert len(mail.warnings) == 1 and warning in mail.warnings[0]


def test_missing_message_id_gets_a_stable_content_id(mailkit):
    data = mailkit.message(None)
    mail = _parse(data)
    assert mail.message_id == f"sha256-{hashlib.sha256(data).hexdigest()}@quarry"
    assert _parse(data).message_id == mail.message_id


def test_not_mail_raises_parse_error():
    with pytest.raises(ParseError, match="empty message"):
        _parse(b"  \n")
    with pytest.raises(ParseError, match="no mail headers"):
        _parse(b"\x89PNG\r\n\x1a\n\x00\x00binary")
