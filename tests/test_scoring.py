"""The answer scorers, one answer type at a time, including the tricky forms real answers take."""

from datetime import datetime, timezone

import pytest

from quarry.evals.answer_scoring import calendar_has_event, question_hash, score_answer
from quarry.evals.gold import GoldQuestion


def q(answer, answer_type, accept=()):
    return GoldQuestion(id="t", question="?", answer=answer, answer_type=answer_type, accept=list(accept))


ALL_HANDS = q("2026-10-09T16:00:00-04:00", "datetime", ["October 9 at 4:00 PM"])


@pytest.mark.parametrize("text", [
    "The all-hands is on 2026-10-09T20:00:00Z [msg:abc@x].",           # same instant, another zone
    "It starts Friday 9 October 2026 at 22:00 CEST (Berlin).",          # written out, another zone, words around
    "Friday, October 9 at 4:00 PM in the office kitchen",               # an accepted short form
    "2026-10-09T16:10-04:00, a few minutes late",                       # within the 30 min tolerance
    "starts_at 2026-10-09 20:00:00+00 per the events table",            # DuckDB's own TIMESTAMPTZ text
    "Friday 9 October 2026 from 16:00 to 17:00",                        # no zone: the event's local time
    "It is on 2026-10-09 16:00.",                                       # naive ISO: the event's local time
    "The all-hands is on Fri 2026-10-09 20:00 UTC.",                    # the form the tools print
])
def test_datetime_accepts_the_same_moment_however_written(text):
    assert score_answer(text, ALL_HANDS)


@pytest.mark.parametrize("text", [
    "It is on 2026-10-09T16:00:00Z.",             # right clock time, wrong zone: 4 hours off
    "The all-hands is on 10 October 2026 at 16:00 EDT.",
    "The mailbox does not say.",
    "[msg:20261009160000.abc@x]",                # digits of a message id are not a date
    "Friday 9 October 2026 at 20:00",            # no zone: read as local, so 4 hours late
])
def test_datetime_rejects_other_moments(text):
    assert not score_answer(text, ALL_HANDS)


def test_unknown_questions_accept_declines_and_reject_guesses():
    gold = q("unknown", "text")
    assert score_answer("The mailbox does not say.", gold)
    assert score_answer("I could not find anything about the retreat caterer in your mail.", gold)
    assert score_answer("Unknown — no message mentions it.", gold)
    assert not score_answer("Luigi's is catering the retreat [msg:a@b].", gold)
    assert not score_answer("", gold)


def test_list_is_a_set_order_and_case_ignored():
    gold = q(["Dana Whitfield", "Lee Park"], "list")
    assert score_answer("LEE PARK and dana whitfield [msg:a@b]", gold)
    assert score_answer("Dana Whitfield; Lee Park", gold)
    assert not score_answer("Only Dana Whitfield.", gold)
    assert score_answer("lee park, dana whitfield", q("Dana Whitfield; Lee Park", "list"))


@pytest.mark.parametrize("text,ok", [
    ("There are 3 open action items.", True),
    ("three of them", True),
    ("You have Three.", True),
    ("4 items", False),
    ("Due 2026-03-03 at 3:00 [msg:3@x]", False),  # a 3 inside a date, a time or a message id is no count
])
def test_numbers_as_digits_or_words(text, ok):
    assert score_answer(text, q("3", "number")) is ok


@pytest.mark.parametrize("text,gold,ok", [
    ("Yes, the all-hands is still on [msg:a@b].", "yes", True),
    ("No: it was cancelled by Priya.", "no", True),
    ("It was cancelled, so no, it is not happening.", "no", True),
    ("Yes.", "no", False),
    ("It is still on.", "yes", False),  # no yes/no in the sentence: not counted as a yes
])
def test_yes_no_inside_a_sentence(text, gold, ok):
    assert score_answer(text, q(gold, "yesno")) is ok


def test_text_is_normalized():
    gold = q("office kitchen", "text", ["the kitchen"])
    assert score_answer("In the Office Kitchen! [msg:a@b]", gold)
    assert score_answer("the kitchen", gold)
    assert not score_answer("In the office.", gold)


def test_calendar_add_checked_in_the_calendar_table():
    """The evaluation's check reads what reached calendar_events in a real store."""
    from quarry.store.db import connect

    gold = q({"title": "Board dinner", "starts_at": "2026-11-19T19:30:00-05:00"}, "calendar_add")
    con = connect(":memory:")
    con.execute("INSERT INTO calendar_events (event_id, title, starts_at, origin) VALUES "
                "('e1', 'Dentist', TIMESTAMPTZ '2026-11-19 19:30:00-05', 'user')")
    rows = lambda: con.execute("SELECT title, starts_at FROM calendar_events").fetchall()  # noqa: E731
    assert not calendar_has_event(rows(), gold.answer)
    con.execute("INSERT INTO calendar_events (event_id, title, starts_at, origin) VALUES "
                "('e2', 'board dinner', TIMESTAMPTZ '2026-11-20 00:30:00+00', 'agent')")
    assert calendar_has_event(rows(), gold.answer)
    assert calendar_has_event([("Board dinner", datetime(2026, 11, 20, 0, 30, tzinfo=timezone.utc))], gold.answer)
    assert not calendar_has_event([("Board dinner", datetime(2026, 11, 19, 19, 30, tzinfo=timezone.utc))], gold.answer)


def test_question_hash_ignores_case_and_punctuation():
    assert question_hash("When is the all-hands?") == question_hash("when is the ALL HANDS")
    assert question_hash("When is the all-hands?") != question_hash("Where is the all-hands?")
