"""The extraction stage with the rules extractor on a real DuckDB store: facts, threads, evidence, increments."""

from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from quarry.extract.extraction import ExtractionSummary, FactWriter, extract_pending, load_pending
from quarry.extract.facts import Deadline, Event, evidence_occurs


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def events(con):
    return con.execute(
        "SELECT title, starts_at, status, message_id, updated_by FROM events ORDER BY starts_at"
    ).fetchall()


def test_rules_fill_every_fact_table(fact_mailbox):
    fact_mailbox.add("m1@x", "Hi Bob,\nThe pickleball game is next Thursday at 7pm at Riverside Park.\n"
                     "Can you send me the roster by Friday EOD?\nThe budget report is due end of the month.",
                     subject="Pickleball")
    summary = extract_pending(fact_mailbox.con, "rules")
    con = fact_mailbox.con
    assert summary.items == 1 and summary.extracted == 1 and summary.model_calls == 0
    (title, start, status, mid, _), = events(con)
    assert "pickleball game" in title.lower() and start == utc("2026-10-29T18:00") and mid == "m1@x"
    assert con.execute("SELECT location FROM events").fetchone()[0] == "Riverside Park"
    # A two-word task is clarified by its subject.
    assert con.execute("SELECT task, due_at FROM deadlines").fetchall() == [
        ("budget report (Pickleball)", utc("2026-10-30T23:00"))]
    assert con.execute("SELECT owner, task, due_at FROM action_items").fetchall() == [
        ("bob@club.example", "send me the roster", utc("2026-10-23T15:00"))]
    people = {r[0] for r in con.execute("SELECT name FROM entities WHERE kind = 'person'").fetchall()}
    assert people == {"Ann Lee", "Bob Stone"}
    assert con.execute("SELECT name FROM topics").fetchall() == [("Pickleball",)]
    provenance = con.execute("SELECT DISTINCT extractor, extractor_version, model FROM events").fetchall()
    assert provenance == [("rules", "rules-1", None)]


def test_thread_reply_repeat_move_and_cancel(fact_mailbox):
    add = fact_mailbox.add
    add("a@x", "Board dinner is on Thursday at 7pm at Luigi's.", thread="t", subject="Board dinner")
    add("b@x", "Great, see you at the board dinner Thursday at 7pm!", thread="t", subject="Re: Board dinner",
        sent="2026-10-21T12:00:00+02:00", sender=("bob@club.example", "Bob Stone"), to=(("ann@club.example", "Ann Lee"),))
    add("c@x", "Sorry, the board dinner has to move to Friday at 8pm.", thread="t", subject="Re: Board dinner",
        sent="2026-10-21T15:00:00+02:00")
    summary = extract_pending(fact_mailbox.con, "rules")
    assert summary.merged_events == 2
    assert events(fact_mailbox.con) == [("Board dinner", utc("2026-10-23T18:00"), "moved", "a@x", "c@x")]
    add("d@x", "Bad news: the board dinner is cancelled.", thread="t", subject="Re: Board dinner",
        sent="2026-10-22T09:00:00+02:00")
    extract_pending(fact_mailbox.con, "rules")
    assert events(fact_mailbox.con) == [("Board dinner", utc("2026-10-23T18:00"), "cancelled", "a@x", "d@x")]
    history = fact_mailbox.con.execute(
        "SELECT message_id, change, old_starts_at, new_starts_at FROM event_history ORDER BY message_id").fetchall()
    assert history == [
        ("a@x", "created", None, utc("2026-10-22T17:00")),
        ("b@x", "mentioned", utc("2026-10-22T17:00"), utc("2026-10-22T17:00")),  # the reply: one more source
        ("c@x", "moved", utc("2026-10-22T17:00"), utc("2026-10-23T18:00")),
        ("d@x", "cancelled", utc("2026-10-23T18:00"), None),
    ]


def test_move_to_a_day_keeps_the_time_and_unmatched_cues_stand_alone(fact_mailbox):
    add = fact_mailbox.add
    add("a@x", "The board dinner is on Wednesday, November 18 at 7:30pm at Gramercy Tavern.", thread="t",
        sent="2026-10-01T16:30:00-04:00")
    add("b@x", "We're moving the board dinner to Thursday, November 19, same time, same place.", thread="t",
        sent="2026-11-10T12:05:00-05:00")
    add("c@x", "The offsite is cancelled.", thread="t", sent="2026-11-11T09:00:00-05:00", subject="Offsite")
    add("d@x", "Instead we'll hold a strategy session on Thursday, November 19 from 1pm to 5pm.", thread="u",
        sent="2026-11-11T09:00:00-05:00")
    extract_pending(fact_mailbox.con, "rules")
    rows = fact_mailbox.con.execute("SELECT title, starts_at, ends_at, status FROM events ORDER BY starts_at").fetchall()
    # 7:30pm New York on 19 Nov is after the US switch: 00:30 UTC the next day (EST, -5).
    assert rows[0] == ("strategy session", utc("2026-11-19T18:00"), utc("2026-11-19T22:00"), "scheduled")
    assert rows[1] == ("board dinner", utc("2026-11-20T00:30"), None, "moved")
    assert (rows[2][0].lower(), rows[2][3]) == ("offsite", "cancelled")  # names no stored event: its own fact


def test_one_event_announced_in_two_threads_is_one_row_with_both_sources(fact_mailbox):
    fact_mailbox.add("m1", "Team lunch on Friday at noon.", thread="t1")
    fact_mailbox.add("m2", "Reminder: team lunch Friday at noon!", thread="t2")
    fact_mailbox.add("m3", "Budget meeting on Friday at noon.", thread="t3")
    extract_pending(fact_mailbox.con, "rules")
    rows = fact_mailbox.con.execute("SELECT fact_id, lower(title) FROM events ORDER BY 2").fetchall()
    assert [title for _, title in rows] == ["budget meeting", "team lunch"]
    history = fact_mailbox.con.execute("SELECT message_id, change FROM event_history WHERE fact_id = ? ORDER BY change",
                                       [rows[1][0]]).fetchall()
    assert history == [("m1", "created"), ("m2", "mentioned")]


def test_evidence_check_rejects_an_invented_fact(fact_mailbox):
    fact_mailbox.add("m@x", "The quarterly review is on Monday at 10am.")
    src, = load_pending(fact_mailbox.con, "rules", "")
    base = {"message_id": "m@x", "extractor": "llm", "model": "test", "extractor_version": "t"}
    real = Event(title="quarterly review", starts_at=utc("2026-10-26T09:00"), thread_id=src.thread_id,
                 evidence="quarterly review is on  Monday at 10AM", **base)  # spacing and case do not matter
    invented = Deadline(task="wire money", due_at=utc("2026-10-23T10:00"), evidence="wire $5,000 by Friday", **base)
    summary = ExtractionSummary(extractor="llm")
    writer = FactWriter(fact_mailbox.con, summary)
    assert writer.write(src, [real, invented]) == 1
    writer.flush()
    assert summary.rejected_evidence == 1 and summary.facts == {"events": 1}
    assert fact_mailbox.con.execute("SELECT count(*) FROM deadlines").fetchone()[0] == 0
    assert evidence_occurs("quarterly review", src.text()) and not evidence_occurs("quarterly budget", src.text())
    with pytest.raises(ValidationError):
        Event(title="x", evidence="   ", **base)


def test_extraction_is_incremental_and_follows_content_changes(fact_mailbox):
    fact_mailbox.add("m@x", "Standup moved? No: standup is tomorrow at 9.")
    first = extract_pending(fact_mailbox.con, "rules")
    again = extract_pending(fact_mailbox.con, "rules")
    assert (first.items, again.items) == (1, 0)
    fact_mailbox.con.execute(
        "UPDATE messages SET body_clean = 'Retro is on Friday at 3pm.', content_hash = 'changed' WHERE message_id = 'm@x'")
    changed = extract_pending(fact_mailbox.con, "rules")
    assert changed.items == 1
    assert [e[0] for e in events(fact_mailbox.con)] == ["Retro"]


def test_message_without_cues_yields_only_header_facts(fact_mailbox):
    fact_mailbox.add("m@x", "Thanks for the photos, they look great.", subject="Photos")
    summary = extract_pending(fact_mailbox.con, "rules")
    assert summary.facts == {"entities": 2, "topics": 1}


def test_auto_uses_rules_without_a_usable_model(fact_mailbox, monkeypatch, tmp_path):
    monkeypatch.setenv("QUARRY_HOME", str(tmp_path))
    monkeypatch.delenv("QUARRY_EXTRACTOR_MODEL", raising=False)
    fact_mailbox.add("m@x", "Retro is on Friday at 3pm.")
    assert extract_pending(fact_mailbox.con, "auto").extractor == "rules"
    monkeypatch.setenv("QUARRY_EXTRACTOR_MODEL", "local:no-such-model")
    fact_mailbox.add("n@x", "Demo is on Monday at 10am.")
    summary = extract_pending(fact_mailbox.con, "auto")
    assert summary.extractor == "rules" and summary.items == 1
    assert summary.errors[0].startswith("auto: local:no-such-model unavailable, used rules")


def test_any_chance_and_let_me_know_by_a_date_are_requests_and_a_quiz_is_an_event(fact_mailbox):
    fact_mailbox.add("m1", "Any chance you could water my plants on Tuesday 27 October?\n"
                     "Could you let me know by Friday whether you can come?\nLet me know if you have questions.\n"
                     "Our annual fundraising quiz is on Friday 30 October at 8pm.", subject="Favour")
    extract_pending(fact_mailbox.con, "rules")
    tasks = fact_mailbox.con.execute("SELECT task, due_at FROM action_items ORDER BY task").fetchall()
    assert tasks == [("let me know whether you can come", utc("2026-10-22T22:00")),  # not the courtesy line
                     ("water my plants", utc("2026-10-26T23:00"))]
    assert [(t, s) for t, s, *_ in events(fact_mailbox.con)] == [("annual fundraising quiz", utc("2026-10-30T19:00"))]
