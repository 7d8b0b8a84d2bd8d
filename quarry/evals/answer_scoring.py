"""Does a free-text answer match a known answer? One scorer per answer type of the question format.

Used to verify teacher traces before they become training data and to score evaluation runs, so
both agree on what "correct" means. Citations (`[msg:<id>]`) are removed before scoring so the
digits in message ids never count as numbers or dates.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any

import dateparser
from dateparser.search import search_dates
from dateutil import parser as dateutil_parser

DEFAULT_TOLERANCE = timedelta(minutes=30)

_CITATION = re.compile(r"\[msg:[^\]]*\]")
#: An ISO date or date-time, with its offset, or followed by the word UTC/GMT as the tools write instants.
_ISO_DATETIME = re.compile(r"(?P<iso>\d{4}-\d{2}-\d{2}"
                           r"(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?)"
                           r"(?:\s?(?P<utc>UTC|GMT)\b)?")
_CLOCK = re.compile(r"\b\d{1,2}:\d{2}\b")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")
_WORD_NUMBERS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty".split()
    )
}
_UNKNOWN_PHRASES = (
    "does not say", "doesn't say", "do not say", "don't say", "not mentioned", "no mention",
    "no information", "not find", "couldn't find", "could not find", "no record", "not in the mailbox",
    "unknown", "i don't know", "i do not know", "no such", "nothing about",
)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_ZONE = r"(?:\s*(?:utc|gmt|[a-z]{2,4}t|[+-]\d{2}:?\d{2}))?"
_TIME = r"(?:,?\s*(?:at|@|from)?\s*\d{1,2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?" + _ZONE + ")?"
#: A written-out date with its year, optionally followed by a time: '10 October 2026 at 17:00 UTC'.
_WRITTEN_DATE = re.compile(
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+\d{{4}}"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})"
    + _TIME,
    re.IGNORECASE,
)


def _dateparser_settings(zone: str) -> dict[str, Any]:
    """Times written without a zone are read in `zone` (the gold answer's own offset), returned in UTC."""
    return {"RETURN_AS_TIMEZONE_AWARE": True, "TIMEZONE": zone, "TO_TIMEZONE": "UTC"}


def normalize_text(text: str) -> str:
    """Lowercase, accents and punctuation removed, whitespace collapsed: for comparing short answers."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", folded).split())


def question_hash(question: str) -> str:
    """Hash of the normalized question text: how held-out questions are kept out of training data."""
    return hashlib.sha256(normalize_text(question).encode("utf-8")).hexdigest()


def strip_citations(text: str) -> str:
    return _CITATION.sub(" ", text)


def says_unknown(text: str) -> bool:
    """True when the answer declines: 'the mailbox does not say' and its usual variants."""
    lowered = strip_citations(text).lower().replace("’", "'")
    return any(phrase in lowered for phrase in _UNKNOWN_PHRASES)


def parse_when(value: str, zone: tzinfo = timezone.utc) -> datetime | date:
    """An ISO 8601 datetime as aware UTC (one without an offset is taken in `zone`), or a date for all-day answers."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        return date.fromisoformat(value.strip())
    parsed = dateutil_parser.isoparse(value.strip())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(timezone.utc)


def _iso_datetimes(text: str, zone: tzinfo) -> list[datetime]:
    found = []
    for match in _ISO_DATETIME.finditer(text):
        token, written_zone = match.group("iso"), timezone.utc if match.group("utc") else zone
        try:
            found.append(parse_when(token, written_zone) if "T" in token or " " in token else _as_midnight(token))
        except ValueError:
            continue
    return found


def _written_datetimes(text: str, zone: str) -> list[datetime]:
    """Dates written out ('Saturday 10 October 2026 at 5 pm EDT'), each span parsed by dateparser."""
    found = []
    for match in _WRITTEN_DATE.finditer(text):
        moment = dateparser.parse(match.group(0), languages=["en"], settings=_dateparser_settings(zone))
        if moment is not None:
            found.append(moment.astimezone(timezone.utc))
    return found


def datetimes_in(text: str, *, search: bool = True, zone: tzinfo = timezone.utc) -> list[datetime]:
    """Every date/time written in the text, in UTC: ISO forms, written-out dates, then (if `search`) whatever
    dateparser's slower free-text search finds. A time written without a zone is taken as local to `zone`."""
    clean = strip_citations(text)
    zone_name = _offset_name(zone)
    found = _iso_datetimes(clean, zone) + _written_datetimes(_ISO_DATETIME.sub(" ", clean), zone_name)
    if search:
        natural = search_dates(_ISO_DATETIME.sub(" ", clean), languages=["en"],
                               settings=_dateparser_settings(zone_name)) or []
        found.extend(moment.astimezone(timezone.utc) for _, moment in natural)
    return found


def _offset_name(zone: tzinfo) -> str:
    """A fixed offset as dateparser reads it ('+0100'); UTC as 'UTC'."""
    offset = datetime.now(zone).utcoffset() or timedelta(0)
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _as_midnight(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=timezone.utc)


def match_datetime(text: str, gold: str, tolerance: timedelta = DEFAULT_TOLERANCE) -> bool:
    """Any date/time in the text within `tolerance` of the gold one (same day for all-day answers).

    A time written with a zone is compared as such; one written without is read in the gold answer's own
    offset (the event's local time, as the mail states it). The free-text search runs only when the quick
    forms found no match.
    """
    target = parse_when(gold)
    # The offset the gold answer was written in: the event's local zone ("14:00" in an answer means that).
    zone = (dateutil_parser.isoparse(gold.strip()).tzinfo if isinstance(target, datetime) else None) or timezone.utc

    def hit(moments: list[datetime]) -> bool:
        if isinstance(target, datetime):
            return any(abs(moment - target) <= tolerance for moment in moments)
        return any(moment.date() == target for moment in moments)

    return hit(datetimes_in(text, search=False, zone=zone)) or hit(datetimes_in(text, zone=zone))


def numbers_in(text: str) -> list[float]:
    """Numbers in the text, dates, clock times and citations excluded; 'three' counts as 3."""
    clean = _CLOCK.sub(" ", _ISO_DATETIME.sub(" ", strip_citations(text)))
    values = [float(token) for token in _NUMBER.findall(clean)]
    values.extend(float(_WORD_NUMBERS[word]) for word in normalize_text(clean).split() if word in _WORD_NUMBERS)
    return values


def match_number(text: str, gold: str | float) -> bool:
    try:
        return float(gold) in numbers_in(text)
    except ValueError:
        return False


def match_text(text: str, candidates: list[str]) -> bool:
    """Any acceptable answer appears (normalized) in the answer text."""
    haystack = f" {normalize_text(strip_citations(text))} "
    return any(f" {normalize_text(c)} " in haystack for c in candidates if normalize_text(c))


def match_list(text: str, items: list[str]) -> bool:
    """Every gold item is mentioned: the list is compared as a set, order ignored."""
    return bool(items) and all(match_text(text, [item]) for item in items)


def yes_or_no(text: str) -> str | None:
    """'yes' or 'no' as the answer states it: its first word, else the first standalone yes/no."""
    words = normalize_text(strip_citations(text)).split()
    if words and words[0] in ("yes", "no"):
        return words[0]
    return next((w for w in words if w in ("yes", "no")), None)


def as_list(answer: Any) -> list[str]:
    """A list answer given as a JSON list or as one string with ';' separators."""
    if isinstance(answer, list):
        return [str(item) for item in answer]
    return [part.strip() for part in str(answer).split(";") if part.strip()]


def calendar_target(answer: Any) -> tuple[str, str]:
    """(ISO start, title) of an expected calendar addition: {"title", "starts_at"} (or "start") or 'ISO title'."""
    if isinstance(answer, dict):
        return str(answer.get("starts_at") or answer["start"]), str(answer["title"])
    start, _, title = str(answer).strip().partition(" ")
    return start, title.strip()


def match_calendar_add(arguments: dict[str, Any], answer: Any, tolerance: timedelta = DEFAULT_TOLERANCE) -> bool:
    """A calendar_add call's arguments add the expected event: start within tolerance, title matching."""
    start, title = calendar_target(answer)
    given_start, given_title = str(arguments.get("start", "")), str(arguments.get("title", ""))
    try:
        moment = parse_when(given_start)
    except ValueError:
        return False
    target = parse_when(start)
    if isinstance(target, datetime) and isinstance(moment, datetime):
        close = abs(moment - target) <= tolerance
    else:
        close = (moment.date() if isinstance(moment, datetime) else moment) == (
            target.date() if isinstance(target, datetime) else target
        )
    return close and (match_text(given_title, [title]) or match_text(title, [given_title]))


def is_unknown_question(gold: Any) -> bool:
    """Questions the mailbox cannot answer: answer 'unknown' (answer_type text, or the type 'unknown')."""
    return gold.answer_type == "unknown" or (isinstance(gold.answer, str) and gold.answer.strip().lower() == "unknown")


def _is_iso(value: str) -> bool:
    try:
        parse_when(value)
    except ValueError:
        return False
    return True


def score_answer(answer_text: str, gold: Any, tolerance: timedelta = DEFAULT_TOLERANCE) -> bool:
    """True when `answer_text` gives `gold`'s answer (a GoldQuestion or anything with its fields).

    `calendar_add` questions are judged on the text here (it names the event and its time); whether
    the event really reached the calendar is checked by the caller with `match_calendar_add`.
    """
    kind = gold.answer_type
    accept = [str(a) for a in (gold.accept or [])]
    if is_unknown_question(gold):
        return says_unknown(answer_text)
    if not answer_text.strip():
        return False
    if kind == "datetime":
        moments = [str(gold.answer), *(a for a in accept if _is_iso(a))]
        written = [a for a in accept if not _is_iso(a)]
        return any(match_datetime(answer_text, when, tolerance) for when in moments) or match_text(answer_text, written)
    if kind == "number":
        return any(match_number(answer_text, value) for value in [gold.answer, *accept])
    if kind == "list":
        return match_list(answer_text, as_list(gold.answer))
    if kind == "yesno":
        return yes_or_no(answer_text) == normalize_text(str(gold.answer))
    if kind == "calendar_add":
        start, title = calendar_target(gold.answer)
        return match_text(answer_text, [title]) and match_datetime(answer_text, start, tolerance)
    return match_text(answer_text, [str(gold.answer), *accept])


def calendar_has_event(rows: list[tuple[str, datetime]], answer: Any, tolerance: timedelta = DEFAULT_TOLERANCE) -> bool:
    """Some (title, starts_at) row of the calendar table is the expected addition: how evaluation
    checks a calendar_add question by what really reached the calendar, not by the answer's words."""
    return any(
        match_calendar_add({"title": title, "start": starts_at.isoformat()}, answer, tolerance)
        for title, starts_at in rows
    )
