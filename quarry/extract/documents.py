"""Read documents (.txt, .md, .html, .pdf, .ics) into a title and plain text; .ics VEVENTs become events.

Calendar events keep, as evidence, the SUMMARY and DTSTART lines exactly as they appear in the
(unfolded) file. Unreadable files raise ParseError so the pipeline can quarantine them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from quarry.errors import ParseError
from quarry.extract.mime import decode_bytes, html_to_text

ICS_EXTRACTOR = "ics"
ICS_EXTRACTOR_VERSION = "1"
_HTML_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


@dataclass(slots=True)
class IcsEvent:
    fact_id: str
    title: str
    starts_at: datetime | None
    ends_at: datetime | None
    all_day: bool
    location: str | None
    participants: list[str]
    evidence: str
    timezone: str | None = None  # the TZID of DTSTART, when it names one


@dataclass(slots=True)
class Document:
    document_id: str
    kind: str
    title: str | None
    text: str
    events: list[IcsEvent] = field(default_factory=list)


def _md_title(text: str) -> str | None:
    for line in text.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return None


def _pdf_text(path: Path) -> tuple[str | None, str]:
    import pypdf  # imported on first use: costs ~0.3 s, and most runs read no PDF
    from pypdf.errors import PyPdfError

    try:
        reader = pypdf.PdfReader(str(path))
        text = "\n\n".join((page.extract_text() or "").strip() for page in reader.pages)
        title = reader.metadata.title if reader.metadata else None
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ParseError(f"unreadable PDF: {type(exc).__name__}: {exc}") from exc
    return (str(title) if title else None), text.strip()


def _utc(value: date | datetime | None) -> tuple[datetime | None, bool]:
    """(UTC datetime, all-day flag); floating times are read as UTC."""
    if value is None:
        return None, False
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc), True
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc), False
    return value.astimezone(timezone.utc), False


def _raw_event_blocks(text: str) -> list[dict[str, str]]:
    """For each VEVENT in file order: its unfolded SUMMARY and DTSTART lines as written."""
    unfolded = re.sub(r"\r?\n[ \t]", "", text)
    blocks, current = [], None
    for line in unfolded.splitlines():
        upper = line.upper()
        if upper.startswith("BEGIN:VEVENT"):
            current = {}
        elif upper.startswith("END:VEVENT") and current is not None:
            blocks.append(current)
            current = None
        elif current is not None:
            for name in ("SUMMARY", "DTSTART"):
                if upper.startswith(name) and upper[len(name):len(name) + 1] in (":", ";"):
                    current.setdefault(name, line.strip())
    return blocks


def ics_events(document_id: str, text: str) -> list[IcsEvent]:
    import icalendar  # imported on first use, like pypdf

    try:
        calendar = icalendar.Calendar.from_ical(text)
    except (ValueError, IndexError, KeyError) as exc:
        raise ParseError(f"unreadable iCalendar file: {exc}") from exc
    raw = _raw_event_blocks(text)
    events = []
    for index, vevent in enumerate(calendar.walk("VEVENT")):
        lines = raw[index] if index < len(raw) else {}
        start = vevent.get("DTSTART")
        end = vevent.get("DTEND")
        starts_at, all_day = _utc(start.dt if start else None)
        ends_at, _ = _utc(end.dt if end else None)
        attendees = vevent.get("ATTENDEE") or []
        attendees = attendees if isinstance(attendees, list) else [attendees]
        uid = str(vevent.get("UID") or index)
        events.append(IcsEvent(
            fact_id="ics-" + hashlib.sha256(f"{document_id}|{uid}|{index}".encode()).hexdigest()[:24],
            title=str(vevent.get("SUMMARY") or "(no title)"), starts_at=starts_at, ends_at=ends_at,
            all_day=all_day, location=str(vevent["LOCATION"]) if vevent.get("LOCATION") else None,
            participants=[str(a).removeprefix("mailto:").removeprefix("MAILTO:").lower() for a in attendees],
            evidence="\n".join(lines[k] for k in ("SUMMARY", "DTSTART") if k in lines) or str(vevent.get("SUMMARY", "")),
            timezone=getattr(getattr(start.dt, "tzinfo", None), "key", None) if start else None,
        ))
    return events


def read_document(path: Path, kind: str) -> Document:
    """Title, text (and events for .ics) of one document file."""
    data = path.read_bytes()
    if not data.strip():
        raise ParseError("empty file")
    document_id = hashlib.sha256(data).hexdigest()
    title: str | None = None
    events: list[IcsEvent] = []
    if kind == "pdf":
        title, text = _pdf_text(path)
    else:
        text = decode_bytes(data, None)
        if "\x00" in text:
            raise ParseError(f"binary data in a .{kind} file")
        if kind == "html":
            match = _HTML_TITLE.search(data)
            title = html_to_text(decode_bytes(match.group(1), None)) if match else None
            text = html_to_text(text)
        elif kind == "md":
            title = _md_title(text)
        elif kind == "ics":
            events = ics_events(document_id, text)
            text = "\n".join(f"{e.title}: {e.starts_at.isoformat() if e.starts_at else '?'}" for e in events)
    return Document(document_id, kind, title or path.stem, text.strip(), events)
