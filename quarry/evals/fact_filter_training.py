"""Train the encoder extractor's heads on the train mailboxes' gold, and measure them without leaking.

Every rules candidate (new event, deadline, action item) of every train mailbox is labelled by the scorer's
own match rule: it is real if it matches a gold fact of its type from its message (time within the tolerance,
title alike). One logistic head per type is fitted on the frozen MiniLM features. Its threshold is chosen on
out-of-fold probabilities (leave one mailbox out), to maximise the F1 the scorer would give, 2·TP / (kept +
gold); a type whose best threshold does not beat keeping everything gets no head. `fold_weights` fits the
same way without one mailbox, so that mailbox's score is the honest train figure (nested: its threshold is
chosen without it too).
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict

from quarry.evals.corpora import Mailbox
from quarry.evals.fact_scoring import Item, bare_id, gold_items, match_likeness
from quarry.evals.family import mailbox_sources
from quarry.evals.gold import read_gold_facts
from quarry.extract.fact_filter import FilterWeights, Head, features, is_candidate
from quarry.extract.facts import Event, Fact, SourceText
from quarry.extract.rules import RulesExtractor

TOLERANCE = timedelta(minutes=60)
MIN_SIMILARITY = 0.5
#: Inverse regularisation of the heads (few hundred examples per type, 386 features).
C = 1.0
#: A head must beat keeping every candidate by this much (out-of-fold F1) to ship.
MIN_GAIN = 0.01
_THRESHOLDS = np.round(np.arange(0.05, 0.96, 0.05), 2)


class Candidates(BaseModel):
    """The labelled candidates of some mailboxes, features computed once."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    mailbox: list[str]
    table: list[str]
    label: np.ndarray
    rows: np.ndarray
    #: Gold facts per (mailbox, table): the F1's denominator.
    gold: dict[tuple[str, str], int]

    def where(self, table: str, boxes: set[str]) -> np.ndarray:
        return np.array([t == table and m in boxes for m, t in zip(self.mailbox, self.table, strict=True)])


def _item(fact: Fact, message_id: str) -> Item:
    if isinstance(fact, Event):
        return Item(kind="events", sources={bare_id(message_id)}, text=fact.title, at=fact.starts_at,
                    all_day=fact.all_day)
    return Item(kind=fact.table, sources={bare_id(message_id)}, text=fact.task, at=fact.due_at)


def mailbox_candidates(box: Mailbox, workdir: Path) -> tuple[list[tuple[Fact, SourceText, bool]], Counter[str]]:
    """(fact, its source, real?) for every rules candidate of one mailbox, and its gold counts per table."""
    sources = mailbox_sources(box, workdir)
    gold = gold_items(read_gold_facts(box.gold_facts))
    rules = RulesExtractor()
    found = []
    for src in sources:
        for fact in filter(is_candidate, rules.extract(src)):
            item = _item(fact, src.item_id)
            real = any(match_likeness(g, item, TOLERANCE, MIN_SIMILARITY) is not None for g in gold[item.kind])
            found.append((fact, src, real))
    return found, Counter({kind: len(items) for kind, items in gold.items()})


def collect(boxes: list[Mailbox], log: Callable[[str], None] = lambda _: None) -> Candidates:
    """Labelled candidates of `boxes`, embedded in one pass."""
    facts, sources, names, labels, gold = [], [], [], [], {}
    with tempfile.TemporaryDirectory(prefix="quarry-filter-") as tmp:
        for box in boxes:
            found, counts = mailbox_candidates(box, Path(tmp))
            for fact, src, real in found:
                facts.append(fact)
                sources.append(src)
                names.append(box.name)
                labels.append(real)
            gold.update({(box.name, table): n for table, n in counts.items()})
            log(f"{box.name}: {len(found)} candidates, {sum(r for *_, r in found)} real")
    return Candidates(mailbox=names, table=[f.table for f in facts], label=np.array(labels, dtype=bool),
                      rows=features(facts, sources), gold=gold)


def _fit(rows: np.ndarray, labels: np.ndarray):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=5000).fit(rows, labels)


def _f1(kept_real: int, kept: int, gold: int) -> float:
    return 2 * kept_real / (kept + gold) if kept + gold else 0.0


def _out_of_fold(data: Candidates, table: str, boxes: list[str]) -> np.ndarray:
    """Each candidate's probability from a head fitted without its mailbox (leave one mailbox out)."""
    mask = data.where(table, set(boxes))
    probs = np.ones(mask.sum())
    owner = np.array(data.mailbox)[mask]
    for box in boxes:
        train = data.where(table, set(boxes) - {box})
        test = owner == box
        if test.any() and len(set(data.label[train])) == 2:
            probs[test] = _fit(data.rows[train], data.label[train]).predict_proba(data.rows[mask][test])[:, 1]
    return probs


def choose_threshold(data: Candidates, table: str, boxes: list[str]) -> tuple[float | None, float, float]:
    """(threshold or None for no head, its out-of-fold F1, keeping everything's F1) over `boxes`."""
    mask = data.where(table, set(boxes))
    labels = data.label[mask]
    gold = sum(data.gold.get((b, table), 0) for b in boxes)
    probs = _out_of_fold(data, table, boxes)
    everything = _f1(int(labels.sum()), len(labels), gold)
    scored = [(_f1(int(labels[probs >= t].sum()), int((probs >= t).sum()), gold), float(t)) for t in _THRESHOLDS]
    best, threshold = max(scored)
    return (threshold if best >= everything + MIN_GAIN else None), best, everything


def fit_weights(data: Candidates, boxes: list[str], log: Callable[[str], None] = lambda _: None) -> FilterWeights:
    """Heads fitted on `boxes`, thresholds chosen leaving one of them out at a time."""
    heads = {}
    for table in sorted(set(data.table)):
        threshold, best, everything = choose_threshold(data, table, boxes)
        log(f"{table}: out-of-fold F1 {best:.3f} at threshold {threshold} vs {everything:.3f} keeping all")
        if threshold is None:
            continue
        train = data.where(table, set(boxes))
        model = _fit(data.rows[train], data.label[train])
        heads[table] = Head(coef=model.coef_[0].tolist(), intercept=float(model.intercept_[0]), threshold=threshold)
    return FilterWeights(heads=heads, trained_on=sorted(boxes))


def fold_weights(data: Candidates, boxes: list[str], held_out: str) -> FilterWeights:
    """The heads as `fit_weights` makes them, without `held_out` (its honest train score)."""
    return fit_weights(data, [b for b in boxes if b != held_out])
