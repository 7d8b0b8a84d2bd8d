"""Find date/time phrases in message text and resolve them against the message's own Date header.

"tomorrow at 9", "next Thursday 7pm", "end of the month", "EOD Friday", "March 3rd at 2:30pm",
"2026-11-02 14:00" become a UTC instant plus `all_day` and the original phrase. Wall-clock times
are interpreted in the sender's time zone: an IANA zone inferred from the Date header's UTC offset
at the moment it was sent (so a "+0200" message in October is Central European time and a meeting
"next Monday 10am" after the 2026-10-25 switch lands at 09:00 UTC, not 08:00). Calendar arithmetic
is dateutil's (relativedelta weekdays and month ends); month-name dates are parsed by dateutil.

Conventions, stated once here because phrases are ambiguous:
- a bare or "this" weekday is the next such day strictly after the reference day; "next <weekday>"
  is the same day unless that lies within the reference's own week (then one week later);
- a date without a year is the nearest such date that is not more than 90 days in the past;
- "at 9" without am/pm: 7-11 are morning, 12-6 afternoon/evening ("tonight"/"evening" force pm);
- EOD / COB / end of day is 17:00 local; a day without a time is an all-day value at local midnight;
- numeric dates are month-first for senders west of UTC-3 (the Americas), day-first elsewhere; dotted ones
  ("07.04.2026") are day-first everywhere.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from dateutil import parser as du_parser
from dateutil.relativedelta import FR, MO, SA, SU, TH, TU, WE, relativedelta
from pydantic import BaseModel

from quarry.extract.zones import zone_after

#: Zones tried in order when inferring a sender's zone from a UTC offset; the first whose offset at the
#: send instant matches wins, so DST is known for the common cases. Anything else keeps the fixed offset.
PREFERRED_ZONES = (
    "Europe/London", "UTC", "Europe/Berlin", "Europe/Helsinki", "Europe/Moscow", "America/New_York",
    "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Phoenix", "America/Anchorage",
    "Pacific/Honolulu", "America/Halifax", "America/Sao_Paulo", "Asia/Dubai", "Asia/Kolkata",
    "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney", "Australia/Brisbane", "Pacific/Auckland",
)
EOD = time(17, 0)
_PAST_YEAR_LIMIT = timedelta(days=90)

_WEEKDAYS = {"mon": MO, "tue": TU, "wed": WE, "thu": TH, "fri": FR, "sat": SA, "sun": SU}
_WD = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|(?:mon|tues?|wed|thurs?|thu|fri|sat|sun)\.?(?=,|\s*\d))"
_MON = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_ORD = r"(?:st|nd|rd|th)?"
_COUNTS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "ten": 10,
           "fourteen": 14}
_COUNT = r"(?:\d{1,2}|" + "|".join(_COUNTS) + ")"
#: An optional weekday before a date ("Thursday, 19 March", "this Thursday, 19 March").
_WD_LEAD = rf"(?:(?:this\s+|next\s+|coming\s+)?{_WD},?\s+)?"

_DAY_RE = re.compile(
    rf"""\b(?:
      (?P<iso>(?P<iy>\d{{4}})-(?P<im>\d{{2}})-(?P<id>\d{{2}}))(?:[T ](?P<ih>\d{{2}}):(?P<imin>\d{{2}}))?
    | {_WD_LEAD}(?P<mdate>{_MON}\.?\s+\d{{1,2}}{_ORD}(?:\s*[-–]\s*\d{{1,2}}{_ORD}(?!:))?(?:,?\s+\d{{4}})?)
    | {_WD_LEAD}(?P<dmdate>(?:the\s+)?\d{{1,2}}{_ORD}(?:\s*[-–]\s*\d{{1,2}}{_ORD})?\s+(?:of\s+)?{_MON}\.?
        (?:,?\s+\d{{4}})?)
    | {_WD_LEAD}(?P<num>\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?(?![/\d])|\d{{1,2}}\.\d{{1,2}}\.\d{{4}}(?![.\d]))
    | {_WD_LEAD}(?P<nth>the\s+\d{{1,2}}(?:st|nd|rd|th))(?!\s+(?:of\s+)?{_MON})
    | (?P<eom>end\s+of\s+(?:the\s+|this\s+)?month)
    | (?P<eow>end\s+of\s+(?:the\s+|this\s+)?week)
    | (?P<eod>(?:(?P<eodpre>today|tomorrow|(?:this\s+|next\s+)?{_WD})\s+)?
        (?:eod|cob|end\s+of\s+(?:the\s+)?day|close\s+of\s+business)
        (?:\s+(?:on\s+)?(?P<eodwhen>today|tomorrow|(?:this\s+|next\s+)?{_WD}))?)
    | (?P<rel>day\s+after\s+tomorrow|tomorrow|tmrw|today|tonight|this\s+(?:morning|afternoon|evening))
    | (?P<wkfrom>(?:a\s+|one\s+)?week\s+(?:from|on)\s+(?:this\s+|next\s+)?(?P<wkwd>{_WD}))
    | (?P<wdweek>(?P<wwd>{_WD})\s+week)(?!\s+(?:of|after|before|\d))
    | (?P<later>in\s+(?P<count>{_COUNT})\s+(?P<unit>days?|weeks?)(?:['’]s\s+time)?
        | (?P<count2>{_COUNT})\s+(?P<unit2>days?|weeks?)\s+from\s+(?:now|today))
    | (?P<wd>(?:(?P<mod>next|this|coming|this\s+coming)\s+)?{_WD})
    )\b(?!-\d)""",
    re.IGNORECASE | re.VERBOSE,
)
_NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")
_TIME_RE = re.compile(
    r"""(?<![\d:/.-])(?:
      (?P<h1>\d{1,2})(?:[:.](?P<m1>\d{2}))?\s*(?P<ap1>[ap]\.?m\.?)?\s*(?:-|–|to|until|till)\s*
        (?P<h2>\d{1,2})(?:[:.](?P<m2>\d{2}))?\s*(?P<ap2>[ap]\.?m\.?)(?![a-z])
    | (?P<r1h>[01]?\d|2[0-3]):(?P<r1m>[0-5]\d)\s*(?:-|–|to|until|till)\s*(?P<r2h>[01]?\d|2[0-3]):(?P<r2m>[0-5]\d)(?![\d:])
    | (?P<h>\d{1,2})(?:[:.](?P<m>\d{2}))?\s*(?P<ap>[ap]\.?m\.?)(?![a-z])
    | (?P<hh>[01]?\d|2[0-3]):(?P<mm>[0-5]\d)(?![\d:])
    | (?P<dotpre>\b(?:at|from|until|till|starts?|doors)\s+|\()(?P<dh>[01]?\d|2[0-3])\.(?P<dm>[0-5]\d)(?![\d.]\d)(?!\s*(?:[ap]\.?m\b|-|–|to\b))
    | (?P<spoken>\b(?:(?P<part>half|quarter)\s+(?P<rel>past|to)\s+|(?P<uk>half)\s+)(?P<sh>{NUMBERS}|\d{1,2})\b
        |\b(?P<oh>{NUMBERS}|\d{1,2})\s+o'?clock\b)(?:\s*(?P<sap>[ap]\.?m\.?)(?![a-z]))?
    | (?P<at>\bat\s+|@\s*)(?P<bare>\d{1,2})(?![\d:/.-])(?!\s*(?:%|percent|people|pm|am))
    | (?P<word>\bnoon\b|\bmidday\b|\bmidnight\b)
    )""".replace("{NUMBERS}", "|".join(_NUMBER_WORDS)),
    re.IGNORECASE | re.VERBOSE,
)
#: Words that make a bare "at 7" an evening time, anywhere in the text (or the subject: see `find_dates`);
#: a "pm" written elsewhere ("8pm Madrid time, so 7 for you") counts too.
_EVENING = re.compile(r"tonight|evening|dinner|supper|drinks|party|\bnight\b|(?<![a-z])p\.?m\b", re.I)
_CONNECTOR = re.compile(r"^[\s,]*(?:(?:at|@|on|from|by|around|starting|,)\s*)*$", re.IGNORECASE)


def is_evening(text: str) -> bool:
    """Whether `text` names an evening, so a bare hour in or under it ("half seven") is pm."""
    return bool(_EVENING.search(text))


class ResolvedTime(BaseModel):
    """A resolved date phrase: UTC start (and end for ranges), whether it is a whole day, and the words."""

    phrase: str
    start: datetime
    end: datetime | None = None
    all_day: bool = False
    span: tuple[int, int] = (0, 0)
    #: The zone the wall-clock words were read in: one named after the time ("10am Perth time"), else the sender's.
    zone: str | None = None


def sender_zone(sent_at: datetime, offset_min: int | None, tz: str | None = None) -> tzinfo:
    """The zone wall-clock phrases in a message mean: `tz` if given, else inferred from the header offset."""
    if tz:
        return ZoneInfo(tz)
    if offset_min is None:
        return timezone.utc
    want = timedelta(minutes=offset_min)
    instant = sent_at if sent_at.tzinfo else sent_at.replace(tzinfo=timezone.utc)
    for name in PREFERRED_ZONES:
        zone = ZoneInfo(name)
        if instant.astimezone(zone).utcoffset() == want:
            return zone
    return timezone(want)


def reference_time(sent_at: datetime, offset_min: int | None, tz: str | None = None) -> datetime:
    """The message's send instant on the sender's own wall clock (aware)."""
    instant = sent_at if sent_at.tzinfo else sent_at.replace(tzinfo=timezone.utc)
    return instant.astimezone(sender_zone(instant, offset_min, tz))


def _weekday(word: str):
    return _WEEKDAYS[word.strip().lower()[:3]]


def _year_for(month_day: date, ref: date) -> date:
    """Put a year-less date in the year that makes it nearest without lying >90 days in the past."""
    if month_day < ref - _PAST_YEAR_LIMIT:
        return month_day + relativedelta(years=1)
    return month_day


def _explicit(text: str, ref: date, dayfirst: bool) -> date | None:
    """Month-name or numeric dates; year filled from the reference when missing."""
    has_year = bool(re.search(r"\d{4}|/\d{2}$", text))
    clean = re.sub(r"\b(the|of)\b", " ", text, flags=re.IGNORECASE)
    clean = re.sub(r"(\d)(?:st|nd|rd|th)?\s*[-–]\s*\d{1,2}(?:st|nd|rd|th)?\b", r"\1", clean)  # a range starts on its first day
    try:
        parsed = du_parser.parse(clean, default=datetime(ref.year, 1, 1), dayfirst=dayfirst, fuzzy=True).date()
    except (ValueError, OverflowError):
        return None
    return parsed if has_year else _year_for(parsed, ref)


def _next_weekday(word: str, ref: date) -> date:
    """The first day named `word` ("thu", "Thursday") strictly after `ref`."""
    return ref + relativedelta(days=1, weekday=_weekday(word)(+1))


def _weekday_date(match: re.Match, ref: date) -> date:
    word = re.sub(r"^(next|this|coming|this\s+coming)\s+", "", match.group("wd"), flags=re.IGNORECASE)
    day = _next_weekday(word, ref)
    mod = (match.group("mod") or "").lower()
    if mod == "next":
        week_end = ref + relativedelta(weekday=SU(+1))
        if day <= week_end and ref.weekday() < 5:
            day += timedelta(days=7)
    return day


def _day_of(match: re.Match, ref: datetime, dayfirst: bool) -> tuple[date | None, time | None]:
    """The calendar day a day-expression names, plus a time it implies (EOD, ISO time, tonight)."""
    today = ref.date()
    if match.group("iso"):
        hour = match.group("ih")
        try:  # "2026-02-30" or "24:30" name no day or time: not a date
            d = date(int(match.group("iy")), int(match.group("im")), int(match.group("id")))
            return d, (time(int(hour), int(match.group("imin"))) if hour else None)
        except ValueError:
            return None, None
    for key in ("mdate", "dmdate", "num"):
        if match.group(key):
            text = match.group(key)  # a dotted date ("07.04.2026") is day-first wherever it is written
            return _explicit(text, today, dayfirst or (key == "num" and "." in text)), None
    if match.group("nth"):
        day = today + relativedelta(day=int(re.search(r"\d+", match.group("nth")).group()))
        return (day if day >= today - timedelta(days=7) else day + relativedelta(months=1)), None
    if match.group("eom"):
        return today + relativedelta(day=31), None
    if match.group("eow"):
        return today + relativedelta(weekday=FR(+1)), None
    if match.group("eod"):
        when = (match.group("eodpre") or match.group("eodwhen") or "today").lower()
        if when == "today":
            return today, EOD
        if when == "tomorrow":
            return today + timedelta(days=1), EOD
        sub = _DAY_RE.fullmatch(when)
        return (_weekday_date(sub, today) if sub and sub.group("wd") else today), EOD
    if match.group("rel"):
        word = " ".join(match.group("rel").lower().split())
        if word.startswith("day after"):
            return today + timedelta(days=2), None
        if word in ("tomorrow", "tmrw"):
            return today + timedelta(days=1), None
        return today, (time(19, 0) if word == "tonight" else None)
    if match.group("wkfrom") or match.group("wdweek"):  # "a week from Thursday", British "Thursday week"
        return _next_weekday(match.group("wkwd") or match.group("wwd"), today) + timedelta(days=7), None
    if match.group("later"):  # "in two weeks", "3 days from now"
        count = (match.group("count") or match.group("count2")).lower()
        unit = (match.group("unit") or match.group("unit2")).lower()
        days = (int(count) if count.isdigit() else _COUNTS[count]) * (7 if unit.startswith("week") else 1)
        return today + timedelta(days=days), None
    return _weekday_date(match, today), None


def _hour(hour: int, meridiem: str | None, evening: bool) -> int:
    if meridiem:
        pm = meridiem.lower().startswith("p")
        return (hour % 12) + (12 if pm else 0)
    if evening and hour < 12:
        return hour + 12
    return hour + 12 if 1 <= hour <= 6 else hour


def _spoken(g: dict, evening: bool) -> time:
    """ "half past six", "quarter to eight", "half seven" (British: 7:30), "ten o'clock"."""
    word = (g["sh"] or g["oh"]).lower()
    hour = _NUMBER_WORDS.index(word) + 1 if word in _NUMBER_WORDS else int(word)
    minute = 0
    if g["part"]:
        minute = 30 if g["part"].lower() == "half" else 15
        if g["rel"].lower() == "to":
            hour, minute = hour - 1, 60 - minute
    elif g["uk"]:
        minute = 30
    return time(_hour(hour, g["sap"], evening), minute)


def _times(match: re.Match, evening: bool) -> tuple[time, time | None] | None:
    """(start, end) clock times from a time match, or None when the numbers cannot be a time."""
    g = match.groupdict()
    try:
        if g["h1"]:
            ap2 = g["ap2"]
            ap1 = g["ap1"] or ap2
            end = time(_hour(int(g["h2"]), ap2, evening), int(g["m2"] or 0))
            start = time(_hour(int(g["h1"]), ap1, evening), int(g["m1"] or 0))
            if start > end and not g["ap1"]:  # "11-1pm": the start is in the morning
                start = time(int(g["h1"]) % 12, int(g["m1"] or 0))
            return start, end
        if g["r1h"]:
            return time(int(g["r1h"]), int(g["r1m"])), time(int(g["r2h"]), int(g["r2m"]))
        if g["h"]:
            return time(_hour(int(g["h"]), g["ap"], evening), int(g["m"] or 0)), None
        if g["hh"]:
            return time(int(g["hh"]), int(g["mm"])), None
        if g["bare"]:
            return time(_hour(int(g["bare"]), None, evening), 0), None
        if g["dh"]:
            return time(_hour(int(g["dh"]), None, evening), int(g["dm"])), None
        if g["spoken"]:
            return _spoken(g, evening), None
    except ValueError:
        return None
    word = g["word"].lower()
    return (time(0, 0) if word == "midnight" else time(12, 0)), None


def _utc(day: date, clock: time, zone: tzinfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=zone).astimezone(timezone.utc)


def _adjacent(d: re.Match, t: re.Match, text: str) -> bool:
    gap = text[d.end():t.start()] if t.start() >= d.end() else text[t.end():d.start()]
    return (t.start() >= d.end() or t.end() <= d.start()) and len(gap) <= 12 and bool(_CONNECTOR.match(gap))


def _later(d: re.Match, t: re.Match, days: list[re.Match], text: str) -> bool:
    """A time later in the same clause with no other day between ("Sunday 22 March at the courts, first game
    at 8:30am"): the day's time when the day has no adjacent one."""
    between = text[d.end():t.start()]
    return (t.start() >= d.end() and len(between) <= 80 and not re.search(r"[.;!?]\s", between)
            and not any(d.end() <= o.start() < t.start() for o in days))


def _pair(days: list[re.Match], times: list[re.Match], text: str) -> list[tuple[re.Match | None, re.Match | None]]:
    """Join each day expression with an adjacent time expression (only connector words between), then a day
    left alone with a later time of its clause."""
    partners: dict[int, re.Match] = {}
    used: set[int] = set()
    for test in (_adjacent, lambda d, t, text: _later(d, t, days, text)):
        for di, d in enumerate(days):
            if di in partners:
                continue
            for i, t in enumerate(times):
                if i not in used and test(d, t, text):
                    partners[di] = t
                    used.add(i)
                    break
    pairs: list[tuple[re.Match | None, re.Match | None]] = [(d, partners.get(di)) for di, d in enumerate(days)]
    pairs.extend((None, t) for i, t in enumerate(times) if i not in used)
    return sorted(pairs, key=lambda p: min(m.start() for m in p if m is not None))


def _words(d: re.Match | None, t: re.Match | None, text: str) -> tuple[str, tuple[int, int]]:
    """The phrase and span of a pair: the text from day to time when adjacent, else both phrases joined and
    the day's span (so the words between, a place or a title, stay in the sentence)."""
    if d is not None and t is not None and not _adjacent(d, t, text):
        return f"{d.group(0).strip()} {t.group(0).strip(' (')}", d.span()
    lo = min(m.start() for m in (d, t) if m is not None)
    hi = max(m.end() for m in (d, t) if m is not None)
    return text[lo:hi].strip(" ("), (lo, hi)


def find_dates(text: str, ref: datetime, *, default_day: date | None = None,
               evening: bool = False) -> list[ResolvedTime]:
    """Every date/time phrase in `text`, resolved against `ref` (aware, on the sender's wall clock).

    A time with no day next to it falls on `default_day` (e.g. a day named earlier), else the reference day.
    `evening`: the text sits under an evening (a subject saying "dinner"), so bare hours are pm.
    A zone written after the time ("7am ET", "10am Perth time") reads the day and clock in that zone.
    """
    sender = ref.tzinfo or timezone.utc
    dayfirst = (ref.utcoffset() or timedelta(0)) > timedelta(hours=-3)
    days = [m for m in _DAY_RE.finditer(text)]
    times = [m for m in _TIME_RE.finditer(text) if not any(d.start() <= m.start() < d.end() for d in days)]
    found: list[ResolvedTime] = []
    evening = evening or is_evening(text)
    for d, t in _pair(days, times, text):
        day, implied = _day_of(d, ref, dayfirst) if d is not None else (default_day or ref.date(), None)
        if day is None:
            continue
        default_day = day  # a later bare time ("until 5") is on the day named last
        clocks = _times(t, evening) if t is not None else None
        if t is not None and clocks is None:
            continue
        start_clock, end_clock = clocks if clocks else (implied, None)
        phrase, span = _words(d, t, text)
        named = zone_after(text[t.end():t.end() + 40]) if t is not None else None
        zone = named or sender
        where = getattr(zone, "key", None)
        if start_clock is None:
            found.append(ResolvedTime(phrase=phrase, start=_utc(day, time(0, 0), zone), all_day=True, span=span,
                                      zone=where))
            continue
        end = _utc(day, end_clock, zone) if end_clock else None
        found.append(ResolvedTime(phrase=phrase, start=_utc(day, start_clock, zone), end=end, span=span, zone=where))
    return found


def meant_zone(when: ResolvedTime | None, reference: datetime) -> str | None:
    """The IANA zone a sender meant a time in: one named in the text, else the sender's own (None if only an
    offset is known)."""
    return (when.zone if when else None) or getattr(reference.tzinfo, "key", None)


def resolve(phrase: str, ref: datetime) -> ResolvedTime | None:
    """The one date a phrase names (e.g. an LLM's "when" field), or None if it names none."""
    found = find_dates(phrase, ref)
    if found:
        return found[0]
    try:
        parsed = datetime.fromisoformat(phrase.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ref.tzinfo)
    return ResolvedTime(phrase=phrase, start=parsed.astimezone(timezone.utc))


def mentions_date(text: str) -> bool:
    """Cheap test: does the text contain anything that looks like a day or a clock time?"""
    return bool(_DAY_RE.search(text) or _TIME_RE.search(text))
