"""Answers grounded in this run's tool results, or not given: the last check before an answer reaches the user.

A small model out of its depth invents dates ("February 10, 2026 at 10:00 AM"), cites ids that no tool returned
and can degenerate into repeated digits. So, after the loop:
- a citation of an id that appears in no tool result of the run is removed from the answer (and reported);
- an answer with a date, time or number found in no tool result, or with degenerate repetition, is replaced by a
  plain rendering of the last rows a tool returned (with their message ids), or by "the mailbox does not say".
Times are compared as instants: written in UTC or in the reader's zone, any form `extract.dates` reads.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo

from pydantic import BaseModel, Field

from quarry.agent.citations import parse_citations
from quarry.agent.prompts import NO_ANSWER
from quarry.extract.dates import find_dates
from quarry.store.calendar import instant_or_none

_MARKER = re.compile(r"\s*\[\s*msg:[^\]]*\]", re.IGNORECASE)
_CLOCK = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?"
_ZONE = r"(?:\s*UTC|Z|[+-]\d{2}:?\d{2})"
_INSTANT = re.compile(f"{_CLOCK}{_ZONE}?")
#: An instant written with its zone ("2026-03-14 14:00:00+00:00", "...T14:00Z"): read as one, before the prose
#: reader sees it (which would take "+00:00" for a second clock time).
_ZONED_INSTANT = re.compile(f"{_CLOCK}{_ZONE}")
_DAY = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
_NUMBER = re.compile(r"(?<![\w.:/-])\d+(?:[.,]\d+)?(?![\w:/-])")
_REPEATED = re.compile(r"(.{2,24}?)\1{4,}", re.DOTALL)
_LONG_DIGITS = re.compile(r"\d{13,}")
ROWS_SHOWN = 5
ROWS_LEAD = "What the mailbox holds:"


class Grounding(BaseModel):
    """What the check did: the answer the user gets, and why it differs from the model's, if it does."""

    answer: str
    removed_citations: list[str] = Field(default_factory=list)
    unfound: list[str] = Field(default_factory=list)  # dates, times, numbers no tool result holds
    fallback: str | None = None  # why the model's answer was replaced ("unfound values", "repetition")


def _result_instants(results: list[str]) -> tuple[list[datetime], set[str]]:
    """ISO times and dates in tool results (the form `store.query` writes them in, or a timestamp with offset)."""
    instants = [i for text in results for m in _INSTANT.finditer(text) if (i := instant_or_none(m.group(0)))]
    return instants, {day for text in results for day in _DAY.findall(text)}


def _prose_instants(results: list[str], now: datetime, reader) -> tuple[list[datetime], set[str]]:
    """Dates written in words inside tool results (a message body: "Saturday 14 March at 10:00")."""
    instants, days = [], set()
    for text in results:
        for found in find_dates(text, now.astimezone(reader)):
            (days.add(found.start.astimezone(reader).date().isoformat()) if found.all_day
             else instants.append(found.start))
    return instants, days


def _dates_found(answer: str, results: list[str], now: datetime, reader) -> tuple[list[str], str]:
    """Date/time phrases of the answer that match no tool result; and the answer with all its phrases cut out."""
    instants, days = _result_instants(results)
    prose, prose_days = _prose_instants(results, now, reader)
    instants, days = instants + prose, days | prose_days
    result_days = days | {i.astimezone(reader).date().isoformat() for i in instants} | \
        {i.astimezone(timezone.utc).date().isoformat() for i in instants}
    unfound, rest = [], answer
    for match in _ZONED_INSTANT.finditer(answer):
        rest = rest.replace(match.group(0), " ")
        moment = instant_or_none(match.group(0))
        if moment is None or not any(abs(moment - i) < timedelta(minutes=1) for i in instants):
            unfound.append(match.group(0))
    readings = [find_dates(rest, now.astimezone(zone)) for zone in (reader, timezone.utc)]
    for index, found in enumerate(readings[0]):
        alternatives = [found] + [r[index] for r in readings[1:] if index < len(r)]
        rest = rest.replace(found.phrase, " ")
        if found.all_day:
            ok = any(a.start.astimezone(zone).date().isoformat() in result_days
                     for a in alternatives for zone in (reader, timezone.utc))
        else:
            ok = any(abs(a.start - i) < timedelta(minutes=1) for a in alternatives for i in instants)
        if not ok:
            unfound.append(found.phrase.rstrip(" .,"))
    return unfound, rest


def _numbers_unfound(text: str, results: list[str]) -> list[str]:
    held = {n.replace(",", "") for r in results for n in _NUMBER.findall(r)}
    return [n for n in _NUMBER.findall(text) if n.replace(",", "") not in held]


def _rendering(results: list[str]) -> str:
    """The last table of rows a tool returned, its lines quoted as they came (header first, a few rows), each row
    followed by the citation of its message id; else NO_ANSWER."""
    for text in reversed(results):
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) < 2 or "(no rows)" in text or " | " not in lines[0]:
            continue
        columns = [c.strip() for c in lines[0].split(" | ")]
        rows = [line for line in lines[1:] if not line.startswith("(")][:ROWS_SHOWN]
        rendered = [lines[0]]
        for row in rows:
            cells = [c.strip() for c in row.split(" | ")]
            ident = cells[columns.index("message_id")] if "message_id" in columns and len(cells) == len(columns) \
                else None
            rendered.append(row + (f" [msg:{ident}]" if ident and ident != "NULL" else ""))
        if rows:
            return ROWS_LEAD + "\n" + "\n".join(rendered)
    return NO_ANSWER


def _quotes_results(text: str, results: list[str]) -> bool:
    """Is every line of `text` (its lead and citations aside) a line some tool result holds word for word?"""
    lines = [_MARKER.sub("", line).strip() for line in text.splitlines()]
    lines = [line for line in lines if line and line != ROWS_LEAD]
    held = {line.strip() for r in results for line in r.splitlines()}
    return bool(lines) and all(line in held for line in lines)


def ground(answer: str, results: list[str], now: datetime, reader: tzinfo | None = None) -> Grounding:
    """Check `answer` against this run's tool `results` (see the module docstring); `reader` is the zone an
    answer may write local times in (default: the zone of `now`)."""
    reader = reader or now.tzinfo or timezone.utc
    seen = "\n".join(results)
    removed = [i for i in parse_citations(answer) if i not in seen]

    def kept_ids(marker: re.Match) -> str:
        ids = [i for i in parse_citations(marker.group(0)) if i in seen]
        return f" [msg:{', msg:'.join(ids)}]" if ids else ""

    text = _MARKER.sub(kept_ids, answer) if removed else answer
    if answer.strip() == NO_ANSWER:
        return Grounding(answer=answer, removed_citations=removed)
    if _quotes_results(text, results):  # rows quoted as the tool gave them hold only what the tool said
        return Grounding(answer=text.strip(), removed_citations=removed)
    plain = _MARKER.sub(" ", text)
    probe = answer  # the model's words, real ids aside (a real id may hold a run of zeros)
    for cited in parse_citations(answer):
        probe = probe.replace(cited, " ") if cited in seen else probe
    if _REPEATED.search(probe) or _LONG_DIGITS.search(probe) or not plain.strip():
        return Grounding(answer=_rendering(results), removed_citations=removed, fallback="repetition")
    unfound, rest = _dates_found(plain, results, now, reader)
    unfound += _numbers_unfound(rest, results)
    if unfound:
        return Grounding(answer=_rendering(results), removed_citations=removed, unfound=unfound,
                         fallback="unfound values")
    return Grounding(answer=text.strip(), removed_citations=removed)
