"""Turn story messages into real MIME: charsets, encoded headers, quoting styles, HTML parts, attachments.

Everything that Python's email package would randomise (boundaries) or take from the clock (nothing else
here does) is fixed, so the same story always gives the same bytes.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from datetime import datetime, timezone
from email import charset as email_charset
from email.header import Header
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.base import MIMEBase
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr

from corpusgen.cast import PEOPLE, Person
from corpusgen.model import Msg, local


@dataclass
class Rendered:
    """A built message plus what later replies and the gold file need to know about it."""

    msg: Msg
    message: Message
    message_id: str
    sender: Person
    address: str
    sent: datetime
    subject: str
    text: str
    refs: tuple[str, ...]


def digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def make_message_id(key: str, sent: datetime, address: str) -> str:
    domain = address.split("@")[1]
    domain = "mail.gmail.com" if domain == "gmail.com" else domain
    return f"{sent.strftime('%Y%m%d%H%M%S')}.{digest(key)[:10]}@{domain}"


def encoded_addr(name: str, address: str, charset: str) -> str:
    try:
        name.encode("ascii")
        return formataddr((name, address))
    except UnicodeEncodeError:
        return formataddr((name, address), charset=charset if _fits(name, charset) else "utf-8")


def encoded_subject(subject: str, charset: str) -> str:
    try:
        subject.encode("ascii")
        return subject
    except UnicodeEncodeError:
        return Header(subject, charset if _fits(subject, charset) else "utf-8").encode()


def _fits(text: str, charset: str) -> bool:
    try:
        text.encode(charset)
        return True
    except (UnicodeEncodeError, LookupError):
        return False


def text_part(text: str, subtype: str, charset: str, base64: bool = False) -> MIMEText:
    """A text part in `charset` if the text fits it (else UTF-8), quoted-printable unless `base64`."""
    if _fits(text, "ascii"):
        return MIMEText(text, subtype, "us-ascii")
    name = charset if _fits(text, charset) else "utf-8"
    cs = email_charset.Charset(name)
    if name != "iso-2022-jp":
        cs.body_encoding = email_charset.BASE64 if base64 else email_charset.QP
    return MIMEText(text, subtype, cs)


def to_html(text: str) -> str:
    """Paragraphs and line breaks as HTML, quoted lines as a blockquote; words are left untouched."""
    blocks = []
    for para in text.split("\n\n"):
        lines = para.split("\n")
        if all(line.startswith(">") for line in lines if line):
            inner = "<br>\n".join(html.escape(line.lstrip("> "), quote=False) for line in lines)
            blocks.append(f'<blockquote style="margin:0 0 0 .8ex;border-left:1px solid #ccc">{inner}</blockquote>')
        else:
            blocks.append("<p>" + "<br>\n".join(html.escape(line, quote=False) for line in lines) + "</p>")
    body = "\n".join(blocks)
    return (f'<html><head><meta charset="utf-8"><style>p{{font-family:Arial}}</style></head>\n'
            f'<body>\n<div dir="ltr">\n{body}\n</div>\n</body></html>\n')


def quote_gmail(parent: Rendered, zone_dt: datetime) -> str:
    when = zone_dt.strftime("%a, %b %-d, %Y at %-I:%M %p")
    lines = "\n".join("> " + line if line else ">" for line in parent.text.splitlines())
    return f"On {when} {parent.sender.name} <{parent.address}> wrote:\n{lines}"


def quote_outlook(parent: Rendered, zone_dt: datetime) -> str:
    to = "; ".join(f"{PEOPLE[k].name} <{PEOPLE[k].email}>" for k in parent.msg.to)
    return (f"-----Original Message-----\nFrom: {parent.sender.name} <{parent.address}>\n"
            f"Sent: {zone_dt.strftime('%A, %B %-d, %Y %-I:%M %p')}\nTo: {to}\nSubject: {parent.subject}\n\n"
            f"{parent.text}")


def compose_text(msg: Msg, sender: Person, parent: Rendered | None) -> str:
    text = msg.body.strip("\n")
    if msg.sig and sender.sig:
        text += "\n\n" + sender.sig
    if parent is not None and msg.quote:
        parent_local = parent.sent.astimezone(local(msg.at, sender.zone).tzinfo)
        quote = quote_outlook if msg.quote == "outlook" else quote_gmail
        text += "\n\n" + quote(parent, parent_local)
    return text + "\n"


def body_part(msg: Msg, text: str, charset: str) -> Message:
    base64 = int(digest(msg.key)[:2], 16) % 4 == 0
    if msg.style == "plain":
        return text_part(text, "plain", charset, base64)
    html_part = text_part(to_html(text), "html", "utf-8", base64)
    if msg.style == "html":
        return html_part
    alt = MIMEMultipart("alternative", boundary=f"00000000alt{digest(msg.key, 'alt')[:20]}")
    alt.attach(text_part(text, "plain", charset, base64))
    alt.attach(html_part)
    return alt


def attachment(name: str, payload: bytes) -> MIMEBase:
    ext = name.rsplit(".", 1)[-1]
    if ext == "png":
        part: MIMEBase = MIMEImage(payload, "png")
    elif ext == "pdf":
        part = MIMEApplication(payload, "pdf")
    elif ext == "ics":
        part = MIMEText(payload.decode("utf-8"), "calendar", "utf-8")
        part.set_param("method", "REQUEST")
    else:
        part = MIMEText(payload.decode("utf-8"), "plain", "utf-8")
    part.add_header("Content-Disposition", "attachment", filename=name)
    return part


def build(msg: Msg, subject: str, parent: Rendered | None, attachments: dict[str, bytes]) -> Rendered:
    """The MIME message for one story message (its parent already built, for quoting and threading)."""
    sender = PEOPLE[msg.frm]
    address = msg.from_addr or sender.email
    sent = local(msg.at, sender.zone)
    charset = msg.charset or sender.charset
    text = compose_text(msg, sender, parent)
    body = body_part(msg, text, charset)
    if msg.attach:
        outer = MIMEMultipart("mixed", boundary=f"00000000mix{digest(msg.key, 'mix')[:20]}")
        outer.attach(body)
        for name in msg.attach:
            outer.attach(attachment(name, attachments[name]))
        message: Message = outer
    else:
        message = body
    message_id = make_message_id(msg.key, sent, address)
    refs: tuple[str, ...] = ()
    message["From"] = encoded_addr(sender.name, address, charset)
    message["To"] = ", ".join(encoded_addr(PEOPLE[k].name, PEOPLE[k].email, charset) for k in msg.to)
    if msg.cc:
        message["Cc"] = ", ".join(encoded_addr(PEOPLE[k].name, PEOPLE[k].email, charset) for k in msg.cc)
    message["Subject"] = encoded_subject(subject, charset)
    message["Date"] = format_datetime(sent)
    message["Message-ID"] = f"<{message_id}>"
    if parent is not None and msg.threaded:
        refs = (*parent.refs, parent.message_id)
        message["In-Reply-To"] = f"<{parent.message_id}>"
        message["References"] = " ".join(f"<{r}>" for r in refs)
    for name, value in msg.extra:
        message[name] = value
    _content_headers_last(message)
    return Rendered(msg, message, message_id, sender, address, sent, subject, text, refs)


def _content_headers_last(message: Message) -> None:
    """Mail clients put From/To/Subject first and the MIME headers after them; so do we."""
    for name in ("MIME-Version", "Content-Type", "Content-Transfer-Encoding"):
        values = message.get_all(name) or []
        del message[name]
        for value in values[:1]:
            message[name] = value


def mbox_entry(message: Message, address: str, sent: datetime) -> bytes:
    """One mbox record: the From_ line (UTC asctime), the message with mboxrd ">From " escaping, a blank line."""
    raw = message.as_bytes()
    lines = raw.split(b"\n")
    escaped = [b">" + line if line.lstrip(b">").startswith(b"From ") else line for line in lines]
    stamp = sent.astimezone(timezone.utc)
    head = f"From {address} {stamp.strftime('%a %b %d %H:%M:%S %Y')}\n".encode()
    return head + b"\n".join(escaped).rstrip(b"\n") + b"\n\n"
