"""The traps of real mail, one test each: a corrected due date, a venue change, an .ics invite beside the email
announcing it, a zone written after a time, and a New York "tomorrow" sent after midnight UTC.

(Moves and cancellations in a thread: tests/test_facts.py; DST edges: tests/test_dates.py.)
"""

from datetime import datetime, timezone
from email.message import EmailMessage

from quarry.extract.calendar_links import link_calendar
from quarry.extract.extraction import extract_pending
from quarry.extract.pipeline import ingest
from quarry.store.calendar import import_ics
from quarry.store.db import connect


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def test_a_corrected_due_date_replaces_the_first_one(fact_mailbox):
    add = fact_mailbox.add
    add("m1", "Team nominations close Friday 13 March.", thread="t1", sent="2026-03-10T09:00:00+11:00",
        subject="Season launch")
    add("m2", "Sorry all: nominations actually close Wednesday 18 March, not Friday the 13th.", thread="t2",
        sent="2026-03-11T09:00:00+11:00", subject="CORRECTION: nominations")
    extract_pending(fact_mailbox.con, "rules")
    rows = fact_mailbox.con.execute("SELECT task, due_at, message_id FROM deadlines").fetchall()
    assert len(rows) == 1
    assert rows[0][1] == utc("2026-03-17T13:00")  # 18 March, Sydney midnight
    assert rows[0][2] == "m2"


def test_a_venue_change_relocates_the_event_and_keeps_its_time(fact_mailbox):
    add = fact_mailbox.add
    add("m1", "Presentation night will be Friday 27 March from 7pm at the Bowling Club.", thread="t1",
        sent="2026-03-16T09:00:00+11:00", subject="Presentation night")
    add("m2", "Change of plans: we've moved the presentation night to the Wattle Creek Community Hall.",
        thread="t2", sent="2026-03-20T09:00:00+11:00", subject="Presentation night - new venue")
    extract_pending(fact_mailbox.con, "rules")
    rows = fact_mailbox.con.execute("SELECT title, starts_at, location, updated_by FROM events").fetchall()
    assert rows == [("Presentation night", utc("2026-03-27T08:00"), "Wattle Creek Community Hall", "m2")]
    history = fact_mailbox.con.execute("SELECT message_id, change FROM event_history ORDER BY message_id").fetchall()
    assert history == [("m1", "created"), ("m2", "relocated")]


_INVITE = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//EN\r
BEGIN:VEVENT\r
UID:agm-2026@club.example\r
DTSTAMP:20260401T000000Z\r
DTSTART;TZID=Australia/Sydney:20260512T193000\r
DTEND;TZID=Australia/Sydney:20260512T213000\r
SUMMARY:Annual General Meeting\r
LOCATION:Clubhouse\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_an_invite_the_email_announcing_it_and_the_users_calendar_entry_are_one_event(tmp_path):
    mail = EmailMessage()
    mail["From"] = "Deb Hart <deb@club.example>"
    mail["To"] = "Kim Lee <kim@club.example>"
    mail["Subject"] = "AGM notice"
    mail["Date"] = "Wed, 01 Apr 2026 10:00:00 +1100"
    mail["Message-ID"] = "<agm-notice@club.example>"
    mail.set_content("The Annual General Meeting will be held on Tuesday 12 May at 7:30pm in the clubhouse.")
    mail.add_attachment(_INVITE.encode(), maintype="text", subtype="calendar", filename="agm.ics")
    folder = tmp_path / "mail"
    folder.mkdir()
    (folder / "agm.eml").write_bytes(bytes(mail))
    db = tmp_path / "q.duckdb"
    ingest([folder], db, workers=1)
    calendar = tmp_path / "mine.ics"  # the user's own calendar already holds it (another UID, their own title)
    calendar.write_text(_INVITE.replace("agm-2026@club.example", "kim-cal-7@phone.example")
                        .replace("Annual General Meeting", "Club annual general meeting"))
    other = _INVITE.replace("agm-2026@club.example", "dentist@phone.example").replace("Annual General Meeting", "Dentist")
    (tmp_path / "other.ics").write_text(other)
    con = connect(db)
    try:
        import_ics(con, calendar)
        import_ics(con, tmp_path / "other.ics")
        extract_pending(con, "rules")
        assert link_calendar(con) == 1
        rows = con.execute("SELECT fact_id, title, starts_at, extractor, message_id, timezone FROM events").fetchall()
        entries = dict(con.execute("SELECT event_id, source_fact_id FROM calendar_events").fetchall())
    finally:
        con.close()
    assert [r[1:] for r in rows] == [("Annual General Meeting", utc("2026-05-12T09:30"), "ics",
                                      "agm-notice@club.example", "Australia/Sydney")]
    assert entries == {"kim-cal-7@phone.example": rows[0][0], "dentist@phone.example": None}


def _one_event_start_and_zone(fact_mailbox, body: str, sent: str, subject: str) -> list[tuple]:
    """Extract one message and return (starts_at, timezone) of its events."""
    fact_mailbox.add("m1", body, sent=sent, subject=subject)
    extract_pending(fact_mailbox.con, "rules")
    return fact_mailbox.con.execute("SELECT starts_at, timezone FROM events").fetchall()


def test_a_zone_written_after_the_time_is_the_events_zone(fact_mailbox):
    rows = _one_event_start_and_zone(fact_mailbox, "Could we do a video call on Wednesday 25 March at 10am Perth time?",
                                     "2026-03-16T09:00:00+11:00", "Sponsorship")
    assert rows == [(utc("2026-03-25T02:00"), "Australia/Perth")]


def test_tomorrow_sent_late_in_new_york_is_the_new_york_tomorrow(fact_mailbox):
    # 21:40 in New York on Monday 19 Oct is 01:40 UTC on Tuesday: "tomorrow" is Tuesday, not Wednesday.
    rows = _one_event_start_and_zone(fact_mailbox, "Ok if I drop the wheels off tomorrow at 8 on my way to work?",
                                     "2026-10-19T21:40:00-04:00", "Wheelset")
    assert rows == [(utc("2026-10-20T12:00"), "America/New_York")]


def _mail(folder, name: str, msgid: str, date: str, body: str, subject: str = "Board dinner") -> None:
    mail = EmailMessage()
    mail["From"] = "Maya Chen <maya@lumen.example>"
    mail["To"] = "Board <board@lumen.example>"
    mail["Subject"] = subject
    mail["Date"] = date
    mail["Message-ID"] = f"<{msgid}>"
    mail.set_content(body)
    (folder / name).write_bytes(bytes(mail))


def test_a_note_naming_the_day_of_an_event_moved_in_mail_is_a_source_of_that_event(tmp_path):
    """The note says only "19 November"; the dinner is 19:30 New York time on the 19th, the 20th in UTC.
    Compared as each sender meant the date, it is the same dinner: one row, the note in its history."""
    mail, docs = tmp_path / "mail", tmp_path / "docs"
    mail.mkdir()
    docs.mkdir()
    _mail(mail, "1.eml", "invite@lumen.example", "Thu, 01 Oct 2026 12:30:00 -0400",
          "The board dinner is on Wednesday, November 18 at 7:30pm at Gramercy Tavern.")
    _mail(mail, "2.eml", "move@lumen.example", "Tue, 10 Nov 2026 07:05:00 -0500",
          "We're moving the board dinner to Thursday, November 19, same time, same place.", "Re: Board dinner")
    (docs / "notes.md").write_text("# Board notes\n\nBoard dinner moved to November 19.\n", encoding="utf-8")
    db = tmp_path / "q.duckdb"
    ingest([mail, docs], db, workers=1)
    con = connect(db)
    try:
        extract_pending(con, "rules")
        rows = con.execute("SELECT title, starts_at, status, message_id FROM events").fetchall()
        changes = con.execute("SELECT h.change, d.path IS NOT NULL FROM event_history h "
                              "LEFT JOIN documents d ON d.document_id = h.message_id ORDER BY h.change").fetchall()
    finally:
        con.close()
    assert rows == [("board dinner", utc("2026-11-20T00:30"), "moved", "invite@lumen.example")]
    assert changes == [("created", False), ("mentioned", True), ("moved", False)]


def test_a_scam_and_a_sales_pitch_set_no_deadline_while_a_bake_sale_stays_an_event(fact_mailbox):
    add = fact_mailbox.add
    add("m1", "Your account will be permanently suspended unless you verify your identity by Friday 13 March.",
        thread="t1", sent="2026-03-10T09:00:00+00:00", subject="Action required")
    add("m2", "Spring offer: 30% off all kit until Sunday 15 March. Entries for the league close Friday 20 March.",
        thread="t2", sent="2026-03-10T09:00:00+00:00", subject="News from the shop")
    add("m3", "The bake sale is on Friday 13 March at 3pm in the hall.", thread="t3",
        sent="2026-03-10T09:00:00+00:00", subject="Bake sale")
    extract_pending(fact_mailbox.con, "rules")
    deadlines = fact_mailbox.con.execute("SELECT message_id, due_at FROM deadlines ORDER BY 1").fetchall()
    assert deadlines == [("m2", utc("2026-03-20T00:00"))]  # the entries, not the offer nor the scam
    events = fact_mailbox.con.execute("SELECT message_id, starts_at FROM events").fetchall()
    assert events == [("m3", utc("2026-03-13T15:00"))]


def test_a_confirmation_giving_date_and_time_on_field_lines_is_one_timed_event(fact_mailbox):
    fact_mailbox.add("m1", "Your appointment is confirmed.\n\nLocation: Town Hall, room 1.14\nDate: Tuesday, 07.04.2026\n"
                     "Time: 09:20\nBooking number: NK-44\n", thread="t1", sent="2026-03-11T11:45:00+01:00",
                     subject="Booking confirmed: passport renewal")
    extract_pending(fact_mailbox.con, "rules")
    rows = fact_mailbox.con.execute("SELECT title, starts_at, all_day FROM events").fetchall()
    assert rows == [("passport renewal", utc("2026-04-07T07:20"), False)]  # 09:20 Berlin summer time
