"""The library candidate for finding dates: dateparser's free-text search in place of `extract.dates`.

Issue #11 asks whether a well-kept temporal parser finds dates better than our own phrase grammar. This
module answers it by measurement: `TemporalRulesExtractor` is the rules extractor with one change, the date
finder (`quarry eval extract --split all --extractor dateparser`), so any difference in the scores is the
finder's. dateparser reads each phrase relative to the message's own send time on the sender's wall clock,
prefers future dates and the sender's region's day/month order; a phrase without a clock is a whole day.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

from dateparser.search import search_dates

from quarry.extract.dates import ResolvedTime
from quarry.extract.rules import RulesExtractor

#: A clock written in the phrase: without one, dateparser fills in the reference's time, so it is a whole day.
_CLOCK = re.compile(r"\d{1,2}[:.]\d{2}|\d\s*[ap]\.?m\b|\b(?:noon|midday|midnight|o'?clock)\b", re.I)
#: dateparser also reads bare numbers and words ("we", "now", "second") as dates: a phrase names a day only
#: with a day or month number beside other words, a weekday, a month, or a relative day.
_NAMES_A_DAY = re.compile(r"\d\D|\D\d|\b(?:mon|tue|wed|thu|fri|sat|sun|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|"
                          r"dec)[a-z]*\b|\b(?:today|tomorrow|tonight|yesterday|next|week|month)\b", re.I)


def search_resolved(text: str, ref: datetime, *, default_day: date | None = None,
                    evening: bool = False) -> list[ResolvedTime]:
    """Every date phrase dateparser finds in `text`, as `extract.dates.find_dates` returns them.

    `default_day` and `evening` are accepted for the same signature and not used: dateparser has no notion of
    a day named in an earlier sentence or of an evening context."""
    zone = ref.tzinfo or timezone.utc
    west = (ref.utcoffset() or timedelta(0)) <= timedelta(hours=-3)
    settings = {"RELATIVE_BASE": ref.replace(tzinfo=None), "PREFER_DATES_FROM": "future",
                "DATE_ORDER": "MDY" if west else "DMY", "RETURN_AS_TIMEZONE_AWARE": False}
    try:
        hits = search_dates(text, languages=["en"], settings=settings) or []
    except (ValueError, OverflowError):  # dateparser raises on some numbers it cannot place
        return []
    found: list[ResolvedTime] = []
    position = 0
    for phrase, moment in hits:
        start = text.find(phrase, position)
        if start < 0 or not _NAMES_A_DAY.search(phrase):
            continue
        position = start + len(phrase)
        timed = bool(_CLOCK.search(phrase))
        local = moment if timed else datetime.combine(moment.date(), datetime.min.time())
        found.append(ResolvedTime(phrase=phrase, start=local.replace(tzinfo=zone).astimezone(timezone.utc),
                                  all_day=not timed, span=(start, position), zone=getattr(zone, "key", None)))
    return found


class TemporalRulesExtractor(RulesExtractor):
    """The rules extractor finding dates with dateparser (a candidate measured against it, not the default)."""

    name = "dateparser"
    version = "rules-1+dateparser"
    find_dates = staticmethod(search_resolved)
