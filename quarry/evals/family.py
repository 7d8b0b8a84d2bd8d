"""Extraction scored over the corpus family: every mailbox of a split ingested into its own scratch store,
extracted, scored against its gold facts, and summed per split (micro-averaged), train beside eval.

A large gap between the two columns means the extractor learned the train mailboxes, not mail.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from pydantic import BaseModel

from quarry.evals.corpora import Mailbox, Split, mailboxes
from quarry.evals.fact_scoring import TypeScore, evaluate_connection
from quarry.evals.gold import corpus_inputs
from quarry.extract.extraction import Extractor, extract_pending, load_pending
from quarry.extract.facts import SourceText
from quarry.extract.pipeline import IngestSummary, ingest
from quarry.store.db import connect


class MailboxScore(BaseModel):
    """One mailbox's extraction against its own gold facts."""

    name: str
    split: Split
    messages: int
    seconds: float
    types: dict[str, TypeScore]


class FamilyReport(BaseModel):
    """Per mailbox and per split (sums over the split's mailboxes) for one extractor."""

    extractor: str
    model: str | None
    mailboxes: list[MailboxScore]
    splits: dict[str, dict[str, TypeScore]]


def _fresh_store(box: Mailbox, workdir: Path) -> tuple[Path, IngestSummary]:
    """The mailbox ingested (no extraction) into a new store under `workdir`."""
    db = workdir / f"{box.split}-{box.name}.duckdb"
    return db, ingest(corpus_inputs(box.root), db, workers=1)


def score_mailbox(box: Mailbox, extractor: str | Extractor, model: str | None, workdir: Path) -> MailboxScore:
    """Ingest one mailbox into a fresh store under `workdir`, extract, and score."""
    db, summary = _fresh_store(box, workdir)
    con = connect(db)
    try:
        extraction = extract_pending(con, extractor, model)
        report = evaluate_connection(con, box.gold_facts, extractor=extraction.extractor, model=extraction.model)
    finally:
        con.close()
    return MailboxScore(name=box.name, split=box.split, messages=summary.messages_new,
                        seconds=round(summary.seconds + extraction.seconds, 2), types=report.types)


def mailbox_sources(box: Mailbox, workdir: Path) -> list[SourceText]:
    """The mailbox's messages as extractors see them, from a fresh store under `workdir` (for training on them)."""
    db, _ = _fresh_store(box, workdir)
    con = connect(db)
    try:
        return [s for s in load_pending(con, "rules", "") if s.kind == "message"]
    finally:
        con.close()


def summed(scores: list[TypeScore]) -> TypeScore:
    """Micro-average: counts added up, then precision, recall, F1 and status accuracy from the sums."""
    fields = ("gold", "predicted", "matched", "status_labelled", "status_right")
    return TypeScore.from_counts(*(sum(getattr(s, f) for s in scores) for f in fields),
                                 why_missed=_added(s.why_missed for s in scores),
                                 why_spurious=_added(s.why_spurious for s in scores))


def _added(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for c in counts:
        total.update(c)
    return dict(sorted(total.items()))


def score_family(split: Split | None, extractor: str = "rules", model: str | None = None,
                 on_mailbox: Callable[[MailboxScore], None] | None = None) -> FamilyReport:
    """Score `extractor` on every mailbox of `split` (None: both), each in its own scratch store."""
    scores: list[MailboxScore] = []
    with tempfile.TemporaryDirectory(prefix="quarry-family-") as tmp:
        for box in mailboxes(split):
            scores.append(score_mailbox(box, extractor, model, Path(tmp)))
            if on_mailbox:
                on_mailbox(scores[-1])
    splits: dict[str, dict[str, TypeScore]] = {}
    for part in ("train", "eval"):
        members = [s for s in scores if s.split == part]
        if members:
            kinds = members[0].types.keys()
            splits[part] = {kind: summed([m.types[kind] for m in members]) for kind in kinds}
    return FamilyReport(extractor=extractor, model=model, mailboxes=scores, splits=splits)
