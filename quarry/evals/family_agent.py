"""The agent scored over the corpus family: every mailbox of a split asked its own gold questions twice,
over the facts the rules extractor stores (what a user gets) and over the mailbox's gold facts (which
separates extraction errors from agent errors), summed per split and facts column.

"Own words" counts right answers that are the model's own, not the rows grounding showed in their place:
the strict figure (the plain `correct` accepts rows that hold the value).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from quarry.agent.prompts import Profile
from quarry.evals.corpora import Split, mailboxes
from quarry.evals.evaluation import ModelOpener, eval_context, held_out_questions, run_structured
from quarry.evals.gold import build_gold_store, corpus_inputs
from quarry.evals.report import ModelSummary, QuestionOutcome, summarize
from quarry.llm.specs import open_model

Facts = Literal["extracted", "gold"]
FACTS: tuple[Facts, ...] = ("extracted", "gold")


class ColumnScore(BaseModel):
    """One model over one facts column (of a mailbox, or summed over a split)."""

    summary: ModelSummary
    correct: int
    own_words: int


class FamilyAgentReport(BaseModel):
    split: Split
    limit: int | None
    #: mailbox -> facts column -> model spec -> score
    mailboxes: dict[str, dict[str, dict[str, ColumnScore]]]
    #: facts column -> model spec -> score over every mailbox of the split
    totals: dict[str, dict[str, ColumnScore]]


def column_score(outcomes: list[QuestionOutcome]) -> ColumnScore:
    return ColumnScore(summary=summarize(outcomes), correct=sum(o.correct for o in outcomes),
                       own_words=sum(o.correct and o.fallback is None for o in outcomes))


def extracted_store(corpus: Path, path: Path) -> Path:
    """A corpus as a user would have it: mail and documents ingested, its calendar imported, then the rules
    extractor run, calendar entries linked to the events found and the search index built (what `quarry
    ingest` and `quarry calendar import` do)."""
    from quarry.extract.pipeline import ingest
    from quarry.extract.post_ingest import extract_and_index
    from quarry.store.calendar import import_ics
    from quarry.store.db import connect

    ingest(corpus_inputs(corpus), path, workers=1)
    calendar = corpus / "my_calendar.ics"
    if calendar.is_file():
        con = connect(path)
        try:
            import_ics(con, calendar)
        finally:
            con.close()
    extract_and_index(path)
    return path


#: How each facts column's store is built from a mailbox's folder.
_BUILDERS: dict[Facts, Callable[[Path, Path], Path]] = {"extracted": extracted_store, "gold": build_gold_store}


def evaluate_family_agent(specs: list[str], split: Split = "eval", *, limit: int | None = None,
                          profile: Profile | None = None, opener: ModelOpener = open_model,
                          on_done: Callable[[str, str, QuestionOutcome], None] | None = None,
                          columns: tuple[Facts, ...] = FACTS) -> FamilyAgentReport:
    """Each model on the first `limit` gold questions of every mailbox of `split`, over the facts `columns`."""
    per_box: dict[str, dict[str, dict[str, ColumnScore]]] = {}
    pooled: dict[tuple[str, str], list[QuestionOutcome]] = {}
    with tempfile.TemporaryDirectory(prefix="quarry-family-agent-") as tmp:
        for box in mailboxes(split):
            stores = {facts: _BUILDERS[facts](box.root, Path(tmp) / f"{box.name}-{facts}.duckdb") for facts in columns}
            per_box[box.name] = {}
            for facts in columns:
                questions, _ = held_out_questions(box.gold_questions, stores[facts], limit)
                per_box[box.name][facts] = {}
                for spec in specs:
                    with eval_context(stores[facts]) as ctx:
                        done = (lambda o, b=box.name, f=facts: on_done(b, f, o)) if on_done else None
                        outcomes = run_structured(spec, opener(spec), questions, ctx, profile, on_done=done)
                    per_box[box.name][facts][spec] = column_score(outcomes)
                    pooled.setdefault((facts, spec), []).extend(outcomes)
    totals = {facts: {spec: column_score(pooled[(facts, spec)]) for spec in specs if (facts, spec) in pooled}
              for facts in columns}
    return FamilyAgentReport(split=split, limit=limit, mailboxes=per_box, totals=totals)
