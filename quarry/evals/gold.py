"""Gold files of a corpus: the planted facts (gold_facts.json) and the question/answer lines (JSONL).

`load_gold_facts` writes the gold facts into a store exactly as an extractor would (extractor='gold'), and
the user's calendar into calendar_events, so gold SQL can be checked and evaluations run without any
extractor. `answer_matches` is the one comparison of a SQL result against a gold answer, per answer type.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import duckdb
from pydantic import BaseModel, ValidationError

from quarry.errors import InputError
from quarry.extract.facts import ActionItem, Deadline, Event, insert_fact, normalize

EXTRACTOR = "gold"
VERSION = "1"

AnswerType = Literal["datetime", "text", "number", "list", "yesno", "calendar_add"]


class GoldQuestion(BaseModel):
    """One line of a question file (gold or held-out)."""

    id: str
    question: str
    answer: str | list | dict
    answer_type: AnswerType
    accept: list[str] = []
    message_ids: list[str] = []
    sql: str | None = None


class HistoryEntry(BaseModel):
    change: Literal["created", "moved", "cancelled"]
    message_id: str
    old_starts_at: datetime | None = None
    new_starts_at: datetime | None = None
    evidence: str


class GoldEvent(BaseModel):
    id: str
    message_id: str
    title: str
    evidence: str
    phrase: str | None = None
    starts_at: datetime
    ends_at: datetime | None = None
    all_day: bool = False
    location: str | None = None
    owner: str | None = None
    status: Literal["scheduled", "moved", "cancelled"] = "scheduled"
    timezone: str
    updated_by: str | None = None
    history: list[HistoryEntry] = []


class GoldTask(BaseModel):
    """A deadline or an action item (action items also carry a status)."""

    id: str
    message_id: str
    task: str
    evidence: str
    phrase: str | None = None
    due_at: datetime | None = None
    all_day: bool = False
    owner: str | None = None
    timezone: str
    status: Literal["open", "done"] = "open"


class CalendarEntry(BaseModel):
    id: str
    title: str
    starts_at: datetime
    ends_at: datetime | None = None
    location: str | None = None


class GoldFacts(BaseModel):
    user: dict[str, str]
    timezone_note: str
    events: list[GoldEvent]
    deadlines: list[GoldTask]
    action_items: list[GoldTask]
    calendar: list[CalendarEntry]


def load_questions(path: str | Path) -> list[GoldQuestion]:
    """Every question of a JSONL file; a bad line raises InputError naming the file and line."""
    file = Path(path)
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"{file}: cannot read question file: {exc.strerror}") from exc
    questions = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            questions.append(GoldQuestion.model_validate_json(line))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "line"
            raise InputError(f"{file}:{number}: bad question line: {where}: {first['msg']}") from exc
    return questions


def read_gold_facts(path: str | Path) -> GoldFacts:
    file = Path(path)
    try:
        return GoldFacts.model_validate_json(file.read_bytes())
    except OSError as exc:
        raise InputError(f"{file}: cannot read gold facts: {exc.strerror}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InputError(f"{file}: bad gold facts at {'.'.join(map(str, first['loc']))}: {first['msg']}") from exc


def _provenance(fact: GoldEvent | GoldTask) -> dict[str, Any]:
    return {"fact_id": fact.id, "message_id": fact.message_id, "evidence": fact.evidence,
            "extractor": EXTRACTOR, "extractor_version": VERSION}


def load_gold_facts(con: duckdb.DuckDBPyConnection, path: str | Path) -> GoldFacts:
    """Insert the gold events (with history), deadlines, action items and calendar into the store."""
    gold = read_gold_facts(path)
    con.execute("BEGIN")
    for ev in gold.events:
        insert_fact(con, Event(title=ev.title, starts_at=ev.starts_at, ends_at=ev.ends_at, all_day=ev.all_day,
                               location=ev.location, status=ev.status, phrase=ev.phrase, updated_by=ev.updated_by,
                               timezone=ev.timezone, **_provenance(ev)))
        con.executemany(
            "INSERT OR IGNORE INTO event_history (fact_id, message_id, change, old_starts_at, new_starts_at, evidence) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [[ev.id, h.message_id, h.change, h.old_starts_at, h.new_starts_at, h.evidence] for h in ev.history])
    for d in gold.deadlines:
        insert_fact(con, Deadline(task=d.task, due_at=d.due_at, owner=d.owner, phrase=d.phrase, timezone=d.timezone,
                                  **_provenance(d)))
    for a in gold.action_items:
        insert_fact(con, ActionItem(owner=a.owner, task=a.task, due_at=a.due_at, status=a.status, phrase=a.phrase,
                                    timezone=a.timezone, **_provenance(a)))
    con.executemany(
        "INSERT OR IGNORE INTO calendar_events (event_id, title, starts_at, ends_at, location, origin) "
        "VALUES (?, ?, ?, ?, ?, 'ics')",
        [[c.id, c.title, c.starts_at, c.ends_at, c.location] for c in gold.calendar])
    con.execute("COMMIT")
    return gold


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return normalize(str(value))


def _instant(value: Any) -> datetime | None:
    try:
        parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def answer_matches(question: GoldQuestion, rows: list[tuple]) -> bool:
    """Does a SQL result (rows of tuples) give the question's gold answer?

    datetime: the first cell is the same instant; text/yesno: the first cell equals the answer or an accepted
    form (case and spacing ignored); number: numerically equal; list: the first column is the same set;
    calendar_add: some row has the expected title and the same start instant.
    """
    if question.answer_type == "list":
        return sorted({_text(r[0]) for r in rows}) == sorted({_text(a) for a in question.answer})
    if question.answer_type == "calendar_add":
        want = question.answer
        return any(_text(r[0]) == _text(want["title"]) and _instant(r[1]) == _instant(want["starts_at"]) for r in rows)
    if len(rows) != 1 or not rows[0]:
        return False
    cell = rows[0][0]
    if question.answer_type == "datetime":
        got, want = _instant(cell), _instant(question.answer)
        return got is not None and got == want
    if question.answer_type == "number":
        try:
            return float(cell) == float(question.answer)
        except (TypeError, ValueError):
            return False
    return _text(cell) in {_text(question.answer), *(_text(a) for a in question.accept)}



def corpus_inputs(corpus: Path) -> list[Path]:
    """What a corpus gives to ingest: its `mail/` and, where it has one, `docs/` (gold files are not mail)."""
    return [folder for folder in (corpus / "mail", corpus / "docs") if folder.is_dir()]


def build_gold_store(corpus: Path, path: Path) -> Path:
    """A store of a corpus with its gold facts: the mail and docs ingested, then `gold_facts.json`
    (and its calendar) loaded, so agent figures measure retrieval and answering, not extraction."""
    from quarry.extract.pipeline import ingest
    from quarry.store.db import connect

    ingest(corpus_inputs(corpus), path)
    con = connect(path)
    try:
        load_gold_facts(con, corpus / "gold_facts.json")
    finally:
        con.close()
    return path
