"""Hand-written gold questions: counting, lists, calendar look-ups, time zones, relative dates, and unknowns.

Answers are still computed from the gold facts (never typed in), so a story change cannot leave them stale.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from corpusgen.model import NY

MAYA = "maya@lumenfield.io"


def _ny_day(value: str) -> str:
    return datetime.fromisoformat(value).astimezone(ZoneInfo(NY)).date().isoformat()


def _ny_month(value: str) -> str:
    return _ny_day(value)[:7]


def _ids(rows: list[dict]) -> list[str]:
    return sorted({r["message_id"] for r in rows} | {r["updated_by"] for r in rows if r.get("updated_by")})


NY_DAY = "CAST(timezone('America/New_York', {col}) AS DATE)"
NY_MONTH = "strftime(timezone('America/New_York', {col}), '%Y-%m')"


def counts(b, f: dict) -> None:
    ev, dl, ai = f["events"], f["deadlines"], f["action_items"]
    cancelled = [e for e in ev if e["status"] == "cancelled"]
    moved = [e for e in ev if e["status"] == "moved"]
    mine = [a for a in ai if a["owner"] == MAYA]
    bens = [a for a in ai if a["owner"] == "ben@lumenfield.io"]
    oct_deadlines = [d for d in dl if _ny_month(d["due_at"]) == "2026-10"]
    red_hook = [e for e in ev if (e["location"] or "") == "Red Hook courts"]
    nov_events = [e for e in ev if e["status"] != "cancelled" and _ny_month(e["starts_at"]) == "2026-11"]
    oct_cal = [c for c in f["calendar"] if _ny_month(c["starts_at"]) == "2026-10"]
    for q, rows, sql in (
        ("How many events in my mail were cancelled?", cancelled,
         "SELECT count(*) FROM events WHERE status = 'cancelled'"),
        ("How many events got rescheduled?", moved, "SELECT count(*) FROM events WHERE status = 'moved'"),
        ("How many action items are assigned to me?", mine,
         f"SELECT count(*) FROM action_items WHERE owner = '{MAYA}'"),
        ("How many things has Ben been asked to do?", bens,
         "SELECT count(*) FROM action_items WHERE owner = 'ben@lumenfield.io'"),
        ("How many deadlines fall in October?", oct_deadlines,
         f"SELECT count(*) FROM deadlines WHERE {NY_MONTH.format(col='due_at')} = '2026-10'"),
        ("How many events are at the Red Hook courts?", red_hook,
         "SELECT count(*) FROM events WHERE location ILIKE '%Red Hook courts%'"),
        ("How many events that are still on happen in November?", nov_events,
         f"SELECT count(*) FROM events WHERE status <> 'cancelled' AND {NY_MONTH.format(col='starts_at')} = '2026-11'"),
    ):
        b.add(q, str(len(rows)), "number", _ids(rows), sql)
    b.add("How many entries does my own calendar have in October?", str(len(oct_cal)), "number", [],
          f"SELECT count(*) FROM calendar_events WHERE {NY_MONTH.format(col='starts_at')} = '2026-10'")


def lists(b, f: dict) -> None:
    ev, dl, ai = f["events"], f["deadlines"], f["action_items"]
    specs = [
        ("Which events were cancelled?", [e for e in ev if e["status"] == "cancelled"], "title",
         "SELECT title FROM events WHERE status = 'cancelled' ORDER BY starts_at"),
        ("List the events that were moved to a new time.", [e for e in ev if e["status"] == "moved"], "title",
         "SELECT title FROM events WHERE status = 'moved' ORDER BY starts_at"),
        ("What are my open action items?", [a for a in ai if a["owner"] == MAYA], "task",
         f"SELECT task FROM action_items WHERE owner = '{MAYA}' AND status = 'open' ORDER BY due_at"),
        ("What has Dana been asked to do?", [a for a in ai if a["owner"] == "dana@lumenfield.io"], "task",
         "SELECT task FROM action_items WHERE owner = 'dana@lumenfield.io'"),
        ("Which events are at McCarren Park?", [e for e in ev if e["location"] == "McCarren Park"], "title",
         "SELECT title FROM events WHERE location ILIKE '%McCarren%'"),
        ("What deadlines are coming up in November?", [d for d in dl if _ny_month(d["due_at"]) == "2026-11"], "task",
         f"SELECT task FROM deadlines WHERE {NY_MONTH.format(col='due_at')} = '2026-11' ORDER BY due_at"),
        ("What's happening on Thursday, October 8?", [e for e in ev if _ny_day(e["starts_at"]) == "2026-10-08"],
         "title", f"SELECT title FROM events WHERE {NY_DAY.format(col='starts_at')} = DATE '2026-10-08'"),
        ("Which events happen on Zoom?", [e for e in ev if e["location"] == "Zoom"], "title",
         "SELECT title FROM events WHERE location = 'Zoom'"),
    ]
    for q, rows, col, sql in specs:
        b.add(q, [r[col] for r in rows], "list", _ids(rows), sql)
    for day, label in (("2026-10-22", "October 22"), ("2026-11-19", "Thursday, November 19"),
                       ("2026-10-17", "Saturday the 17th of October")):
        cal = [c["title"] for c in f["calendar"] if _ny_day(c["starts_at"]) == day]
        b.add(f"What's on my own calendar on {label}?", cal, "list", [],
              f"SELECT title FROM calendar_events WHERE {NY_DAY.format(col='starts_at')} = DATE '{day}'")


def _event(f: dict, key: str) -> dict:
    return next(e for e in f["events"] if e["id"] == key)


def zones_and_relative(b, f: dict) -> None:
    """Questions whose answer needs the sender's time zone, DST, or a relative date resolved correctly."""
    handoff, review = _event(f, "ev-handoff"), _event(f, "ev-design-review")
    for ev, q in ((handoff, "What time is the Kranich handoff call in New York time?"),
                  (review, "Jörg's design review is at 16:00 Berlin time. When is that for me in Brooklyn?")):
        ny = datetime.fromisoformat(ev["starts_at"]).astimezone(ZoneInfo(NY))
        b.add(q, ny.isoformat(), "datetime", [ev["message_id"]],
              f"SELECT starts_at FROM events WHERE title = '{ev['title']}'", [f"{ny.hour % 12 or 12}:{ny:%M} AM"])
    for key, q in (("ev-pickle-mccarren", "Marcus first suggested a pickle game 'this Saturday at 9am'. Which date "
                    "was that?"),
                   ("ev-interview-ana", "Raj wrote that the Ana Costa interview is 'tomorrow at 11am'. What date and "
                    "time is that?"),
                   ("ev-brunch-dana", "Dana asked about brunch 'this Sunday at 11'. When exactly is that?"),
                   ("ev-all-hands", "Sofia said the all-hands is 'next Friday at 4pm'. Which day is that?")):
        ev = _event(f, key)
        first = ev["history"][0]["new_starts_at"]
        b.add(q, first, "datetime", [ev["message_id"]],
              f"SELECT new_starts_at FROM event_history h JOIN events e USING (fact_id) "
              f"WHERE e.title = '{ev['title']}' AND h.change = 'created'")
    strategy = _event(f, "ev-strategy")
    b.add("When does the half-day strategy session end?", strategy["ends_at"], "datetime", [strategy["message_id"]],
          "SELECT ends_at FROM events WHERE title ILIKE '%strategy session%'")
    b.add("What replaced the cancelled offsite?", strategy["title"], "text", [strategy["message_id"]],
          "SELECT title FROM events WHERE starts_at >= TIMESTAMPTZ '2026-10-22 00:00:00-04' "
          "AND status <> 'cancelled' AND title ILIKE '%session%'", ["strategy session", "a half-day strategy session"])
    b.add("Is anything on my calendar on Wednesday, October 21 at 8:30am?", "yes", "yesno", [],
          "SELECT CASE WHEN count(*) > 0 THEN 'yes' ELSE 'no' END FROM calendar_events "
          "WHERE starts_at <= TIMESTAMPTZ '2026-10-21 08:30:00-04' AND ends_at > TIMESTAMPTZ '2026-10-21 08:30:00-04'")
    b.add("Am I free on Saturday, November 14 at 9am?", "yes", "yesno", [],
          "SELECT CASE WHEN count(*) > 0 THEN 'no' ELSE 'yes' END FROM calendar_events "
          "WHERE starts_at < TIMESTAMPTZ '2026-11-14 10:00:00-05' AND ends_at > TIMESTAMPTZ '2026-11-14 09:00:00-05'")


UNKNOWN = [
    "When is the company holiday party?",
    "What is the dress code for the board dinner?",
    "When does the Berlin team's Christmas market outing take place?",
    "How much did the Mohonk booking cost?",
    "When is Marcus's birthday?",
    "What time does Thanksgiving dinner end?",
    "When is the wire transfer approval meeting with the CFO?",
    "Who did Lumenfield hire for the firmware role?",
    "When is the first match of the spring league?",
    "Where will the rescheduled club board meeting be held?",
    "What is Katrin's phone number?",
    "When is my next dentist appointment after October 20?",
]


def unknowns(b, f: dict) -> None:
    for q in UNKNOWN:
        b.add(q, "unknown", "text", [], None, ["the mailbox does not say", "not mentioned"])


def extra_questions(b, facts: dict) -> None:
    counts(b, facts)
    lists(b, facts)
    zones_and_relative(b, facts)
    unknowns(b, facts)
