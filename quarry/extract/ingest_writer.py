"""The single writer of ingestion: decides what is new, assigns threads and people, inserts in batches.

Each batch (messages, their people, attachments, chunks, the sources rows of completed files and
quarantine rows) commits in one transaction, so a run killed at any moment leaves only whole batches;
the next run treats stored message ids and file sources as done.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import duckdb

from quarry.errors import ParseError
from quarry.extract.batchwrite import insert_rows
from quarry.extract.documents import ICS_EXTRACTOR, ICS_EXTRACTOR_VERSION, IcsEvent, ics_events
from quarry.extract.people import PeopleIndex
from quarry.extract.threads import ThreadIndex
from quarry.extract.workunits import DocumentRecord, FileSource, MailRecord, Quarantined

_MESSAGE_COLUMNS = (
    ("message_id", "TEXT"), ("thread_id", "TEXT"), ("source_id", "TEXT"), ("sent_at", "TIMESTAMPTZ"),
    ("sent_offset_min", "INTEGER"), ("date_raw", "TEXT"), ("sender", "TEXT"), ("sender_name", "TEXT"),
    ("subject", "TEXT"), ("in_reply_to", "TEXT"), ("refs", "TEXT[]"), ("body_text", "TEXT"),
    ("body_clean", "TEXT"), ("has_html", "BOOLEAN"), ("content_hash", "TEXT"),
)
_SOURCE_COLUMNS = (("source_id", "TEXT"), ("path", "TEXT"), ("kind", "TEXT"), ("content_hash", "TEXT"),
                   ("size_bytes", "BIGINT"))
_PEOPLE_COLUMNS = (("email", "TEXT"), ("display_name", "TEXT"), ("names", "TEXT[]"), ("aliases", "TEXT[]"))
_ROLE_COLUMNS = (("message_id", "TEXT"), ("email", "TEXT"), ("role", "TEXT"))
_ATTACHMENT_COLUMNS = (("attachment_id", "TEXT"), ("message_id", "TEXT"), ("filename", "TEXT"),
                       ("content_type", "TEXT"), ("size_bytes", "BIGINT"), ("text", "TEXT"))
_CHUNK_COLUMNS = (("chunk_id", "TEXT"), ("parent_kind", "TEXT"), ("parent_id", "TEXT"), ("seq", "INTEGER"),
                  ("text", "TEXT"))
_QUARANTINE_COLUMNS = (("quarantine_id", "TEXT"), ("source_path", "TEXT"), ("locator", "TEXT"),
                       ("reason", "TEXT"), ("raw", "BLOB"), ("raw_size", "BIGINT"))
_DOCUMENT_COLUMNS = (("document_id", "TEXT"), ("source_id", "TEXT"), ("path", "TEXT"), ("kind", "TEXT"),
                     ("title", "TEXT"), ("text", "TEXT"))
_EVENT_COLUMNS = (("fact_id", "TEXT"), ("title", "TEXT"), ("starts_at", "TIMESTAMPTZ"), ("ends_at", "TIMESTAMPTZ"),
                  ("all_day", "BOOLEAN"), ("location", "TEXT"), ("participants", "TEXT[]"), ("document_id", "TEXT"),
                  ("evidence", "TEXT"), ("extractor", "TEXT"), ("extractor_version", "TEXT"), ("timezone", "TEXT"),
                  ("message_id", "TEXT"), ("thread_id", "TEXT"))


def source_id(path: str) -> str:
    """sources.source_id: sha256 of the absolute path."""
    return hashlib.sha256(path.encode("utf-8", "surrogateescape")).hexdigest()


def quarantine_id(path: str, locator: str) -> str:
    return hashlib.sha256(f"{path}\x00{locator}".encode("utf-8", "surrogateescape")).hexdigest()


@dataclass
class Counts:
    """What this run added (or skipped)."""

    messages_new: int = 0
    messages_skipped: int = 0
    documents_new: int = 0
    documents_skipped: int = 0
    events_new: int = 0
    quarantined: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Batch:
    """Rows per table, keyed by primary key: one statement must not insert the same key twice."""

    rows: dict[str, dict[tuple, tuple]] = field(default_factory=dict)
    messages: int = 0

    def add(self, table: str, row: tuple) -> None:
        key = row if table == "message_people" else row[:1]
        self.rows.setdefault(table, {})[key] = row

    def get(self, table: str) -> list[tuple]:
        return list(self.rows.get(table, {}).values())


class IngestWriter:
    """Holds the run's view of the store (known ids, threads, people) and writes batches."""

    def __init__(self, con: duckdb.DuckDBPyConnection, batch_size: int = 500):
        self.con = con
        self.batch_size = batch_size
        self.counts = Counts()
        self.known_ids = {r[0] for r in con.execute("SELECT message_id FROM messages").fetchall()}
        self.known_docs = {r[0] for r in con.execute("SELECT document_id FROM documents").fetchall()}
        self.known_quarantine = {r[0] for r in con.execute("SELECT quarantine_id FROM quarantine").fetchall()}
        self.threads = ThreadIndex.from_rows(
            con.execute("SELECT message_id, thread_id, subject, in_reply_to, refs FROM messages").fetchall())
        self.people = PeopleIndex.from_rows(con.execute("SELECT email, display_name, names, aliases FROM people").fetchall())
        self._batch = _Batch()

    def add(self, source: FileSource | None, record: MailRecord | Quarantined | DocumentRecord,
            owner_source: str | None = None) -> None:
        """Queue one record (and the sources row of the file it completes); flushes full batches."""
        sid = source_id(source.path if source else owner_source or "")
        if isinstance(record, MailRecord):
            self._add_mail(record, sid)
        elif isinstance(record, Quarantined):
            self._add_quarantine(record)
        else:
            self._add_document(record, sid)
        if source is not None:
            self.add_source(source)
        if self._batch.messages >= self.batch_size:
            self.flush()

    def add_source(self, source: FileSource) -> None:
        self._batch.add("sources", (source_id(source.path), source.path, source.kind, source.content_hash,
                                    source.size_bytes))

    def _add_mail(self, record: MailRecord, sid: str) -> None:
        mail = record.mail
        if mail.message_id in self.known_ids:
            self.counts.messages_skipped += 1
            return
        self.known_ids.add(mail.message_id)
        self.counts.messages_new += 1
        self.counts.warnings.extend(mail.warnings)
        thread_id = self.threads.assign(mail.message_id, mail.in_reply_to, mail.refs, mail.subject)
        sender = next(((addr, name) for role, addr, name in mail.addresses if role == "from"), (None, None))
        roles = {(mail.message_id, self.people.resolve(addr, name), role) for role, addr, name in mail.addresses}
        sender_email = self.people.resolve(sender[0], sender[1]) if sender[0] else None
        batch = self._batch
        batch.messages += 1
        batch.add("messages", (mail.message_id, thread_id, sid, mail.sent_at, mail.sent_offset_min, mail.date_raw,
                               sender_email, sender[1] or None, mail.subject, mail.in_reply_to, mail.refs or None,
                               mail.body_text, record.body_clean, mail.has_html, mail.content_hash))
        for row in sorted(roles):
            batch.add("message_people", row)
        for index, att in enumerate(mail.attachments):
            batch.add("attachments", (f"{mail.message_id}#{index}", mail.message_id, att.filename, att.content_type,
                                      att.size_bytes, att.text))
            if att.content_type == "text/calendar" and att.text:
                self._add_invite(mail.message_id, thread_id, index, att.text)
        for seq, text in enumerate(record.chunks):
            batch.add("chunks", (f"{mail.message_id}:{seq}", "message", mail.message_id, seq, text))

    def _add_invite(self, message_id: str, thread_id: str, index: int, text: str) -> None:
        """An .ics invite attached to a message: its events, sourced to the message and its thread, so the
        email announcing the same event merges with them instead of adding a second row."""
        try:
            events = ics_events(f"{message_id}#{index}", text)
        except ParseError as exc:
            self.counts.warnings.append(f"{message_id}: attachment {index}: {exc}")
            return
        self._add_events(events, message_id=message_id, thread_id=thread_id)

    def _add_events(self, events: list[IcsEvent], *, document_id: str | None = None, message_id: str | None = None,
                    thread_id: str | None = None) -> None:
        """Queue ICS events as given (extractor 'ics'), sourced to a document or to a message and its thread."""
        for event in events:
            self.counts.events_new += 1
            self._batch.add("events", (event.fact_id, event.title, event.starts_at, event.ends_at, event.all_day,
                                       event.location, event.participants, document_id, event.evidence,
                                       ICS_EXTRACTOR, ICS_EXTRACTOR_VERSION, event.timezone, message_id, thread_id))

    def _add_quarantine(self, record: Quarantined) -> None:
        qid = quarantine_id(record.source_path, record.locator)
        if qid in self.known_quarantine:  # e.g. the truncated tail of an mbox, met again on every run
            return
        self.known_quarantine.add(qid)
        self.counts.quarantined += 1
        self._batch.add("quarantine", (qid, record.source_path, record.locator, record.reason, record.raw,
                                       record.raw_size))

    def _add_document(self, record: DocumentRecord, sid: str) -> None:
        doc = record.document
        if doc.document_id in self.known_docs:
            self.counts.documents_skipped += 1
            return
        self.known_docs.add(doc.document_id)
        self.counts.documents_new += 1
        self._batch.messages += 1
        self._batch.add("documents", (doc.document_id, sid, record.path, doc.kind, doc.title, doc.text))
        for seq, text in enumerate(record.chunks):
            self._batch.add("chunks", (f"{doc.document_id}:{seq}", "document", doc.document_id, seq, text))
        self._add_events(doc.events, document_id=doc.document_id)

    def flush(self) -> None:
        """Write the queued batch in one transaction."""
        batch = self._batch
        people = self.people.take_dirty()
        merges, self.threads.merges = self.threads.merges, []
        if not batch.rows and not people and not merges:
            return
        con = self.con
        con.execute("BEGIN")
        for old, new in merges:
            con.execute("UPDATE messages SET thread_id = ? WHERE thread_id = ?", [new, old])
            con.execute("UPDATE events SET thread_id = ? WHERE thread_id = ?", [new, old])
        insert_rows(con, "sources", _SOURCE_COLUMNS, batch.get("sources"), on_conflict="OR REPLACE")
        insert_rows(con, "people", _PEOPLE_COLUMNS,
                    [(p.email, p.display_name, p.names, p.aliases) for p in people], on_conflict="OR REPLACE")
        for table, columns in (("messages", _MESSAGE_COLUMNS), ("message_people", _ROLE_COLUMNS),
                               ("attachments", _ATTACHMENT_COLUMNS), ("chunks", _CHUNK_COLUMNS),
                               ("quarantine", _QUARANTINE_COLUMNS), ("documents", _DOCUMENT_COLUMNS),
                               ("events", _EVENT_COLUMNS)):
            insert_rows(con, table, columns, batch.get(table))
        con.execute("COMMIT")
        self._batch = _Batch()
