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

_CANDIDATES = """
SELECT fact_id, title, starts_at, all_day FROM events
 WHERE status <> 'cancelled' AND starts_at BETWEEN ? - INTERVAL 24 HOUR AND ? + INTERVAL 24 HOUR
"""


def link_calendar(con: duckdb.DuckDBPyConnection) -> int:
    """Link every unlinked calendar entry that is one of the stored events; returns how many were linked."""
    entries = con.execute("SELECT event_id, title, starts_at FROM calendar_events WHERE source_fact_id IS NULL"
                          ).fetchall()
    linked = 0
    for event_id, title, start in entries:
        scored = [(similarity(title, fact_title), fact_id)
                  for fact_id, fact_title, fact_start, all_day in con.execute(_CANDIDATES, [start, start]).fetchall()
                  if all_day or abs(fact_start - start) <= TOLERANCE]
        best = max((s for s in scored if s[0] >= MIN_LIKENESS), default=None)
        if best is not None:
            con.execute("UPDATE calendar_events SET source_fact_id = ? WHERE event_id = ?", [best[1], event_id])
            linked += 1
    return linked
