"""The extraction stage: turn stored messages and documents into facts, incrementally.

`extract_pending` reads every message/document the chosen extractor has not processed at its
current content hash (extraction_log), in send order, runs the extractor, drops facts whose evidence
does not occur in the source, and writes the rest. Model results are cached by (content hash,
extractor, model, prompt version) in extraction_cache, so re-extraction never asks a model twice.
Events are merged per thread (extract.event_merge): a reply repeating an event adds nothing, and a
message that moves or cancels an event updates it and appends to event_history. ICS documents are skipped: ingestion
already stored their events as given (extractor 'ics').
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Literal, Protocol

import duckdb
from pydantic import BaseModel, Field

from quarry.config import load_settings
from quarry.errors import ModelError
from quarry.extract.batchwrite import insert_rows
from quarry.extract.dates import reference_time
from quarry.extract.deadline_merge import DeadlineMerger
from quarry.extract.event_merge import EventMerger
from quarry.extract.facts import (
    FACT_TYPES,
    Deadline,
    Event,
    Fact,
    Person,
    SourceText,
    evidence_occurs,
    insert_facts,
)
from quarry.extract.rules import RulesExtractor, has_cues

ExtractorName = Literal["rules", "dateparser", "encoder", "llm", "auto"]
Progress = Callable[[int, int], None]
_BATCH = 100


class Extractor(Protocol):
    """What the stage needs from an extractor."""

    name: str
    model: str | None
    version: str

    def extract_many(self, sources: list[SourceText]): ...


class ExtractionSummary(BaseModel):
    """What one run did; `model_calls` counts chat requests actually sent."""

    extractor: str
    model: str | None = None
    items: int = 0
    extracted: int = 0
    skipped_prefilter: int = 0
    cache_hits: int = 0
    dropped: int = 0
    model_calls: int = 0
    facts: dict[str, int] = Field(default_factory=dict)
    rejected_evidence: int = 0
    merged_events: int = 0  # events folded into a stored one (repeat, move, cancel) or unmatched cues dropped
    errors: list[str] = Field(default_factory=list)
    seconds: float = 0.0


_MESSAGES_SQL = """
SELECT m.message_id, m.thread_id, m.subject, m.sender, m.sender_name, coalesce(m.body_clean, m.body_text, ''),
       coalesce(m.sent_at, m.ingested_at), m.sent_offset_min, m.content_hash,
       (SELECT list({'email': mp.email, 'name': p.display_name} ORDER BY mp.role DESC, mp.email)
          FROM message_people mp LEFT JOIN people p ON p.email = mp.email
         WHERE mp.message_id = m.message_id AND mp.role IN ('to', 'cc'))
FROM messages m
WHERE NOT EXISTS (SELECT 1 FROM extraction_log l WHERE l.item_id = m.message_id AND l.extractor = ?
                  AND l.model = ? AND l.content_hash = m.content_hash)
ORDER BY coalesce(m.sent_at, m.ingested_at), m.message_id
"""
_DOCUMENTS_SQL = """
SELECT d.document_id, coalesce(d.title, d.path), coalesce(d.text, ''), d.ingested_at
FROM documents d
WHERE d.kind <> 'ics' AND NOT EXISTS (SELECT 1 FROM extraction_log l WHERE l.item_id = d.document_id
                  AND l.extractor = ? AND l.model = ? AND l.content_hash = d.document_id)
ORDER BY d.ingested_at, d.document_id
"""


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def load_pending(con: duckdb.DuckDBPyConnection, extractor: str, model: str, tz: str | None = None) -> list[SourceText]:
    """Messages (in send order) then documents that `extractor`/`model` has not processed at their current hash."""
    sources = []
    for mid, thread, subject, sender, sender_name, body, sent, offset, chash, recips in con.execute(
        _MESSAGES_SQL, [extractor, model]
    ).fetchall():
        sources.append(SourceText(
            item_id=mid, thread_id=thread, subject=subject or "", body=body, content_hash=chash,
            sender=Person(email=sender, name=sender_name) if sender else None,
            recipients=[Person(email=r["email"], name=r["name"]) for r in recips or []],
            reference=reference_time(_utc(sent), offset, tz),
        ))
    for doc_id, title, text, ingested in con.execute(_DOCUMENTS_SQL, [extractor, model]).fetchall():
        sources.append(SourceText(item_id=doc_id, kind="document", subject=title, body=text, content_hash=doc_id,
                                  reference=reference_time(_utc(ingested), 0, tz)))
    return sources


def _checked(src: SourceText, facts: list[Fact], summary: ExtractionSummary) -> list[Fact]:
    """Drop facts whose evidence does not occur in the source text."""
    text = src.text()
    kept = [f for f in facts if evidence_occurs(f.evidence, text)]
    summary.rejected_evidence += len(facts) - len(kept)
    return kept


def _clear_items(con: duckdb.DuckDBPyConnection, ids: list[str], extractor: str, model: str) -> None:
    """Forget earlier facts of these items from this extractor (their content changed or they are re-extracted)."""
    for fact_type in FACT_TYPES:
        con.execute(
            f"DELETE FROM {fact_type.table} WHERE extractor = ? AND coalesce(model, '') = ? AND "
            "coalesce(message_id, document_id) IN (SELECT unnest(?::TEXT[]))", [extractor, model, ids],
        )


_LOG_COLUMNS = [("item_id", "TEXT"), ("extractor", "TEXT"), ("model", "TEXT"), ("content_hash", "TEXT"),
                ("n_facts", "INTEGER"), ("outcome", "TEXT"), ("error", "TEXT")]
_CACHE_COLUMNS = [("content_hash", "TEXT"), ("extractor", "TEXT"), ("model", "TEXT"), ("prompt_version", "TEXT"),
                  ("result", "JSON")]


class FactWriter:
    """One run's writes, buffered and written in one statement per table on `flush`; events go through
    the thread merge (extract.event_merge)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, summary: ExtractionSummary):
        self.con = con
        self.summary = summary
        self.events = EventMerger(con)
        self.deadlines = DeadlineMerger(con)
        self.facts: list[Fact] = []
        self.logs: list[list] = []
        self.cached: list[list] = []

    def write(self, src: SourceText, facts: list[Fact]) -> int:
        """Check evidence and write one item's facts; returns how many became (or will become) rows."""
        written = 0
        for fact in _checked(src, facts, self.summary):
            if isinstance(fact, Event) and not self.events.merge(fact, src.reference.tzinfo or timezone.utc):
                self.summary.merged_events += 1
                continue
            if isinstance(fact, Deadline):
                fact = self.deadlines.merge(fact, src.subject, src.thread_id)
                if fact is None:
                    continue
            if not isinstance(fact, Event):
                self.facts.append(fact)
            self.summary.facts[fact.table] = self.summary.facts.get(fact.table, 0) + 1
            written += 1
        return written

    def log(self, src: SourceText, ex: "Extractor", n: int, outcome: str, error: str | None = None) -> None:
        self.logs.append([src.item_id, ex.name, ex.model or "", src.content_hash, n, outcome, error])

    def cache(self, src: SourceText, ex: "Extractor", facts: list[Fact]) -> None:
        """Keep an item's facts without its ids: another message with the same content reuses them."""
        items = [{"table": f.table, **f.model_dump(mode="json", exclude={"fact_id", "message_id", "document_id",
                                                                           "thread_id"})} for f in facts]
        self.cached.append([src.content_hash, ex.name, ex.model or "", ex.version, json.dumps(items)])

    def flush(self) -> None:
        self.events.flush()
        insert_facts(self.con, self.facts)
        self.deadlines.flushed()
        insert_rows(self.con, "extraction_log", _LOG_COLUMNS, self.logs, on_conflict="OR REPLACE")
        insert_rows(self.con, "extraction_cache", _CACHE_COLUMNS, self.cached, on_conflict="OR REPLACE")
        self.facts, self.logs, self.cached = [], [], []


def _cached(con, ex: "Extractor", sources: list[SourceText]) -> dict[str, list[dict]]:
    """Cached fact lists by content hash, for the items about to be extracted."""
    rows = con.execute(
        "SELECT content_hash, result FROM extraction_cache WHERE extractor = ? AND model = ? AND prompt_version = ? "
        "AND content_hash IN (SELECT unnest(?::TEXT[]))",
        [ex.name, ex.model or "", ex.version, [s.content_hash for s in sources]],
    ).fetchall()
    return {chash: json.loads(result) for chash, result in rows}


def _from_cache(items: list[dict], src: SourceText) -> list[Fact]:
    by_table = {t.table: t for t in FACT_TYPES}
    ids = {**src.provenance(), "thread_id": src.thread_id}
    facts = []
    for item in items:
        fact_type = by_table[item["table"]]
        fields = {k: v for k, v in item.items() if k != "table"}
        facts.append(fact_type.model_validate({**fields, **{k: v for k, v in ids.items() if k in fact_type.model_fields}}))
    return facts


def choose_extractor(extractor: ExtractorName, model: str | None, summary_errors: list[str]) -> Extractor:
    """The extractor object for a name; 'auto' is the LLM with the configured model if it opens, else rules."""
    if extractor == "rules":
        return RulesExtractor()
    if extractor == "dateparser":
        from quarry.extract.temporal import TemporalRulesExtractor

        return TemporalRulesExtractor()
    if extractor == "encoder":
        from quarry.extract.fact_filter import EncoderExtractor

        return EncoderExtractor()
    from quarry.extract.llm_extractor import LLMExtractor

    spec = model or load_settings().extractor_model
    if extractor == "llm":
        if not spec:
            raise ModelError("--extractor llm needs --model SPEC (or extractor_model in config.toml)")
        return LLMExtractor.from_spec(spec)
    if not spec:
        return RulesExtractor()
    try:
        return LLMExtractor.from_spec(spec)
    except ModelError as exc:
        summary_errors.append(f"auto: {spec} unavailable, used rules ({exc})")
        return RulesExtractor()


def extract_pending(
    con: duckdb.DuckDBPyConnection,
    extractor: ExtractorName | Extractor = "rules",
    model: str | None = None,
    progress: Progress | None = None,
    *,
    chat_model=None,
    tz: str | None = None,
    limit: int | None = None,
) -> ExtractionSummary:
    """Extract facts from every message/document not yet processed by this extractor; self-contained.

    `extractor` is a name or a ready extractor object; `chat_model` (a ready ChatModel) skips opening `model` by
    spec; `tz` forces the senders' time zone;
    `limit` stops after that many items (the rest stay pending).
    Runs its own transactions (one per batch of items): call it outside any open transaction.
    """
    started = time.perf_counter()
    errors: list[str] = []
    if chat_model is not None:
        from quarry.extract.llm_extractor import LLMExtractor

        ex: Extractor = LLMExtractor.from_spec(model or chat_model.model_id, chat_model)
    elif not isinstance(extractor, str):
        ex = extractor
    else:
        ex = choose_extractor(extractor, model, errors)
    summary = ExtractionSummary(extractor=ex.name, model=ex.model, errors=errors)
    sources = load_pending(con, ex.name, ex.model or "", tz)[:limit]
    summary.items = len(sources)
    writer = FactWriter(con, summary)
    try:
        con.execute("BEGIN")
        _clear_items(con, [s.item_id for s in sources], ex.name, ex.model or "")
        todo = _apply_cached(writer, ex, sources)
        done = summary.items - len(todo)
        for src, facts, error in ex.extract_many(todo):
            _store(writer, ex, src, facts, error)
            done += 1
            if progress:
                progress(done, summary.items)
            if done % _BATCH == 0:
                writer.flush()
                con.execute("COMMIT")
                con.execute("BEGIN")
        writer.flush()
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    summary.model_calls = getattr(ex, "calls", 0)
    summary.seconds = time.perf_counter() - started
    return summary


def _apply_cached(writer: FactWriter, ex: Extractor, sources: list[SourceText]) -> list[SourceText]:
    """Serve cache hits and prefilter skips (model extractors only); return the items still to extract."""
    if ex.model is None:
        return sources
    cached = _cached(writer.con, ex, sources)
    todo = []
    for src in sources:
        if src.content_hash in cached:
            writer.log(src, ex, writer.write(src, _from_cache(cached[src.content_hash], src)), "cached")
            writer.summary.cache_hits += 1
        elif not has_cues(src):
            writer.log(src, ex, 0, "skipped")
            writer.summary.skipped_prefilter += 1
        else:
            todo.append(src)
    return todo


def _store(writer: FactWriter, ex: Extractor, src: SourceText, facts: list[Fact] | None, error: str | None) -> None:
    """Write one extracted item (or log why it was dropped); the run goes on either way."""
    if facts is None:
        writer.summary.dropped += 1
        writer.summary.errors.append(f"{src.item_id}: {error}")
        writer.log(src, ex, 0, "dropped", error)
        return
    if ex.model is not None:
        writer.cache(src, ex, facts)
    writer.summary.extracted += 1
    writer.log(src, ex, writer.write(src, facts), "extracted")


def redo(con: duckdb.DuckDBPyConnection, extractor: str, model: str | None = None) -> None:
    """Forget what an extractor produced (facts and log, not the cache) so the next run re-extracts everything."""
    con.execute("BEGIN")
    for fact_type in FACT_TYPES:
        con.execute(f"DELETE FROM {fact_type.table} WHERE extractor = ? AND coalesce(model, '') = ?",
                    [extractor, model or ""])
    con.execute("DELETE FROM extraction_log WHERE extractor = ? AND model = ?", [extractor, model or ""])
    con.execute("DELETE FROM event_history WHERE fact_id NOT IN (SELECT fact_id FROM events)")
    con.execute("COMMIT")
