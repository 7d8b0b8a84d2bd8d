"""The user's own calendar: list, conflicts, add, and ICS import/export (with the icalendar library).

Times are instants: stored as TIMESTAMPTZ in UTC, exported as UTC in ICS, and any zone an imported
file carries (TZID or offset) is converted to the same UTC instant. An event without an end lasts
DEFAULT_LENGTH for overlap checks.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import duckdb
import icalendar
from pydantic import BaseModel, Field

from quarry.errors import InputError

DEFAULT_LENGTH = timedelta(hours=1)
_PRODID = "-//Quarry//calendar//EN"
_COLUMNS = "event_id, title, starts_at, ends_at, location, attendees, source_fact_id, origin"


class CalendarEvent(BaseModel):
    """One calendar entry; times are timezone-aware UTC instants."""

    event_id: str = Field(default_factory=lambda: f"{uuid.uuid4().hex}@quarry")
    title: str
    starts_at: datetime
    ends_at: datetime | None = None
    location: str | None = None
    attendees: list[str] = Field(default_factory=list)
    source_fact_id: str | None = None
    origin: str = "user"

    @property
    def end(self) -> datetime:
        return self.ends_at or self.starts_at + DEFAULT_LENGTH


#: quarry.store.query.instant_text's form: optional weekday, the ISO part, optional " UTC".
_SHOWN_FORM = re.compile(r"^(?:[A-Za-z]{3},?\s+)?(\d{4}-\d{2}-\d{2}(?:[ T][\d:.]+)?)\s*UTC$")


def parse_instant(text: str, what: str = "time") -> datetime:
    """An ISO 8601 date or time as a UTC instant; no offset means UTC, a bare date means midnight UTC.

    Also takes the form tool results show ('Fri 2026-10-09 20:00 UTC'), so a model can copy it."""
    raw = _SHOWN_FORM.sub(r"\1", text.strip())
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise InputError(f"{what} {text!r} is not an ISO 8601 time like 2026-03-14T10:00:00+00:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def instant_or_none(text: str) -> datetime | None:
    """`parse_instant`, or None for text that names no real time (a model or a mail may write "24:30")."""
    try:
        return parse_instant(text)
    except InputError:
        return None


def _row_event(row: tuple) -> CalendarEvent:
    values = dict(zip([c.strip() for c in _COLUMNS.split(",")], row))
    values["attendees"] = list(values["attendees"] or [])
    return CalendarEvent(**values)


def list_events(con: duckdb.DuckDBPyConnection, start: datetime | None = None,
                end: datetime | None = None) -> list[CalendarEvent]:
    """Events overlapping [start, end) (either bound may be open), in start order."""
    rows = con.execute(
        f"SELECT {_COLUMNS} FROM calendar_events "
        "WHERE (CAST(? AS TIMESTAMPTZ) IS NULL OR coalesce(ends_at, starts_at + INTERVAL 1 HOUR) > ?) "
        "AND (CAST(? AS TIMESTAMPTZ) IS NULL OR starts_at < ?) ORDER BY starts_at, event_id",
        [start, start, end, end],
    ).fetchall()
    return [_row_event(r) for r in rows]


def conflicts(con: duckdb.DuckDBPyConnection, start: datetime, end: datetime | None = None) -> list[CalendarEvent]:
    """Calendar events that overlap the slot [start, end) (end defaults to start + DEFAULT_LENGTH)."""
    return list_events(con, start, end or start + DEFAULT_LENGTH)


def add_event(con: duckdb.DuckDBPyConnection, event: CalendarEvent) -> CalendarEvent:
    """Insert (or replace, by event_id) one event; returns it."""
    if event.ends_at is not None and event.ends_at < event.starts_at:
        raise InputError(f"event {event.title!r}: end {event.ends_at.isoformat()} is before start "
                         f"{event.starts_at.isoformat()}")
    con.execute(
        f"INSERT OR REPLACE INTO calendar_events ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [event.event_id, event.title, event.starts_at, event.ends_at, event.location, event.attendees,
         event.source_fact_id, event.origin],
    )
    return event


def to_ics(events: list[CalendarEvent]) -> bytes:
    """A VCALENDAR holding `events`, times in UTC."""
    cal = icalendar.Calendar()
    cal.add("prodid", _PRODID)
    cal.add("version", "2.0")
    for event in events:
        item = icalendar.Event()
        item.add("uid", event.event_id)
        item.add("summary", event.title)
        item.add("dtstamp", datetime.now(timezone.utc))
        item.add("dtstart", event.starts_at.astimezone(timezone.utc))
        if event.ends_at is not None:
            item.add("dtend", event.ends_at.astimezone(timezone.utc))
        if event.location:
            item.add("location", event.location)
        for attendee in event.attendees:
            item.add("attendee", f"mailto:{attendee}")
        if event.source_fact_id:
            item.add("x-quarry-fact-id", event.source_fact_id)
        cal.add_component(item)
    return cal.to_ical()


def export_ics(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """Write the whole calendar to `path` as ICS; returns the number of events."""
    events = list_events(con)
    try:
        path.write_bytes(to_ics(events))
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror}") from exc
    return len(events)


def _instant(value: date | datetime) -> datetime:
    if not isinstance(value, datetime):
        return datetime.combine(value, time(0), tzinfo=timezone.utc)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def from_ics(data: bytes, origin: str = "ics", name: str = "calendar") -> list[CalendarEvent]:
    """The VEVENTs of an ICS document as CalendarEvents; `name` labels errors."""
    try:
        cal = icalendar.Calendar.from_ical(data)
    except ValueError as exc:
        raise InputError(f"{name}: not an ICS calendar: {exc}".splitlines()[0]) from exc
    events = []
    for item in cal.walk("VEVENT"):
        if item.get("dtstart") is None:
            raise InputError(f"{name}: event {item.get('summary', '?')!r} has no DTSTART")
        start = _instant(item.decoded("dtstart"))
        end = _instant(item.decoded("dtend")) if item.get("dtend") is not None else None
        if end is None and item.get("duration") is not None:
            end = start + item.decoded("duration")
        attendees = item.get("attendee") or []
        attendees = attendees if isinstance(attendees, list) else [attendees]
        events.append(CalendarEvent(
            event_id=str(item.get("uid") or uuid.uuid4().hex + "@quarry"),
            title=str(item.get("summary") or "(no title)"),
            starts_at=start, ends_at=end,
            location=str(item["location"]) if item.get("location") else None,
            attendees=[str(a).removeprefix("mailto:").removeprefix("MAILTO:") for a in attendees],
            source_fact_id=str(item["x-quarry-fact-id"]) if item.get("x-quarry-fact-id") else None,
            origin=origin,
        ))
    return events


def import_ics(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """Add every event of the ICS file at `path` (re-importing replaces by UID); returns the count."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from exc
    events = from_ics(data, name=str(path))
    con.execute("BEGIN")
    try:
        for event in events:
            add_event(con, event)
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    return len(events)
