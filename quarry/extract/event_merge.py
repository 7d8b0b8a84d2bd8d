"""Facts across a mailbox: one event per real-world event, moved or cancelled by later messages.

A reply that repeats an event adds nothing; a message that moves or cancels an event updates the
live event of its thread that it names (by title likeness) and appends to event_history which
message changed what. Across threads (a reminder, an .ics invite and the announcement are three
threads) an event on the same day with a like title is the same event: the later message is
recorded in its history as 'mentioned' (one row, several sources), and a cancel that names that
day cancels it. The run keeps the extractor's events in memory, by thread and by day, and writes
new rows in batches, so merging costs no query per event once loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb

from quarry.extract.batchwrite import insert_rows
from quarry.extract.facts import Event, insert_facts, similarity

SAME_TIME = timedelta(hours=1)
#: Titles must be this alike for two events of different threads to be one (within a thread: 0.3).
ACROSS_THREADS = 0.6
#: A move/cancel cue below this confidence (it names no event) is dropped when it matches no stored event.
STANDALONE = 0.5
_HISTORY_COLUMNS = [("fact_id", "TEXT"), ("message_id", "TEXT"), ("change", "TEXT"),
                    ("old_starts_at", "TIMESTAMPTZ"), ("new_starts_at", "TIMESTAMPTZ"), ("evidence", "TEXT")]


@dataclass
class Known:
    """What merging needs of a stored (or about to be stored) event."""

    fact_id: str
    title: str
    starts_at: datetime | None
    ends_at: datetime | None
    status: str
    location: str | None = None
    all_day: bool = False
    zone: str | None = None  # the IANA zone the sender meant the time in


def new_start(event: Event, old_start: datetime | None, zone: tzinfo) -> datetime | None:
    """A move to a day without a time ("to Thursday, same time") keeps the old local time of day."""
    if not event.all_day or event.starts_at is None or old_start is None:
        return event.starts_at
    day = event.starts_at.astimezone(zone).date()
    clock = old_start.astimezone(zone).timetz().replace(tzinfo=None)
    return datetime.combine(day, clock, tzinfo=zone).astimezone(timezone.utc)


def repeats(known: Known, event: Event) -> bool:
    """The same event: starts within an hour with a like title (or the same minute), or like titles and no time."""
    if event.starts_at is None:
        return similarity(known.title, event.title) >= 0.6
    if known.starts_at is None:
        return False
    gap = abs(known.starts_at - event.starts_at)
    return gap <= SAME_TIME and (similarity(known.title, event.title) >= 0.3 or gap < timedelta(minutes=1))


def target(rows: list[Known], event: Event, min_similarity: float = 0.5) -> Known | None:
    """The live event a move/cancel refers to: the best title match, if it is alike enough."""
    live = [r for r in rows if r.status != "cancelled"]
    if not live:
        return None
    best = max(live, key=lambda r: similarity(r.title, event.title))
    return best if similarity(best.title, event.title) >= min_similarity else None


def within_a_day(a: datetime, b: datetime) -> bool:
    """Two instants close enough to be one day's (a local day seen from any zone): under 20 hours apart."""
    return abs(a - b) < timedelta(hours=20)


def same_day(known: Known, event: Event) -> bool:
    return known.starts_at is not None and event.starts_at is not None and within_a_day(known.starts_at,
                                                                                         event.starts_at)


def _day(instant: datetime) -> date:
    """The key of the by-day index: the UTC date."""
    return instant.astimezone(timezone.utc).date()


def local_date(instant: datetime, zone: str | None) -> date:
    """The calendar date an instant falls on where its sender is (an all-day date is its local midnight)."""
    try:
        where = ZoneInfo(zone) if zone else timezone.utc
    except (ZoneInfoNotFoundError, ValueError):
        where = timezone.utc
    return instant.astimezone(where).date()


def repeats_elsewhere(known: Known, event: Event) -> bool:
    """The same event announced in another thread or a document: like titles, and the same time, or, when
    either gives only a day, the same date as each sender meant it (a note's "19 November" is the dinner at
    19:30 New York time, which is already the 20th in UTC)."""
    if known.starts_at is None or event.starts_at is None or similarity(known.title, event.title) < ACROSS_THREADS:
        return False
    if event.all_day or known.all_day:
        return local_date(known.starts_at, known.zone) == local_date(event.starts_at, event.timezone)
    return abs(known.starts_at - event.starts_at) <= SAME_TIME


class EventMerger:
    """Thread-aware event writes for one extraction run; call `flush` before committing."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.threads: dict[tuple, list[Known]] = {}
        self.days: dict[tuple, dict[date, list[Known]]] = {}
        self.known: dict[str, Known] = {}  # one object per event, shared by the thread and day views
        self.new: dict[str, Event] = {}
        self.history: list[list] = []
        self.recorded: set[tuple[str, str | None]] = set()  # (fact_id, message) pairs in this run's history

    def _rows(self, event: Event) -> list[Known]:
        """The thread's events from this extractor (and ICS), loaded once per run."""
        if not event.thread_id:
            return []
        key = (event.thread_id, event.extractor, event.model or "")
        if key not in self.threads:
            self.threads[key] = [self._one(row) for row in self.con.execute(
                "SELECT fact_id, title, starts_at, ends_at, status, location, all_day, timezone FROM events "
                "WHERE thread_id = ? AND "
                "((extractor = ? AND coalesce(model, '') = ?) OR extractor = 'ics') ORDER BY starts_at NULLS LAST",
                list(key),
            ).fetchall()]
        return self.threads[key]

    def _one(self, row: tuple) -> Known:
        return self.known.setdefault(row[0], Known(*row))

    def _by_day(self, event: Event) -> dict[date, list[Known]]:
        """Every event of this extractor (and ICS) in the store, by UTC day, loaded once per run."""
        key = (event.extractor, event.model or "")
        if key not in self.days:
            days: dict[date, list[Known]] = {}
            for row in self.con.execute(
                "SELECT fact_id, title, starts_at, ends_at, status, location, all_day, timezone FROM events "
                "WHERE starts_at IS NOT NULL AND ((extractor = ? AND coalesce(model, '') = ?) OR extractor = 'ics')",
                list(key)).fetchall():
                known = self._one(row)
                days.setdefault(_day(known.starts_at), []).append(known)
            self.days[key] = days
        return self.days[key]

    def _near(self, event: Event) -> list[Known]:
        """Events of the whole mailbox starting within a day of `event`."""
        if event.starts_at is None:
            return []
        day = _day(event.starts_at)
        days = self._by_day(event)
        return [k for d in (day - timedelta(days=1), day, day + timedelta(days=1)) for k in days.get(d, [])]

    def _elsewhere(self, event: Event) -> Known | None:
        """The event of another thread a cancel (on its day) or a dateless venue change (by name) refers to;
        moves stay in their thread (matching them by title across threads lost more than it found)."""
        if event.status == "cancelled" and event.starts_at is not None:
            return target([k for k in self._near(event) if same_day(k, event)], event, ACROSS_THREADS)
        if event.status == "moved" and event.location and event.starts_at is None:  # a dateless venue change
            return target([k for days in self._by_day(event).values() for k in days], event, ACROSS_THREADS)
        return None

    def _record(self, fact_id: str, event: Event, change: str, old, new) -> None:
        """One history row; a message is 'mentioned' once per event, and not by the message that created it."""
        source = event.message_id or event.document_id
        if change == "mentioned" and (fact_id, source) in self.recorded:
            return
        self.recorded.add((fact_id, source))
        self.history.append([fact_id, source, change, old, new, event.evidence])

    def _set(self, known: Known, **values) -> None:
        """Change a known event, pending (in memory) or stored (UPDATE)."""
        if known.fact_id in self.new:
            self.new[known.fact_id] = self.new[known.fact_id].model_copy(update=values)
        else:
            assignments = ", ".join(f"{name} = ?" for name in values)
            self.con.execute(f"UPDATE events SET {assignments} WHERE fact_id = ?", [*values.values(), known.fact_id])
        if "starts_at" in values and known.starts_at is not None:
            for days in self.days.values():
                bucket = days.get(_day(known.starts_at), [])
                if known in bucket:
                    bucket.remove(known)
                    days.setdefault(_day(values["starts_at"]), []).append(known)
        for name, attribute in (("starts_at", "starts_at"), ("ends_at", "ends_at"), ("status", "status"),
                                ("location", "location"), ("all_day", "all_day"), ("timezone", "zone")):
            if name in values:
                setattr(known, attribute, values[name])

    def _update(self, event: Event, known: Known, zone: tzinfo) -> None:
        source = event.message_id or event.document_id
        if event.status == "cancelled":
            self._record(known.fact_id, event, "cancelled", known.starts_at, None)
            self._set(known, status="cancelled", updated_by=source)
            return
        if event.location and event.location != known.location:
            self._record(known.fact_id, event, "relocated", known.starts_at, known.starts_at)
            self._set(known, location=event.location, updated_by=source)
        start = new_start(event, known.starts_at, zone)
        if start is None or start == known.starts_at:
            return
        old = known.starts_at
        end = event.ends_at or (known.ends_at + (start - old) if known.ends_at and old else None)
        self._record(known.fact_id, event, "moved", old, start)
        self._set(known, starts_at=start, ends_at=end, all_day=event.all_day and start == event.starts_at,
                  phrase=event.phrase, status="moved", updated_by=source, timezone=event.timezone)

    def merge(self, event: Event, zone: tzinfo = timezone.utc) -> bool:
        """Store an event with thread awareness; returns True if it becomes a new row.

        A move/cancel with no live event to update is stored as a new event (a move as scheduled:
        "instead we'll hold a session on..."), unless its confidence is below STANDALONE.
        """
        rows = self._rows(event)
        if event.status != "scheduled":
            found = target(rows, event) or self._elsewhere(event)
            if found is not None:
                self._update(event, found, zone)
                return False
            if event.confidence < STANDALONE:
                return False
            if event.status == "moved":
                event = event.model_copy(update={"status": "scheduled"})
        same = next((row for row in rows if repeats(row, event)), None) or next(
            (k for k in self._near(event) if k.status != "cancelled" and repeats_elsewhere(k, event)), None)
        if same is not None:  # e.g. the email beside its .ics invite, or a reminder: one event, one more source
            self._record(same.fact_id, event, "mentioned", same.starts_at, event.starts_at)
            return False
        event = event.with_id()
        self.new[event.fact_id] = event
        known = self._one((event.fact_id, event.title, event.starts_at, event.ends_at, event.status, event.location,
                           event.all_day, event.timezone))
        rows.append(known)
        if event.starts_at is not None:
            self._by_day(event).setdefault(_day(event.starts_at), []).append(known)
        self._record(event.fact_id, event, "created" if event.status == "scheduled" else event.status, None,
                     event.starts_at)
        return True

    def flush(self) -> None:
        insert_facts(self.con, list(self.new.values()))
        insert_rows(self.con, "event_history", _HISTORY_COLUMNS, self.history)
        self.new, self.history = {}, []
