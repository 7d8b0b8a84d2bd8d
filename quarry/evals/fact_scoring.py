"""Score stored facts against gold facts: precision, recall and F1 per fact type, plus a JSON report.

Match rules (one-to-one, greedy by best text likeness):
- same source: the gold message id is the fact's message, or (events) the message that last moved or
  cancelled it, or any message in its event_history; ids compare without angle brackets;
- time within a tolerance when both sides have one (default 60 minutes; a whole day when either side
  is all-day, compared on the UTC instant of local midnight, so +-24 h);
- text: title/task/name likeness (rapidfuzz token-set ratio) at least `min_similarity` (default 0.5);
  entities also need the same kind. Event status is reported (status accuracy over matched events)
  but does not decide a match.

Every unmatched fact also gets a reason (`why_missed`, `why_spurious`), counted per type, so a split's figures
say where its errors come from (nothing from the message, the time, the title, a duplicate) without anyone
reading its mail.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
from pydantic import BaseModel, Field

from quarry.evals.gold import GoldFacts, read_gold_facts
from quarry.extract.facts import similarity
from quarry.store.db import connect

FACT_KINDS = ("events", "deadlines", "action_items", "entities")


class Item(BaseModel):
    """One fact reduced to what matching looks at (gold or predicted)."""

    kind: str
    sources: set[str]
    text: str
    at: datetime | None = None
    all_day: bool = False
    label: str | None = None  # entity kind / event status
    ref: str = ""  # fact_id or gold index, for the report


class TypeScore(BaseModel):
    gold: int = 0
    predicted: int = 0
    matched: int = 0
    precision: float = 0.0
    recall: float = 0.0
    f1: float = 0.0
    #: Matched events whose gold status is known, and how many of them have the right status.
    status_labelled: int = 0
    status_right: int = 0
    status_accuracy: float | None = None
    #: Unmatched facts counted by reason (see `_unmatched_reason`).
    why_missed: dict[str, int] = Field(default_factory=dict)
    why_spurious: dict[str, int] = Field(default_factory=dict)
    missed: list[dict] = Field(default_factory=list)
    spurious: list[dict] = Field(default_factory=list)

    @classmethod
    def from_counts(cls, gold: int, predicted: int, matched: int, labelled: int = 0, right: int = 0,
                    **lists: object) -> TypeScore:
        """Precision, recall, F1 and status accuracy from the counts (one store's, or a split's sums)."""
        precision = matched / predicted if predicted else 0.0
        recall = matched / gold if gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return cls(gold=gold, predicted=predicted, matched=matched, precision=round(precision, 3),
                   recall=round(recall, 3), f1=round(f1, 3), status_labelled=labelled, status_right=right,
                   status_accuracy=round(right / labelled, 3) if labelled else None, **lists)


class ScoreReport(BaseModel):
    extractor: str | None
    model: str | None
    #: Messages scored: with --extractor, only those it processed (so a sample run is scored on its sample).
    messages_scored: int | None = None
    tolerance_minutes: int
    min_similarity: float
    types: dict[str, TypeScore]


def bare_id(message_id: str | None) -> str:
    return (message_id or "").strip().strip("<>").strip()


def _time_ok(gold: Item, pred: Item, tolerance: timedelta) -> bool:
    """Events and deadlines with a gold time need a predicted time within tolerance; others ignore time."""
    if gold.kind not in ("events", "deadlines") or gold.at is None:
        return True
    if pred.at is None:
        return False
    limit = timedelta(hours=24) if (gold.all_day or pred.all_day) else tolerance
    return abs(gold.at - pred.at) <= limit


def match_likeness(gold: Item, pred: Item, tolerance: timedelta, min_similarity: float) -> float | None:
    """The likeness score if `pred` may match `gold` under the rules above, else None."""
    if not gold.sources & pred.sources or not _time_ok(gold, pred, tolerance):
        return None
    if gold.kind == "entities" and gold.label != pred.label:
        return None
    score = similarity(gold.text, pred.text)
    return score if score >= min_similarity else None


def _unmatched_reason(item: Item, others: list[Item], others_used: set[int], tolerance: timedelta,
                      min_similarity: float, gold_side: bool) -> str:
    """Why `item` (gold if `gold_side`, else predicted) found no partner among `others`, the nearest cause first."""
    same_source = [(i, o) for i, o in enumerate(others) if item.sources & o.sources]
    if not same_source:
        return "no fact from its message" if gold_side else "message has no gold fact"
    pairs = [((item, o) if gold_side else (o, item), i) for i, o in same_source]
    if any(match_likeness(g, p, tolerance, min_similarity) is not None for (g, p), i in pairs if i in others_used):
        return "its fact matched another gold" if gold_side else "duplicate of a matched fact"
    time_ok = [_time_ok(g, p, tolerance) for (g, p), _ in pairs]
    alike = [similarity(g.text, p.text) >= min_similarity for (g, p), _ in pairs]
    if any(a and not t for a, t in zip(alike, time_ok, strict=True)):
        return "title right, time wrong"
    if any(t for t in time_ok):
        return "time right, title unlike"
    return "time and title both off"


def _counts(reasons: list[str]) -> dict[str, int]:
    return dict(sorted(Counter(reasons).items()))


def score_type(gold: list[Item], pred: list[Item], tolerance: timedelta, min_similarity: float,
               keep: int = 20) -> TypeScore:
    """Greedy one-to-one matching, best likeness first; lists the first `keep` misses each way."""
    candidates = sorted(
        ((s, gi, pi) for gi, g in enumerate(gold) for pi, p in enumerate(pred)
         if (s := match_likeness(g, p, tolerance, min_similarity)) is not None),
        key=lambda c: -c[0],
    )
    used_g, used_p, pairs = set(), set(), []
    for _, gi, pi in candidates:
        if gi not in used_g and pi not in used_p:
            used_g.add(gi)
            used_p.add(pi)
            pairs.append((gold[gi], pred[pi]))
    labelled = [(g, p) for g, p in pairs if g.kind == "events" and g.label]
    why_missed = [_unmatched_reason(g, pred, used_p, tolerance, min_similarity, True)
                  for i, g in enumerate(gold) if i not in used_g]
    why_spurious = [_unmatched_reason(p, gold, used_g, tolerance, min_similarity, False)
                    for i, p in enumerate(pred) if i not in used_p]
    return TypeScore.from_counts(
        len(gold), len(pred), len(pairs), len(labelled), sum(g.label == p.label for g, p in labelled),
        why_missed=_counts(why_missed), why_spurious=_counts(why_spurious),
        missed=[_brief(g) for i, g in enumerate(gold) if i not in used_g][:keep],
        spurious=[_brief(p) for i, p in enumerate(pred) if i not in used_p][:keep],
    )


def _brief(item: Item) -> dict:
    return {"ref": item.ref, "sources": sorted(item.sources), "text": item.text,
            "at": item.at.isoformat() if item.at else None}


_PRED_SQL = {
    "events": """SELECT e.fact_id, e.title, e.starts_at, e.all_day, e.status,
                        list_distinct(list_concat([e.message_id, e.document_id, e.updated_by],
                          coalesce((SELECT list(h.message_id) FROM event_history h WHERE h.fact_id = e.fact_id), [])))
                 FROM events e WHERE {where}""",
    "deadlines": "SELECT fact_id, task, due_at, false, NULL, [message_id, document_id] FROM deadlines WHERE {where}",
    "action_items": "SELECT fact_id, task, due_at, false, NULL, [message_id, document_id] FROM action_items WHERE {where}",
    "entities": "SELECT fact_id, name, NULL, false, kind, [message_id, document_id] FROM entities WHERE {where}",
}


def predicted(con: duckdb.DuckDBPyConnection, extractor: str | None, model: str | None) -> dict[str, list[Item]]:
    """Stored message facts per kind, from one extractor (plus the events of invites attached to messages) or all."""
    where, params = "message_id IS NOT NULL AND extractor <> 'gold'", []  # gold files annotate messages only
    found: dict[str, list[Item]] = {}
    for kind, sql in _PRED_SQL.items():
        clause = where
        if extractor:  # an invite attached to a message is that message's event, whichever extractor runs
            invites = " OR extractor = 'ics'" if kind == "events" else ""
            clause += f" AND ((extractor = ? AND coalesce(model, '') = ?){invites})"
            params = [extractor, model or ""]
        rows = con.execute(sql.format(where=clause), params).fetchall()
        found[kind] = [Item(kind=kind, ref=fid, text=text, at=at, all_day=bool(day), label=label,
                            sources={bare_id(s) for s in srcs if s})
                       for fid, text, at, day, label, srcs in rows]
    return found


def score(gold: dict[str, list[Item]], pred: dict[str, list[Item]], *, extractor: str | None = None,
          model: str | None = None, tolerance_minutes: int = 60, min_similarity: float = 0.5) -> ScoreReport:
    """The per-type report; kinds absent from the gold file are left out."""
    tolerance = timedelta(minutes=tolerance_minutes)
    kinds: Iterable[str] = [k for k in FACT_KINDS if k in gold]
    return ScoreReport(
        extractor=extractor, model=model, tolerance_minutes=tolerance_minutes, min_similarity=min_similarity,
        types={k: score_type(gold[k], pred.get(k, []), tolerance, min_similarity) for k in kinds},
    )


def gold_items(gold: GoldFacts) -> dict[str, list[Item]]:
    """Gold facts as match items; an event's sources are its message and every message that changed it."""
    events = [Item(kind="events", ref=e.id, text=e.title, at=e.starts_at, all_day=e.all_day, label=e.status,
                   sources={bare_id(m) for m in (e.message_id, e.updated_by, *(h.message_id for h in e.history)) if m})
              for e in gold.events]
    tasks = {kind: [Item(kind=kind, ref=t.id, text=t.task, at=t.due_at, all_day=t.all_day,
                         sources={bare_id(t.message_id)}) for t in getattr(gold, kind)]
             for kind in ("deadlines", "action_items")}
    return {"events": events, **tasks}


def processed_messages(con: duckdb.DuckDBPyConnection, extractor: str, model: str | None) -> set[str]:
    """Message ids an extractor has processed (extraction_log), bare."""
    rows = con.execute("SELECT item_id FROM extraction_log WHERE extractor = ? AND model = ?",
                       [extractor, model or ""]).fetchall()
    return {bare_id(r[0]) for r in rows}


def evaluate_store(db: Path, gold_path: Path, *, extractor: str | None = None, model: str | None = None,
                   tolerance_minutes: int = 60) -> ScoreReport:
    """Score the facts stored in `db` against a gold_facts.json file (see `evaluate_connection`)."""
    con = connect(db, read_only=True)
    try:
        return evaluate_connection(con, gold_path, extractor=extractor, model=model,
                                   tolerance_minutes=tolerance_minutes)
    finally:
        con.close()


def evaluate_connection(con: duckdb.DuckDBPyConnection, gold_path: Path, *, extractor: str | None = None,
                        model: str | None = None, tolerance_minutes: int = 60) -> ScoreReport:
    """Score the facts in an open store against a gold_facts.json file.

    With `extractor`, gold facts are limited to the messages that extractor processed, so an LLM run over a
    sample is scored on that sample (reported as `messages_scored`).
    """
    gold = gold_items(read_gold_facts(gold_path))
    pred = predicted(con, extractor, model)
    seen = processed_messages(con, extractor, model) if extractor else None
    if seen is not None:
        gold = {kind: [g for g in items if g.sources & seen] for kind, items in gold.items()}
    report = score(gold, pred, extractor=extractor, model=model, tolerance_minutes=tolerance_minutes)
    report.messages_scored = len(seen) if seen is not None else None
    return report
