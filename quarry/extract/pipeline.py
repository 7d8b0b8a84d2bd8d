"""The ingest pipeline: discover inputs, skip what is already stored, parse in worker processes, write in batches.

Incremental by construction: files whose path and size are already in `sources` are not read again;
an mbox that only grew (its old bytes hash the same) is read from where the last run stopped; every
message whose id is stored is skipped. Parsing runs in a small process pool over units (groups of
files, mbox byte ranges); one writer, in this process, inserts in order with a bounded backlog.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.pool import Pool
from pathlib import Path

from pydantic import BaseModel

from quarry.extract.ingest_writer import IngestWriter
from quarry.extract.mailreaders import Inputs, discover, mbox_ranges
from quarry.extract.workunits import (
    DocumentUnit,
    FileSource,
    MailFilesUnit,
    MboxUnit,
    UnitResult,
    run_unit,
)
from quarry.store.db import connect

FILES_PER_UNIT = 200
MBOX_BYTES_PER_UNIT = 4 << 20
#: Below this much work a process pool costs more (start-up) than it saves.
_INLINE_FILES = 400
_INLINE_MBOX_BYTES = 2 * MBOX_BYTES_PER_UNIT

Unit = MailFilesUnit | MboxUnit | DocumentUnit
Progress = Callable[[int, int, int], None]  # (units done, units total, messages seen)


class IngestSummary(BaseModel):
    """What one `quarry ingest` run did, plus store totals afterwards."""

    sources_read: int
    sources_unchanged: int
    messages_new: int
    messages_skipped: int
    threads: int
    people: int
    documents_new: int
    documents_skipped: int
    events_new: int
    quarantined: int
    files_skipped: int
    warnings: list[str]
    seconds: float

    @property
    def messages_per_second(self) -> float:
        return (self.messages_new + self.messages_skipped) / self.seconds if self.seconds > 0 else 0.0


def _prefix_hash(path: Path, length: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        remaining = length
        while remaining > 0:
            block = handle.read(min(remaining, 1 << 20))
            if not block:
                break
            digest.update(block)
            remaining -= len(block)
    return digest.hexdigest()


class _Plan:
    """Units to run, and the per-mbox bookkeeping needed to write their sources rows."""

    def __init__(self) -> None:
        self.units: list[Unit] = []
        self.unchanged = 0
        self.mbox_units_left: dict[str, int] = {}
        self.mbox_end: dict[str, int] = {}

    def files_read(self) -> int:
        mail_files = sum(len(u.files) for u in self.units if isinstance(u, MailFilesUnit))
        return mail_files + len(self.mbox_units_left) + sum(isinstance(u, DocumentUnit) for u in self.units)


def _plan(inputs: Inputs, known: dict[str, tuple[int, str]]) -> _Plan:
    """Turn discovered inputs into units, leaving out files already ingested."""
    plan = _Plan()
    files = []
    for path, kind in inputs.mail_files:
        stored = known.get(str(path))
        if stored and stored[0] == path.stat().st_size:
            plan.unchanged += 1
        else:
            files.append((str(path), kind))
    for i in range(0, len(files), FILES_PER_UNIT):
        plan.units.append(MailFilesUnit(tuple(files[i:i + FILES_PER_UNIT])))
    for path in inputs.mboxes:
        start = _mbox_resume_offset(path, known.get(str(path)))
        if start is None:
            plan.unchanged += 1
            continue
        parts = max(1, (path.stat().st_size - start) // MBOX_BYTES_PER_UNIT)
        ranges = mbox_ranges(path, start, parts, min_bytes=MBOX_BYTES_PER_UNIT // 2)
        plan.mbox_units_left[str(path)] = len(ranges)
        plan.units.extend(MboxUnit(str(path), a, b) for a, b in ranges)
    for path, kind in inputs.documents:
        stored = known.get(str(path))
        if stored and stored[0] == path.stat().st_size:
            plan.unchanged += 1
        else:
            plan.units.append(DocumentUnit(str(path), kind))
    return plan


def _mbox_resume_offset(path: Path, stored: tuple[int, str] | None) -> int | None:
    """Where to start reading an mbox: 0, the end of the last run (file only grew), or None (unchanged)."""
    size = path.stat().st_size
    if stored is None or size < stored[0] or _prefix_hash(path, stored[0]) != stored[1]:
        return 0
    return None if size == stored[0] else stored[0]


def _needs_pool(units: list[Unit], workers: int) -> bool:
    work_files = sum(len(u.files) for u in units if isinstance(u, MailFilesUnit))
    work_bytes = sum(u.end - u.start for u in units if isinstance(u, MboxUnit))
    return workers > 1 and (work_files >= _INLINE_FILES or work_bytes >= _INLINE_MBOX_BYTES)


@contextmanager
def _worker_pool(units: list[Unit], workers: int) -> Iterator[Pool | None]:
    """A forked pool, or None when the work is too small to pay for one.

    Fork (not spawn): no re-import of the caller's __main__ and fast start. It must happen before
    the writer connection opens, so no DuckDB state of ours is copied into the workers.
    """
    if not _needs_pool(units, workers):
        yield None
        return
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield pool


def _results(units: list[Unit], pool: Pool | None, window: int) -> Iterator[tuple[Unit, UnitResult]]:
    """Run units in input order; at most `window` results wait for the writer (bounded memory)."""
    if pool is None:
        for unit in units:
            yield unit, run_unit(unit)
        return
    pending: deque = deque()
    for unit in units:
        pending.append((unit, pool.apply_async(run_unit, (unit,))))
        if len(pending) >= window:
            done_unit, handle = pending.popleft()
            yield done_unit, handle.get()
    while pending:
        done_unit, handle = pending.popleft()
        yield done_unit, handle.get()


def _record_mbox_progress(writer: IngestWriter, plan: _Plan, unit: MboxUnit, result: UnitResult) -> None:
    """After the last unit of an mbox, record how far it was read (complete messages only)."""
    if result.mbox_end is not None:
        plan.mbox_end[unit.path] = max(plan.mbox_end.get(unit.path, 0), result.mbox_end)
    plan.mbox_units_left[unit.path] -= 1
    if plan.mbox_units_left[unit.path] == 0:
        path = Path(unit.path)
        end = plan.mbox_end.get(unit.path, 0)
        writer.add_source(FileSource(unit.path, "mbox", end, _prefix_hash(path, end)))


def _write_all(writer: IngestWriter, plan: _Plan, results: Iterator[tuple[Unit, UnitResult]],
               progress: Progress | None) -> None:
    """Feed every unit's records to the writer in order, then flush the last batch."""
    seen = 0
    for done, (unit, result) in enumerate(results, start=1):
        owner = unit.path if isinstance(unit, MboxUnit) else None
        for source, record in result.records:
            writer.add(source, record, owner_source=owner)
        if isinstance(unit, MboxUnit):
            _record_mbox_progress(writer, plan, unit, result)
        seen += len(result.records)
        if progress:
            progress(done, len(plan.units), seen)
    writer.flush()


def ingest(paths: list[str | Path], db_path: str | Path, *, workers: int | None = None, batch_size: int = 500,
           progress: Progress | None = None) -> IngestSummary:
    """Ingest mail and documents under `paths` into the store at `db_path`."""
    started = time.perf_counter()
    inputs = discover(paths)
    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    con = connect(db_path)
    try:
        known = {row[0]: (row[1], row[2])
                 for row in con.execute("SELECT path, size_bytes, content_hash FROM sources").fetchall()}
    finally:
        con.close()
    plan = _plan(inputs, known)
    with _worker_pool(plan.units, workers) as pool:
        con = connect(db_path)
        # DuckDB draws a progress bar on stdout for slow statements; it would corrupt `--json` output.
        con.execute("SET enable_progress_bar = false")
        try:
            writer = IngestWriter(con, batch_size)
            _write_all(writer, plan, _results(plan.units, pool, workers * 3), progress)
            totals = con.execute("SELECT (SELECT count(DISTINCT thread_id) FROM messages), "
                                 "(SELECT count(*) FROM people)").fetchone()
        finally:
            con.close()
    counts = writer.counts
    return IngestSummary(
        sources_read=plan.files_read(),
        sources_unchanged=plan.unchanged, messages_new=counts.messages_new, messages_skipped=counts.messages_skipped,
        threads=totals[0], people=totals[1], documents_new=counts.documents_new,
        documents_skipped=counts.documents_skipped, events_new=counts.events_new, quarantined=counts.quarantined,
        files_skipped=inputs.skipped, warnings=counts.warnings, seconds=time.perf_counter() - started,
    )

