"""The dateparser candidate (extract.temporal): the rules extractor with dateparser's date search in place of
extract.dates, selectable as `--extractor dateparser` so the two finders can be scored side by side."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from quarry.extract.extraction import extract_pending
from quarry.extract.temporal import search_resolved

BERLIN_WEDNESDAY = datetime(2026, 10, 21, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))


def test_dateparser_phrases_are_read_on_the_senders_clock_and_a_day_without_a_clock_is_whole():
    text = "Can we do the fair on Friday 20 March? The pickle game is on 29 October at 7pm."
    fair, game = search_resolved(text, BERLIN_WEDNESDAY)
    assert fair.all_day and fair.start == datetime(2027, 3, 19, 23, 0, tzinfo=timezone.utc)  # local midnight
    assert not game.all_day and game.start == datetime(2026, 10, 29, 18, 0, tzinfo=timezone.utc)  # CET by then
    assert text[slice(*game.span)] == game.phrase and "29 October" in game.phrase
    assert search_resolved("we said a second time that we would", BERLIN_WEDNESDAY) == []  # words it reads as dates


def test_the_dateparser_extractor_stores_its_own_facts_beside_the_rules(fact_mailbox):
    fact_mailbox.add("m1", "The bake sale is on Friday 13 March at 3pm in the hall.", sent="2026-03-10T09:00:00+00:00",
                     subject="Bake sale")
    for name in ("rules", "dateparser"):
        assert extract_pending(fact_mailbox.con, name).extractor == name
    rows = fact_mailbox.con.execute("SELECT extractor, starts_at FROM events ORDER BY 1").fetchall()
    assert rows == [("dateparser", datetime(2026, 3, 13, 15, 0, tzinfo=timezone.utc)),
                    ("rules", datetime(2026, 3, 13, 15, 0, tzinfo=timezone.utc))]
