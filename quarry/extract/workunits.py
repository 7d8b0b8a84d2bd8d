"""The parsing half of ingestion, run in worker processes: a unit of work in, picklable records out.

A unit is a group of mail files, a byte range of an mbox, or one document. Workers never touch the
store; the single writer in pipeline.py decides what is new and inserts it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from quarry.errors import ParseError
from quarry.extract.chunks import chunk_text
from quarry.extract.clean import body_clean
from quarry.extract.documents import Document, read_document
from quarry.extract.mailreaders import RawMessage, iter_mbox, read_mail_file
from quarry.extract.mime import ParsedMail, parse_mail

QUARANTINE_RAW_BYTES = 1 << 20


@dataclass(slots=True)
class FileSource:
    """A file to record in `sources` once its content is stored."""

    path: str
    kind: str
    size_bytes: int
    content_hash: str


@dataclass(slots=True)
class MailRecord:
    mail: ParsedMail
    body_clean: str
    chunks: list[str]


@dataclass(slots=True)
class Quarantined:
    source_path: str
    locator: str
    reason: str
    raw: bytes
    raw_size: int


@dataclass(slots=True)
class DocumentRecord:
    path: str
    document: Document
    chunks: list[str]


@dataclass
class UnitResult:
    """Records of one unit, in input order; `source` is set when the unit completes a file."""

    records: list[tuple[FileSource | None, MailRecord | Quarantined | DocumentRecord]] = field(default_factory=list)
    mbox_end: int | None = None  # end of the last complete message, for mbox units


@dataclass(frozen=True)
class MailFilesUnit:
    files: tuple[tuple[str, str], ...]  # (path, 'eml' | 'maildir')


@dataclass(frozen=True)
class MboxUnit:
    path: str
    start: int
    end: int


@dataclass(frozen=True)
class DocumentUnit:
    path: str
    kind: str


def _mail_record(raw: RawMessage) -> MailRecord | Quarantined:
    """Parse one raw message, or say why it goes to quarantine."""
    if raw.truncated:
        return _quarantine(raw.source_path, raw.locator, "truncated: the mbox ends in the middle of this message",
                           raw.data)
    try:
        mail = parse_mail(raw.data, raw.source_path, raw.locator)
    except ParseError as exc:
        return _quarantine(raw.source_path, raw.locator, str(exc), raw.data)
    except Exception as exc:  # any other parser failure on hostile input: quarantine it, keep the run going
        return _quarantine(raw.source_path, raw.locator, f"parser error: {type(exc).__name__}: {exc}", raw.data)
    clean = body_clean(mail.body_text)
    header = mail.subject or ""
    return MailRecord(mail, clean, chunk_text(f"{header}\n\n{clean}" if header else clean))


def _quarantine(path: str, locator: str, reason: str, data: bytes) -> Quarantined:
    return Quarantined(path, locator, reason, data[:QUARANTINE_RAW_BYTES], len(data))


def _mail_files(unit: MailFilesUnit) -> UnitResult:
    result = UnitResult()
    for path, kind in unit.files:
        try:
            raw = read_mail_file(Path(path))
        except OSError as exc:
            result.records.append((None, _quarantine(path, path, f"unreadable file: {exc.strerror}", b"")))
            continue
        source = FileSource(path, kind, len(raw.data), hashlib.sha256(raw.data).hexdigest())
        result.records.append((source, _mail_record(raw)))
    return result


def _mbox(unit: MboxUnit) -> UnitResult:
    result = UnitResult(mbox_end=unit.start)
    for _, end, raw in iter_mbox(Path(unit.path), unit.start, unit.end):
        result.records.append((None, _mail_record(raw)))
        if not raw.truncated:
            result.mbox_end = end
    return result


def _document(unit: DocumentUnit) -> UnitResult:
    path = Path(unit.path)
    data = path.read_bytes()
    source = FileSource(unit.path, unit.kind, len(data), hashlib.sha256(data).hexdigest())
    try:
        document = read_document(path, unit.kind)
    except ParseError as exc:
        return UnitResult([(source, _quarantine(unit.path, unit.path, str(exc), data))])
    return UnitResult([(source, DocumentRecord(unit.path, document, chunk_text(document.text)))])


def run_unit(unit: MailFilesUnit | MboxUnit | DocumentUnit) -> UnitResult:
    """Entry point for worker processes."""
    if isinstance(unit, MailFilesUnit):
        return _mail_files(unit)
    if isinstance(unit, MboxUnit):
        return _mbox(unit)
    return _document(unit)
