"""Typed facts with provenance, mirroring the fact tables of schema.sql, and the evidence check.

Every fact names its source (message or document), the exact words it came from (`evidence`),
the extractor, model and version that produced it, and a confidence. A fact whose evidence does not
occur in its source text is rejected: that is what keeps an extractor from inventing things.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import ClassVar, Literal

import duckdb
from pydantic import BaseModel, Field, field_validator
from rapidfuzz import fuzz, utils

from quarry.extract.batchwrite import insert_rows

_SPACE = re.compile(r"\s+")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})


class Fact(BaseModel):
    """Provenance shared by every fact type."""

    table: ClassVar[str] = ""
    #: Columns besides the provenance ones, in schema order.
    fields: ClassVar[tuple[str, ...]] = ()

    fact_id: str = ""
    evidence: str = Field(min_length=1)
    message_id: str | None = None
    document_id: str | None = None
    extractor: str
    model: str | None = None
    extractor_version: str
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)

    @field_validator("evidence")
    @classmethod
    def _strip(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("evidence must quote the source words")
        return value.strip()

    def identity(self) -> str:
        """What makes two extractions the same fact; hashed into fact_id."""
        return "|".join(str(getattr(self, name)) for name in self.fields[:2])

    def with_id(self) -> "Fact":
        """A copy with a stable fact_id: table + source + extractor + identity + evidence."""
        key = "\x1f".join([self.table, self.message_id or "", self.document_id or "", self.extractor,
                           self.model or "", self.identity(), self.evidence])
        return self.model_copy(update={"fact_id": self.table[:2] + "_" + hashlib.sha256(key.encode()).hexdigest()[:16]})


class Event(Fact):
    table: ClassVar[str] = "events"
    fields: ClassVar[tuple[str, ...]] = ("title", "starts_at", "ends_at", "all_day", "location", "participants",
                                         "status", "phrase", "thread_id", "updated_by", "timezone")
    title: str = Field(min_length=1)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    all_day: bool = False
    location: str | None = None
    participants: list[str] = Field(default_factory=list)
    status: Literal["scheduled", "moved", "cancelled"] = "scheduled"
    phrase: str | None = None
    thread_id: str | None = None
    updated_by: str | None = None
    timezone: str | None = None


class Deadline(Fact):
    table: ClassVar[str] = "deadlines"
    fields: ClassVar[tuple[str, ...]] = ("task", "due_at", "owner", "phrase", "timezone")
    task: str = Field(min_length=1)
    due_at: datetime | None = None
    owner: str | None = None
    phrase: str | None = None
    timezone: str | None = None


class ActionItem(Fact):
    table: ClassVar[str] = "action_items"
    fields: ClassVar[tuple[str, ...]] = ("owner", "task", "due_at", "status", "phrase", "timezone")
    owner: str | None = None
    task: str = Field(min_length=1)
    due_at: datetime | None = None
    status: Literal["open", "done"] = "open"
    phrase: str | None = None
    timezone: str | None = None

    def identity(self) -> str:
        return f"{self.task}|{self.owner}"


class Entity(Fact):
    table: ClassVar[str] = "entities"
    fields: ClassVar[tuple[str, ...]] = ("name", "kind")
    name: str = Field(min_length=1)
    kind: Literal["person", "org", "project", "place"]


class Topic(Fact):
    table: ClassVar[str] = "topics"
    fields: ClassVar[tuple[str, ...]] = ("name",)
    name: str = Field(min_length=1)


FACT_TYPES: tuple[type[Fact], ...] = (Event, Deadline, ActionItem, Entity, Topic)
#: The columns every fact table has besides its own `fields`.
PROVENANCE = ("evidence", "message_id", "document_id", "extractor", "model", "extractor_version", "confidence")


def normalize(text: str) -> str:
    """Case, curly quotes, dashes and runs of whitespace do not count when matching evidence."""
    return _SPACE.sub(" ", text.translate(_QUOTES)).strip().lower()


def similarity(a: str, b: str) -> float:
    """0..1 fuzzy likeness of two titles/tasks, word order and extra words forgiven ("dinner" ~ "board dinner")."""
    return fuzz.token_set_ratio(a, b, processor=utils.default_process) / 100.0


def evidence_occurs(evidence: str, source_text: str) -> bool:
    """True when the evidence words occur in the source (after `normalize` on both)."""
    needle = normalize(evidence)
    return bool(needle) and needle in normalize(source_text)


#: SQL types of the fact columns, for batch inserts (everything else is TEXT).
_SQL_TYPES = {"starts_at": "TIMESTAMPTZ", "ends_at": "TIMESTAMPTZ", "due_at": "TIMESTAMPTZ", "all_day": "BOOLEAN",
              "participants": "TEXT[]", "confidence": "DOUBLE"}


def insert_facts(con: duckdb.DuckDBPyConnection, facts: list[Fact]) -> list[str]:
    """Write facts, one statement per table (an exact duplicate by fact_id is ignored); returns their ids."""
    with_ids = [f if f.fact_id else f.with_id() for f in facts]
    for fact_type in FACT_TYPES:
        rows = {f.fact_id: f for f in with_ids if type(f) is fact_type}
        if rows:
            names = ("fact_id", *fact_type.fields, *PROVENANCE)
            columns = [(name, _SQL_TYPES.get(name, "TEXT")) for name in names]
            insert_rows(con, fact_type.table, columns, [[getattr(f, n) for n in names] for f in rows.values()])
    return [f.fact_id for f in with_ids]


def insert_fact(con: duckdb.DuckDBPyConnection, fact: Fact) -> str:
    """Write one fact (ignoring an exact duplicate by fact_id); returns its fact_id."""
    return insert_facts(con, [fact])[0]


class Person(BaseModel):
    email: str
    name: str | None = None


class SourceText(BaseModel):
    """One message or document as extractors see it: headers, cleaned body, and its reference time.

    `reference` is the send time on the sender's own wall clock (aware); relative dates resolve against it.
    """

    item_id: str
    kind: Literal["message", "document"] = "message"
    thread_id: str | None = None
    subject: str = ""
    sender: Person | None = None
    recipients: list[Person] = Field(default_factory=list)
    body: str = ""
    reference: datetime
    content_hash: str = ""

    def header_block(self) -> str:
        """The header lines shown to models; evidence may quote them (e.g. a subject used as a title)."""
        lines = []
        if self.sender:
            lines.append(f"From: {_who(self.sender)}")
        if self.recipients:
            lines.append("To: " + ", ".join(_who(p) for p in self.recipients))
        lines.append(f"Date: {self.reference.strftime('%a, %d %b %Y %H:%M %z')}")
        if self.subject:
            lines.append(f"Subject: {self.subject}")
        return "\n".join(lines)

    def text(self) -> str:
        """Headers plus body: the text evidence is checked against."""
        return f"{self.header_block()}\n\n{self.body}"

    def people(self) -> list[Person]:
        """The sender, then the recipients."""
        return ([self.sender] if self.sender else []) + self.recipients

    def provenance(self) -> dict[str, str | None]:
        key = "message_id" if self.kind == "message" else "document_id"
        return {key: self.item_id}


def _who(person: Person) -> str:
    return f"{person.name} <{person.email}>" if person.name else person.email


_LISTINGS = {
    "events": ("SELECT fact_id, title, starts_at, ends_at, all_day, location, status, coalesce(message_id, document_id)"
               " AS source, participants FROM events", "starts_at",
               "(list_contains(participants, lower($who)) OR title ILIKE '%' || $who || '%')"),
    "deadlines": ("SELECT fact_id, task, due_at, owner, coalesce(message_id, document_id) AS source FROM deadlines",
                  "due_at", "owner ILIKE '%' || $who || '%'"),
    "actions": ("SELECT fact_id, task, owner, due_at, status, coalesce(message_id, document_id) AS source"
                " FROM action_items", "due_at", "owner ILIKE '%' || $who || '%'"),
}


def list_facts(con: duckdb.DuckDBPyConnection, kind: str, *, since: datetime | None = None,
               until: datetime | None = None, who: str | None = None, limit: int = 200) -> list[dict]:
    """Facts of one kind (events | deadlines | actions) as dicts, by time, optionally filtered."""
    sql, time_col, who_sql = _LISTINGS[kind]
    params = {k: v for k, v in (("who", who), ("since", since), ("until", until)) if v}
    clauses = {"who": who_sql, "since": f"{time_col} >= $since", "until": f"{time_col} < $until"}
    where = " AND ".join(clauses[k] for k in params) or "true"
    cursor = con.execute(f"SELECT * FROM ({sql}) WHERE {where} ORDER BY {time_col} NULLS LAST, fact_id "
                         f"LIMIT {int(limit)}", params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def list_people(con: duckdb.DuckDBPyConnection, who: str | None = None, limit: int = 200) -> list[dict]:
    """People seen in headers, with how many messages each appears in and how often the text names them."""
    cursor = con.execute(
        "SELECT p.email, p.display_name AS name, count(DISTINCT mp.message_id) AS messages,"
        " (SELECT count(*) FROM entities e WHERE e.kind = 'person' AND e.name = p.display_name) AS mentions"
        " FROM people p LEFT JOIN message_people mp ON mp.email = p.email"
        " WHERE $1 = '' OR p.email ILIKE '%' || $1 || '%' OR p.display_name ILIKE '%' || $1 || '%'"
        f" GROUP BY ALL ORDER BY messages DESC, p.email LIMIT {int(limit)}", [who or ""],
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def fact_detail(con: duckdb.DuckDBPyConnection, fact_id: str, context_chars: int = 240) -> dict | None:
    """One fact with its source text around the evidence, and (events) its change history."""
    for fact_type in FACT_TYPES:
        cursor = con.execute(f"SELECT * FROM {fact_type.table} WHERE fact_id = ?", [fact_id])
        row = cursor.fetchone()
        if row is None:
            continue
        fact = dict(zip([d[0] for d in cursor.description], row))
        fact["type"] = fact_type.table
        source = con.execute(
            "SELECT subject, coalesce(body_clean, body_text) FROM messages WHERE message_id = ? UNION ALL "
            "SELECT title, text FROM documents WHERE document_id = ?", [fact.get("message_id"), fact.get("document_id")],
        ).fetchone()
        fact["context"] = _around(source[1] or "", fact["evidence"], context_chars) if source else None
        fact["source_subject"] = source[0] if source else None
        if fact_type is Event:
            fact["history"] = [dict(zip(("message_id", "change", "old_starts_at", "new_starts_at"), h)) for h in
                               con.execute("SELECT message_id, change, old_starts_at, new_starts_at FROM event_history"
                                           " WHERE fact_id = ? ORDER BY coalesce(new_starts_at, old_starts_at)",
                                           [fact_id]).fetchall()]
        return fact
    return None


def _around(text: str, evidence: str, width: int) -> str:
    """The source text around the evidence, with the evidence marked by >>> <<<."""
    at = normalize(text).find(normalize(evidence))
    flat = _SPACE.sub(" ", text.translate(_QUOTES)).strip()
    if at < 0:
        return flat[: 2 * width]
    end = at + len(normalize(evidence))
    return f"{flat[max(0, at - width):at]}>>>{flat[at:end]}<<<{flat[end:end + width]}"
