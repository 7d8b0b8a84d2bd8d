"""Relative and explicit date phrases resolved against a message's own Date header, across zones and DST."""

from datetime import datetime, timezone

import pytest

from quarry.extract.dates import find_dates, reference_time, resolve, sender_zone


def ref(sent: str, tz: str | None = None) -> datetime:
    """The reference wall clock for a message whose Date header is `sent` (ISO with offset)."""
    at = datetime.fromisoformat(sent)
    return reference_time(at.astimezone(timezone.utc), int(at.utcoffset().total_seconds() // 60), tz)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("sent", "phrase", "expected"),
    [
        # Wednesday 21 Oct 2026, Berlin summer time.
        ("2026-10-21T10:00:00+02:00", "tomorrow at 9", "2026-10-22T07:00"),
        ("2026-10-21T10:00:00+02:00", "Thursday 7pm", "2026-10-22T17:00"),
        ("2026-10-21T10:00:00+02:00", "next Thursday 7pm", "2026-10-29T18:00"),  # after the switch: CET
        ("2026-10-21T10:00:00+02:00", "EOD Friday", "2026-10-23T15:00"),
        ("2026-10-21T10:00:00+02:00", "Friday EOD", "2026-10-23T15:00"),
        ("2026-10-21T10:00:00+02:00", "March 3rd at 2:30pm", "2027-03-03T13:30"),
        ("2026-10-21T10:00:00+02:00", "Oct 19 at 10:00", "2026-10-19T08:00"),  # a recent past date keeps its year
        # Weeks counted from a day: "a week from Thursday" and British "Thursday week" are the Thursday after next.
        ("2026-10-21T10:00:00+02:00", "a week from Thursday at 10:00", "2026-10-29T09:00"),
        ("2026-10-21T10:00:00+02:00", "Thursday week at 7pm", "2026-10-29T18:00"),
        ("2026-10-21T10:00:00+02:00", "3 days from now at 9am", "2026-10-24T07:00"),
        ("2026-10-21T10:00:00+02:00", "2026-11-02 14:00", "2026-11-02T13:00"),
        ("2026-10-21T10:00:00+02:00", "at 8 tonight", "2026-10-21T18:00"),
        ("2026-10-21T10:00:00+02:00", "noon tomorrow", "2026-10-22T10:00"),
        # Europe ends summer time on Sunday 25 Oct 2026: a Friday +0200 message about Monday means +0100.
        ("2026-10-23T10:00:00+02:00", "Monday at 10am", "2026-10-26T09:00"),
        ("2026-10-24T18:00:00+01:00", "tomorrow at 9", "2026-10-25T09:00"),  # London: BST ends, 9:00 GMT
        # The US ends daylight time on Sunday 1 Nov 2026: EDT (-4) before, EST (-5) after.
        ("2026-10-30T09:00:00-04:00", "Monday 9am", "2026-11-02T14:00"),
        ("2026-10-30T09:00:00-04:00", "tomorrow at 9", "2026-10-31T13:00"),
        ("2026-10-31T20:00:00-07:00", "tomorrow 10am", "2026-11-01T18:00"),  # Los Angeles, PST after the switch
        ("2026-07-01T09:00:00-05:00", "tomorrow at 9", "2026-07-02T14:00"),  # -0500 in July is Central daylight
        ("2026-12-20T09:00:00+09:00", "Jan 5 at 3pm", "2027-01-05T06:00"),  # Tokyo, year rolls over
    ],
)
def test_phrase_resolves_to_utc(sent, phrase, expected):
    found = resolve(phrase, ref(sent))
    assert found is not None, phrase
    assert found.start == utc(expected)
    assert not found.all_day


def test_day_without_time_is_all_day_at_local_midnight():
    found = resolve("end of the month", ref("2026-10-21T10:00:00+02:00"))
    assert found.all_day and found.start == utc("2026-10-30T23:00")  # 31 Oct 00:00 CET
    friday = resolve("Friday", ref("2026-10-30T09:00:00-04:00"))
    assert friday.all_day and friday.start == utc("2026-11-06T05:00")  # 6 Nov 00:00 EST


def test_time_range_gives_an_end():
    found = resolve("Nov 2 from 2-3:30pm", ref("2026-10-21T10:00:00+02:00"))
    assert (found.start, found.end) == (utc("2026-11-02T13:00"), utc("2026-11-02T14:30"))


def test_numeric_dates_follow_the_senders_region():
    us, uk = ref("2026-10-21T10:00:00-05:00"), ref("2026-10-21T10:00:00+01:00")
    assert resolve("3/4", us).start.astimezone(us.tzinfo).date().isoformat() == "2027-03-04"
    assert resolve("3/4", uk).start.astimezone(uk.tzinfo).date().isoformat() == "2027-04-03"


def test_explicit_zone_overrides_the_inferred_one():
    # +0200 in October could be Johannesburg (no DST); naming it keeps 10:00 at +0200 after 25 Oct.
    found = resolve("Monday at 10am", ref("2026-10-23T10:00:00+02:00", tz="Africa/Johannesburg"))
    assert found.start == utc("2026-10-26T08:00")


def test_zone_inference_and_fallback():
    assert str(sender_zone(utc("2026-01-10T12:00"), 60)) == "Europe/Berlin"
    assert str(sender_zone(utc("2026-07-10T12:00"), 60)) == "Europe/London"
    assert sender_zone(utc("2026-07-10T12:00"), 345).utcoffset(None).total_seconds() == 345 * 60  # Nepal: fixed


def test_phrases_found_in_running_text_keep_their_words():
    text = "The pickle game is next Thursday at 7pm at Riverside. Bring the roster by Friday EOD, thanks!"
    found = find_dates(text, ref("2026-10-21T10:00:00+02:00"))
    assert [f.phrase for f in found] == ["next Thursday at 7pm", "Friday EOD"]
    assert [text[slice(*f.span)] for f in found] == ["next Thursday at 7pm", "Friday EOD"]


def test_text_without_dates_resolves_to_nothing():
    assert resolve("see you soon", ref("2026-10-21T10:00:00+02:00")) is None
    assert find_dates("We were 12 people, 30% said yes.", ref("2026-10-21T10:00:00+02:00")) == []


def test_ranges_and_day_of_month_phrases():
    berlin = ref("2026-09-09T14:30:00+02:00")
    expo = resolve("4–6 November", berlin)
    assert expo.all_day and expo.start == utc("2026-11-03T23:00")  # starts on its first day, CET
    setup = resolve("Tuesday 3 November from 14:00 to 18:00", berlin)
    assert (setup.start, setup.end) == (utc("2026-11-03T13:00"), utc("2026-11-03T17:00"))
    nth = resolve("by Tuesday the 10th", ref("2026-11-05T09:00:00-05:00"))
    assert nth.all_day and nth.start == utc("2026-11-10T05:00")
    rolled = resolve("on the 3rd", ref("2026-11-20T09:00:00-05:00"))
    assert rolled.start == utc("2026-12-03T05:00")  # the 3rd has passed this month: next month's


def test_an_iso_form_that_names_no_real_day_or_time_is_no_date():
    ref = datetime(2026, 11, 10, 9, 0, tzinfo=timezone.utc)
    assert find_dates("see you 2026-11-20 24:30 or on 2026-02-30", ref) == []
    assert [f.phrase for f in find_dates("see you 2026-11-20 14:30", ref)] != []


def test_a_bare_hour_under_an_evening_subject_or_beside_a_pm_is_in_the_evening():
    """ "same time, half seven" in a mail whose subject is the dinner, and "at 8? I mean 8pm" are evening hours."""
    ref = reference_time(datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc), 60)
    (venue,) = find_dates("Booked a table instead for Friday, same time, half seven.", ref, evening=True)
    assert venue.start == datetime(2026, 3, 13, 18, 30, tzinfo=timezone.utc)
    (morning,) = find_dates("Booked a table instead for Friday, same time, half seven.", ref)
    assert morning.start.hour == 6
    bare, explicit = find_dates("Could we have a call tomorrow at 8? I mean 8pm Madrid time.", ref)
    assert bare.start == explicit.start == datetime(2026, 3, 11, 19, 0, tzinfo=timezone.utc)
