"""The user's calendar entries linked to the events their mail is about, so one event has all its sources.

An entry of an imported calendar and the event a mail (or its .ics invite) announces are the same thing:
linking sets `calendar_events.source_fact_id` to that event, so "is the board dinner on my calendar?" is a
join, and an entry left at the old time of a moved event can be found. An entry is linked to the event
whose start lies within `TOLERANCE` of its own (a day when the event is all-day) and whose title is most
alike (at least `MIN_LIKENESS`); a cancelled event or one without a time is never a calendar entry's.
Entries already linked (by the agent's calendar_add, or an earlier run) are kept as they are.
"""

from __future__ import annotations

from datetime import timedelta

import duckdb

from quarry.extract.facts import similarity

TOLERANCE = timedelta(minutes=60)
MIN_LIKENESS = 0.5

#: Each unlinked entry beside every live event starting within a day of it (the time rule is applied below).
_CANDIDATES = """
SELECT c.event_id, c.title, e.fact_id, e.title, abs(epoch(e.starts_at) - epoch(c.starts_at)), e.all_day
FROM calendar_events c JOIN events e
  ON e.status <> 'cancelled' AND e.starts_at BETWEEN c.starts_at - INTERVAL 24 HOUR AND c.starts_at + INTERVAL 24 HOUR
WHERE c.source_fact_id IS NULL
"""


def link_calendar(con: duckdb.DuckDBPyConnection) -> int:
    """Link every unlinked calendar entry that is one of the stored events; returns how many were linked."""
    best: dict[str, tuple[float, str]] = {}
    for event_id, title, fact_id, fact_title, apart_s, all_day in con.execute(_CANDIDATES).fetchall():
        if not all_day and apart_s > TOLERANCE.total_seconds():
            continue
        likeness = similarity(title, fact_title)
        if likeness >= MIN_LIKENESS and (event_id not in best or (likeness, fact_id) > best[event_id]):
            best[event_id] = (likeness, fact_id)
    for event_id, (_, fact_id) in best.items():
        con.execute("UPDATE calendar_events SET source_fact_id = ? WHERE event_id = ?", [fact_id, event_id])
    return len(best)
