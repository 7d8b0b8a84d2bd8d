"""Deadlines across a mailbox: a reminder adds nothing, a correction replaces the date it corrects.

"Nominations actually close Wednesday 18 March, not Friday the 13th" should leave one deadline, due on the
18th and citing the correcting message, not two. A correction (a cue in the sentence or the subject) updates
the like-named deadline of the whole mailbox; a repeat of a deadline of its thread on the same day is
dropped. The run keeps this extractor's deadlines in memory and loads stored ones once.
"""

from __future__ import annotations

import re

import duckdb

from quarry.extract.event_merge import within_a_day
from quarry.extract.facts import PROVENANCE, Deadline, similarity

CORRECTION_RE = re.compile(
    r"\b(?:correction|corrected|correcting|actually|typo|wrong date|should (?:have )?(?:read|said|been)|"
    r"not\s+(?:on\s+)?(?:the\s+)?(?:\w+day|\d{1,2}(?:st|nd|rd|th)?)|changed to|now due|brought forward|"
    r"moved (?:up|forward|back)|earlier than (?:previously|originally)|instead of)\b", re.I)
LIKE_TASK = 0.6
_COLUMNS = ("fact_id", *Deadline.fields, *PROVENANCE)


class DeadlineMerger:
    """Decides, per new deadline, whether it is new, a repeat, or a correction of a known one."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.known: dict[tuple, list[Deadline]] = {}  # (extractor, model) -> deadlines, stored and new
        self.threads: dict[str, str | None] = {}  # fact_id -> thread of its message
        self.stored: set[str] = set()

    def _all(self, fact: Deadline) -> list[Deadline]:
        key = (fact.extractor, fact.model or "")
        if key not in self.known:
            rows = self.con.execute(
                f"SELECT {', '.join(f'd.{name}' for name in _COLUMNS)}, m.thread_id FROM deadlines d "
                "LEFT JOIN messages m USING (message_id) WHERE d.extractor = ? AND coalesce(d.model, '') = ?",
                list(key)).fetchall()
            self.known[key] = [Deadline(**dict(zip(_COLUMNS, row[:-1]))) for row in rows]
            self.threads |= {row[0]: row[-1] for row in rows}
            self.stored |= {d.fact_id for d in self.known[key]}
        return self.known[key]

    def merge(self, fact: Deadline, subject: str, thread: str | None) -> Deadline | None:
        """The deadline to insert, or None when `fact` repeats or corrects one already known (then updated)."""
        known = self._all(fact)
        if CORRECTION_RE.search(fact.evidence) or CORRECTION_RE.search(subject):
            alike = [d for d in known if d.due_at != fact.due_at and similarity(d.task, fact.task) >= LIKE_TASK]
            corrected = max(alike, key=lambda d: similarity(d.task, fact.task), default=None)
            if corrected is not None:
                self._replace(corrected, fact)
                return None
        for other in known:
            if thread and self.threads.get(other.fact_id) == thread and _same_day(other, fact) and \
                    similarity(other.task, fact.task) >= LIKE_TASK:
                return None
        fact = fact.with_id()
        known.append(fact)
        self.threads[fact.fact_id] = thread
        return fact

    def flushed(self) -> None:
        """The deadlines handed out so far are stored now: a later correction updates their rows."""
        self.stored |= {d.fact_id for known in self.known.values() for d in known}

    def _replace(self, old: Deadline, new: Deadline) -> None:
        """The corrected date, words and source replace the old ones (the fact keeps its id)."""
        values = {"due_at": new.due_at, "phrase": new.phrase, "evidence": new.evidence, "message_id": new.message_id,
                  "timezone": new.timezone}
        if old.fact_id in self.stored:
            assignments = ", ".join(f"{name} = ?" for name in values)
            self.con.execute(f"UPDATE deadlines SET {assignments} WHERE fact_id = ?", [*values.values(), old.fact_id])
        for name, value in values.items():
            setattr(old, name, value)


def _same_day(a: Deadline, b: Deadline) -> bool:
    if a.due_at is None or b.due_at is None:
        return a.due_at is b.due_at
    return within_a_day(a.due_at, b.due_at)
