"""Calendar storage, tools and CLI on real stores: add with/without confirmation, conflicts, ICS round trip."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from quarry.agent.tools.base import ToolContext, run_tool
from quarry.agent.tools.registry import all_tools
from quarry.errors import InputError
from quarry.store.calendar import CalendarEvent, add_event, conflicts, from_ics, import_ics, list_events
from quarry.store.db import connect
from quarry.store.session import StoreSession

BERLIN_ICS = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:STANDARD
DTSTART:19701025T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19700329T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VEVENT
UID:board-dinner@test
SUMMARY:Board dinner
DTSTAMP:20260101T000000Z
DTSTART;TZID=Europe/Berlin:20260312T190000
DTEND;TZID=Europe/Berlin:20260312T210000
LOCATION:Luigi's
ATTENDEE:mailto:dana@club.example
ATTENDEE:mailto:lee@work.example
END:VEVENT
BEGIN:VEVENT
UID:summer@test
SUMMARY:Summer call
DTSTAMP:20260101T000000Z
DTSTART;TZID=Europe/Berlin:20260701T090000
DURATION:PT30M
END:VEVENT
BEGIN:VEVENT
UID:holiday@test
SUMMARY:Holiday
DTSTAMP:20260101T000000Z
DTSTART;VALUE=DATE:20260406
DTEND;VALUE=DATE:20260407
END:VEVENT
END:VCALENDAR
"""


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)


@pytest.fixture
def session(tmp_path):
    store = StoreSession(tmp_path / "cal.duckdb")
    with store.writer() as con:
        add_event(con, CalendarEvent(event_id="dentist@test", title="Dentist",
                                     starts_at=utc("2026-03-14T09:30:00+00:00"),
                                     ends_at=utc("2026-03-14T10:30:00+00:00")))
    yield store
    store.close()


def call(store, name, confirm=lambda _: False, **arguments):
    return run_tool(all_tools(), name, arguments, ToolContext(store=store, confirm=confirm))


def test_calendar_add_with_confirmation_writes_and_reports_overlaps(session):
    asked = []
    result = call(session, "calendar_add", confirm=lambda d: asked.append(d) or True, title="Pickle game",
                  start="2026-03-14T10:00:00Z", end="2026-03-14T12:00:00Z", attendees=["dana@club.example"],
                  source_fact_id="f1")
    assert result.ok and result.content.startswith("added 'Pickle game'") and "overlaps 'Dentist'" in result.content
    assert asked == ["Add 'Pickle game' to your calendar, 2026-03-14T10:00:00+00:00 to 2026-03-14T12:00:00+00:00?"]
    added = [e for e in list_events(session.reader()) if e.title == "Pickle game"]
    assert len(added) == 1
    assert (added[0].starts_at, added[0].attendees, added[0].source_fact_id, added[0].origin) == (
        utc("2026-03-14T10:00:00+00:00"), ["dana@club.example"], "f1", "agent")


def test_calendar_add_without_confirmation_writes_nothing(session):
    result = call(session, "calendar_add", title="Wire money to X", start="2026-03-20T09:00:00+00:00")
    assert result.ok and result.content == "the user declined: nothing was added to the calendar"
    assert [e.title for e in list_events(session.reader())] == ["Dentist"]


def test_calendar_add_rejects_bad_times(session):
    result = call(session, "calendar_add", confirm=lambda _: True, title="X", start="next friday")
    assert not result.ok and "ISO 8601" in result.content
    result = call(session, "calendar_add", confirm=lambda _: True, title="X", start="2026-03-14T10:00:00Z",
                  end="2026-03-14T09:00:00Z")
    assert not result.ok and "before start" in result.content


def test_conflicts_use_half_open_slots(session):
    reader = session.reader()
    assert [e.title for e in conflicts(reader, utc("2026-03-14T10:00:00+00:00"))] == ["Dentist"]
    assert conflicts(reader, utc("2026-03-14T10:30:00+00:00"), utc("2026-03-14T11:00:00+00:00")) == []
    assert conflicts(reader, utc("2026-03-14T08:30:00+00:00"), utc("2026-03-14T09:30:00+00:00")) == []
    busy = call(session, "calendar_conflicts", start="2026-03-14T11:00:00+01:00", end="2026-03-14T12:00:00+01:00")
    assert busy.content.startswith("busy: 1 event(s) overlap") and "dentist@test | Dentist" in busy.content
    free = call(session, "calendar_conflicts", start="2026-03-15T10:00:00Z", end="2026-03-15T11:00:00Z")
    assert free.content.startswith("free: nothing on the calendar overlaps")


def test_calendar_list_tool(session):
    listed = call(session, "calendar_list", start="2026-03-01T00:00:00Z", end="2026-04-01T00:00:00Z")
    assert listed.content.splitlines()[1].startswith("dentist@test | Dentist | Sat 2026-03-14 09:30 UTC")
    empty = call(session, "calendar_list", start="2027-01-01T00:00:00Z", end="2027-02-01T00:00:00Z")
    assert empty.content.startswith("(no calendar events")


def test_ics_zones_become_utc_instants():
    events = {e.event_id: e for e in from_ics(BERLIN_ICS)}
    dinner = events["board-dinner@test"]
    assert (dinner.starts_at, dinner.ends_at) == (utc("2026-03-12T18:00:00+00:00"), utc("2026-03-12T20:00:00+00:00"))
    assert dinner.attendees == ["dana@club.example", "lee@work.example"] and dinner.location == "Luigi's"
    summer = events["summer@test"]  # summer time: UTC+2, and DURATION instead of DTEND
    assert (summer.starts_at, summer.ends_at) == (utc("2026-07-01T07:00:00+00:00"), utc("2026-07-01T07:30:00+00:00"))
    assert events["holiday@test"].starts_at == utc("2026-04-06T00:00:00+00:00")


def test_ics_round_trip_through_a_fresh_store(session, tmp_path):
    source = tmp_path / "in.ics"
    source.write_bytes(BERLIN_ICS)
    with session.writer() as con:
        assert import_ics(con, source) == 3
        assert import_ics(con, source) == 3  # re-import replaces by UID
    out = tmp_path / "out.ics"
    assert call(session, "calendar_export", path=str(out)).content == "the user declined: no file was written"
    assert not out.exists()
    written = call(session, "calendar_export", confirm=lambda _: True, path=str(out))
    assert written.content == f"wrote 4 event(s) to {out}"
    fresh = connect(tmp_path / "fresh.duckdb")
    assert import_ics(fresh, out) == 4

    def shape(events):
        return sorted((e.event_id, e.title, e.starts_at, e.ends_at, e.location, tuple(e.attendees)) for e in events)

    assert shape(list_events(fresh)) == shape(list_events(session.reader()))
    fresh.close()


def test_calendar_export_tool_refuses_non_ics_paths(session, tmp_path):
    result = call(session, "calendar_export", confirm=lambda _: True, path=str(tmp_path / ".bashrc"))
    assert not result.ok and "must end in .ics" in result.content


def test_import_of_a_broken_file_names_the_file(tmp_path):
    bad = tmp_path / "broken.ics"
    bad.write_text("this is not a calendar")
    con = connect(":memory:")
    with pytest.raises(InputError, match="broken.ics: not an ICS calendar"):
        import_ics(con, bad)
    with pytest.raises(InputError, match="missing.ics: cannot read"):
        import_ics(con, tmp_path / "missing.ics")


# --- `quarry calendar ...` --------------------------------------------------------------------------

def quarry(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from quarry.cli import main; main()", *args],
                          capture_output=True, text=True, input=stdin, timeout=120)


def test_cli_calendar_add_list_export_import(tmp_path):
    db = str(tmp_path / "cli.duckdb")
    declined = quarry("calendar", "add", "Board dinner", "--start", "2026-03-12T19:00:00+01:00", "--db", db,
                      stdin="n\n")
    assert declined.returncode == 1 and "not added" in declined.stdout
    added = quarry("calendar", "add", "Board dinner", "--start", "2026-03-12T19:00:00+01:00",
                   "--end", "2026-03-12T21:00:00+01:00", "--attendee", "dana@club.example", "--db", db, stdin="y\n")
    assert added.returncode == 0 and "added Board dinner" in added.stdout
    forced = quarry("calendar", "add", "Drinks", "--start", "2026-03-12T19:30:00Z", "--yes", "--db", db)
    assert forced.returncode == 0 and "overlaps: Board dinner" in forced.stdout
    listed = quarry("calendar", "list", "--from", "2026-03-12", "--to", "2026-03-13", "--json", "--db", db)
    rows = json.loads(listed.stdout)
    assert [(r["title"], r["starts_at"]) for r in rows] == [
        ("Board dinner", "2026-03-12T18:00:00+00:00"), ("Drinks", "2026-03-12T19:30:00+00:00")]
    out = tmp_path / "cal.ics"
    exported = quarry("calendar", "export", str(out), "--db", db)
    assert exported.returncode == 0 and exported.stdout.strip() == f"wrote 2 event(s) to {out}"
    other = str(tmp_path / "other.duckdb")
    imported = quarry("calendar", "import", str(out), "--db", other)
    assert imported.returncode == 0 and "imported 2 event(s)" in imported.stdout
    again = json.loads(quarry("calendar", "list", "--json", "--db", other).stdout)
    assert [(r["title"], r["starts_at"], r["ends_at"]) for r in again] == [
        (r["title"], r["starts_at"], r["ends_at"]) for r in rows]


def test_cli_calendar_errors_are_one_line(tmp_path):
    db = str(tmp_path / "cli.duckdb")
    bad_time = quarry("calendar", "add", "X", "--start", "tomorrow-ish", "--yes", "--db", db)
    assert bad_time.returncode == 1
    assert bad_time.stderr.strip() == (
        "error: --start 'tomorrow-ish' is not an ISO 8601 time like 2026-03-14T10:00:00+00:00")
    missing = quarry("calendar", "import", str(tmp_path / "nope.ics"), "--db", db)
    assert missing.returncode == 1 and missing.stderr.startswith("error: ")
    assert "nope.ics: cannot read" in missing.stderr
