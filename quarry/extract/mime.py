"""Decode one raw RFC 5322 message into plain Python values: headers, dates, addresses, text body, attachments.

Parsing uses the `compat32` policy (about ten times faster than `policy.default` here) and decodes
encoded words, charsets and transfer encodings itself, tolerating wrong charset declarations.
Nothing in this module raises on bad mail except `ParseError` for input that is not mail at all.
"""

from __future__ import annotations

import email
import email.errors
import email.header
import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.message import Message

import charset_normalizer
import html2text

from quarry.errors import ParseError
from quarry.extract.names import (
    ARCHIVE_HEADERS,
    fill_from_archive_headers,
    fill_sender_from_signature,
)

#: Attachments larger than this are recorded (name, type, size) but their text is not kept.
MAX_ATTACHMENT_TEXT_BYTES = 1 << 20
_MAIL_HEADERS = ("from", "to", "subject", "date", "message-id", "cc", "received", "in-reply-to")
_ADDRESS_ROLES = (("from", "from"), ("to", "to"), ("cc", "cc"), ("bcc", "bcc"), ("reply-to", "reply_to"))
_SIMPLE_ADDRESS = re.compile(
    r'^\s*(?:(?:"([^"\\]*)"|([^<>@,"]*?))\s*<([^<>\s,"]+@[^<>\s,"]+)>|([^<>\s,"]+@[^<>\s,"]+))\s*$')
_DETECT_MIN_BYTES = 200
_ELIDE_ABOVE_BYTES = 4 << 20
_ELIDED_MARKER = b"quarry-elided-base64-length="
_BASE64_RUN = re.compile(rb"(?:[A-Za-z0-9+/=]{60,100}\r?\n){10000,}")
_SURROGATE = re.compile("[\udc80-\udcff]")
_ANGLE_ID = re.compile(r"<([^<>\s]+)>")
_OBS_HEADER = re.compile(rb"^([A-Za-z][A-Za-z0-9-]*)[ \t]+:", re.MULTILINE)
_TEXTLIKE = ("text/", "application/json", "application/xml", "message/delivery-status")


@dataclass(slots=True)
class Attachment:
    """One non-body MIME part."""

    filename: str | None
    content_type: str
    size_bytes: int
    text: str | None


@dataclass(slots=True)
class ParsedMail:
    """Everything the pipeline stores about one message (a dataclass: built thousands of times a second)."""

    message_id: str
    source_path: str
    locator: str
    subject: str | None
    date_raw: str | None
    sent_at: datetime | None
    sent_offset_min: int | None
    in_reply_to: str | None
    refs: list[str]
    addresses: list[tuple[str, str, str]]  # (role, lowercased email, decoded display name)
    body_text: str
    has_html: bool
    content_hash: str
    attachments: list[Attachment] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes -> str with the declared charset, else UTF-8, detection, cp1252, latin-1 (never fails)."""
    if charset:
        try:
            return data.decode(charset.strip().strip('"').lower())
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Detection needs material: short undeclared 8-bit text (mostly headers) is far more often cp1252.
    best = charset_normalizer.from_bytes(data[:200_000]).best() if len(data) >= _DETECT_MIN_BYTES else None
    for encoding in ((best.encoding,) if best else ()) + ("cp1252",):
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1")


def decode_header_value(value: object) -> str:
    """An RFC 2047 header (possibly with raw 8-bit bytes or bad charsets) as one clean str."""
    if value is None:
        return ""
    text = str(value) if not isinstance(value, email.header.Header) else ""
    if text and "=?" not in text and text.isascii():
        return " ".join(text.split())
    try:
        # A Header object (8-bit bytes in a compat32 header) decodes to (bytes, 'unknown-8bit') parts.
        parts = email.header.decode_header(value if isinstance(value, email.header.Header) else text)
    except (ValueError, LookupError, AssertionError, email.errors.HeaderParseError):
        return _unfold(text)
    out = []
    for chunk, charset in parts:
        out.append(decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk)
    return _unfold("".join(out))


def _unfold(text: str) -> str:
    # Surrogate escapes come from 8-bit header bytes read as ASCII by compat32.
    if not text.isascii() and _SURROGATE.search(text):
        text = decode_bytes(text.encode("utf-8", "surrogateescape"), None)
    return " ".join(text.split())


def parse_date(raw: str | None) -> tuple[datetime | None, int | None, str | None]:
    """(UTC datetime, the header's own offset in minutes, warning) for a Date header value."""
    if not raw or not raw.strip():
        return None, None, "missing Date header"
    try:
        parsed = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None, None, f"unparseable Date header {raw[:60]!r}"
    if parsed is None:
        return None, None, f"unparseable Date header {raw[:60]!r}"
    if parsed.tzinfo is None:
        # RFC 5322 "-0000" (unknown zone) and zone-less dates: read them as UTC.
        parsed = parsed.replace(tzinfo=timezone.utc)
    offset = parsed.utcoffset() or timedelta(0)
    try:
        return parsed.astimezone(timezone.utc), int(offset.total_seconds() // 60), None
    except (OverflowError, ValueError):
        return None, None, f"Date header out of range {raw[:60]!r}"


def message_ids(value: str | None) -> list[str]:
    """Message ids inside a Message-ID/In-Reply-To/References value, without angle brackets."""
    if not value:
        return []
    found = _ANGLE_ID.findall(value)
    if found:
        return found
    bare = value.strip().split()
    return [bare[0]] if bare and "@" in bare[0] else []


def _parse_address_list(value: str) -> list[tuple[str, str]]:
    """(display name, address) pairs; a regex fast path for plain lists, the stdlib parser otherwise."""
    if "(" not in value and ";" not in value and "\\" not in value:
        pairs = []
        for item in value.split(","):
            match = _SIMPLE_ADDRESS.match(item)
            if match is None:
                break
            quoted, plain, bracketed, bare = match.groups()
            pairs.append((quoted if quoted is not None else plain or "", bracketed or bare))
        else:
            return pairs
    return email.utils.getaddresses([value])


def _addresses(msg: Message) -> list[tuple[str, str, str]]:
    out = []
    for header, role in _ADDRESS_ROLES:
        for value in msg.get_all(header, []):
            for name, addr in _parse_address_list(str(value)):
                addr = decode_header_value(addr).strip().strip("<>").lower()
                if "@" not in addr:
                    continue
                name = decode_header_value(name).strip().strip('"').strip("'") if name else ""
                out.append((role, addr, name))
    return out


def html_to_text(html: str) -> str:
    """Readable plain text from HTML (links inline, no line wrapping)."""
    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_images = True
    return converter.handle(html).strip()


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if payload is None:
        return ""
    return decode_bytes(payload, part.get_content_charset())


def _elide_large_payloads(data: bytes) -> bytes:
    """Replace each huge run of base64 lines by one marker line carrying its length.

    The stdlib parser walks a message line by line: a 50 MB attachment costs ~10 s and hundreds of MB.
    Quarry keeps only the size of such a part, so the bytes never need parsing.
    """
    if len(data) < _ELIDE_ABOVE_BYTES:
        return data
    return _BASE64_RUN.sub(lambda m: b"%s%d\n" % (_ELIDED_MARKER, _base64_decoded_size(m.group(0))), data)


def _base64_decoded_size(run: bytes) -> int:
    payload = len(run) - run.count(b"\n") - run.count(b"\r")
    return payload * 3 // 4 - run.rstrip()[-2:].count(b"=")


def _encoded_size(part: Message) -> int:
    """Decoded size estimated from the encoded payload, without decoding large binaries."""
    raw = part.get_payload()
    if not isinstance(raw, str):
        return 0
    if raw.startswith(_ELIDED_MARKER.decode()):
        marker, _, rest = raw.partition("\n")  # the last, shorter base64 line was not elided
        return int(marker[len(_ELIDED_MARKER):]) + _base64_decoded_size(rest.strip().encode("ascii", "replace"))
    cte = str(part.get("content-transfer-encoding", "")).strip().lower()
    if cte == "base64":
        return max(0, _base64_decoded_size(raw.replace(" ", "").encode("ascii", "replace")))
    return len(raw)


def _attachment(part: Message, ctype: str, filename: str | None) -> Attachment:
    size = _encoded_size(part)
    text = None
    if ctype.startswith(_TEXTLIKE) and size <= MAX_ATTACHMENT_TEXT_BYTES:
        text = _part_text(part)
        size = len(part.get_payload(decode=True) or b"")
        if ctype == "text/html":
            text = html_to_text(text)
        text = text.replace("\x00", "")
    return Attachment(filename, ctype, size, text)


def extract_body(msg: Message) -> tuple[str, bool, list[Attachment]]:
    """(body text, whether HTML was present, attachments): text/plain preferred, else HTML -> text."""
    plain: list[str] = []
    html: list[str] = []
    attachments: list[Attachment] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        filename = part.get_filename()
        filename = decode_header_value(filename) if filename else None
        disposition = str(part.get("content-disposition", "")).lower()
        if filename or disposition.startswith("attachment") or not ctype.startswith(("text/plain", "text/html")):
            if ctype != "message/rfc822" or filename:
                attachments.append(_attachment(part, ctype, filename))
            continue
        (plain if ctype == "text/plain" else html).append(_part_text(part))
    has_html = bool(html)
    if any(p.strip() for p in plain):
        body = "\n\n".join(p.strip() for p in plain if p.strip())
    else:
        body = "\n\n".join(html_to_text(h) for h in html if h.strip())
    return body.replace("\r\n", "\n").replace("\r", "\n"), has_html, attachments


def looks_like_mail(msg: Message, data: bytes) -> str | None:
    """None if `msg` is plausibly an email, else the reason it is not."""
    if not data.strip():
        return "empty message"
    if not any(msg.get(h) is not None for h in _MAIL_HEADERS):
        return "no mail headers (not an RFC 5322 message)"
    head = data[:4096]
    if b"\x00" in head.split(b"\n\n", 1)[0]:
        return "binary data in the header block"
    return None


def _obsolete_headers_fixed(data: bytes) -> bytes:
    """RFC 5322 obs-syntax allows blanks before the colon ("From  : x"); the stdlib parser does not."""
    head, sep, body = data.partition(b"\n\n") if b"\r\n\r\n" not in data[:65536] else data.partition(b"\r\n\r\n")
    return _OBS_HEADER.sub(rb"\1:", head) + sep + body


def parse_mail(data: bytes, source_path: str, locator: str) -> ParsedMail:
    """Parse raw message bytes; raises ParseError only for input that is not a message at all."""
    try:
        msg = email.message_from_bytes(_elide_large_payloads(data))
        reason = looks_like_mail(msg, data)
        if reason and _OBS_HEADER.search(data[:4096]):
            msg = email.message_from_bytes(_obsolete_headers_fixed(data))
            reason = looks_like_mail(msg, data)
    except Exception as exc:  # compat32 is lenient; anything raised here means the bytes are not mail
        raise ParseError(f"cannot parse message: {type(exc).__name__}: {exc}") from exc
    if reason:
        raise ParseError(reason)
    content_hash = hashlib.sha256(data).hexdigest()
    ids = message_ids(decode_header_value(msg.get("message-id")))
    message_id = ids[0] if ids else f"sha256-{content_hash}@quarry"
    date_raw = decode_header_value(msg.get("date")) or None
    sent_at, offset, date_warning = parse_date(date_raw)
    warnings = [date_warning] if date_warning else []
    try:
        body, has_html, attachments = extract_body(msg)
    except Exception as exc:  # a broken MIME tree: keep the headers, flag the body
        body, has_html, attachments = "", False, []
        warnings.append(f"body not decodable: {type(exc).__name__}: {exc}")
    if msg.defects:
        warnings.append("MIME defects: " + ", ".join(sorted({type(d).__name__ for d in msg.defects})))
    in_reply = message_ids(decode_header_value(msg.get("in-reply-to")))
    mail = ParsedMail(
        message_id=message_id, source_path=source_path, locator=locator,
        subject=decode_header_value(msg.get("subject")) or None, date_raw=date_raw,
        sent_at=sent_at, sent_offset_min=offset, in_reply_to=in_reply[0] if in_reply else None,
        refs=message_ids(decode_header_value(msg.get("references"))),
        addresses=fill_sender_from_signature(fill_from_archive_headers(
            {h: decode_header_value(msg.get(h)) for h in ARCHIVE_HEADERS}, _addresses(msg)), body),
        body_text=body.replace("\x00", ""), has_html=has_html, content_hash=content_hash, attachments=attachments,
        warnings=[f"{locator}: {w}" for w in warnings],
    )
    _check_storable(mail)
    return mail


def _check_storable(mail: ParsedMail) -> None:
    """One string DuckDB cannot store (a lone surrogate) would fail a whole batch: refuse the message instead."""
    texts = [mail.message_id, mail.subject or "", mail.body_text, mail.date_raw or "", *mail.refs,
             *(f"{a}{n}" for _, a, n in mail.addresses), *(a.text or "" for a in mail.attachments),
             *(a.filename or "" for a in mail.attachments)]
    try:
        for text in texts:
            text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ParseError(f"undecodable characters in the message: {exc.reason}") from exc
