"""The encoder extractor: the rules propose, a classifier trained on the train mailboxes' gold keeps or drops.

The rules find dates well and over-produce facts (on mail they were not written against, half their events
are spurious: a sentence with a date and a meeting word that announces nothing). Each candidate event,
deadline and action item is embedded with the shipped MiniLM sentence encoder (its message's subject, its
title, its evidence sentence) and scored by a logistic head per fact type, whose weights, threshold and
training provenance ship in `fact_filter.json` (written by `scripts/train_fact_filter.py`). The encoder is
frozen: only the head is trained. Moves and cancellations are never dropped (they update earlier facts), nor
is any fact type the training run found no gain for (its entry is absent).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from quarry.errors import ConfigError
from quarry.extract.facts import ActionItem, Deadline, Event, Fact, SourceText
from quarry.extract.rules import RulesExtractor
from quarry.llm.embedding import DIMENSIONS, EMBED_MODEL, embed

WEIGHTS_FILE = Path(__file__).with_name("fact_filter.json")
#: Sources per embedding batch: the encoder is far faster on a batch than one sentence at a time.
_BATCH = 256


class Head(BaseModel):
    """A logistic classifier over one fact type's candidate features; keep when p >= threshold."""

    coef: list[float]
    intercept: float
    threshold: float = Field(ge=0.0, le=1.0)

    def keeps(self, rows: np.ndarray) -> np.ndarray:
        """Which feature rows (one per candidate) the head keeps."""
        z = rows @ np.asarray(self.coef) + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -40.0, 40.0))) >= self.threshold


class FilterWeights(BaseModel):
    """Everything the filter needs and how it was made."""

    encoder: str = EMBED_MODEL
    #: Fact table -> head; a table absent here is never filtered.
    heads: dict[str, Head]
    trained_on: list[str] = Field(default_factory=list)
    provenance: dict = Field(default_factory=dict)


def is_candidate(fact: Fact) -> bool:
    """Facts the filter judges: new events, deadlines and action items (moves and cancels always pass)."""
    if isinstance(fact, Event):
        return fact.status == "scheduled"
    return isinstance(fact, (Deadline, ActionItem))


def candidate_text(fact: Fact, src: SourceText) -> str:
    """What the encoder reads for one candidate: the mail's subject, the fact's name and its sentence."""
    name = fact.title if isinstance(fact, Event) else getattr(fact, "task", "")
    return f"{src.subject}\n{name}\n{fact.evidence}"


_SCALARS = 2


def scalar_features(fact: Fact) -> list[float]:
    """Beside the embedding: the rule's own confidence and whether the fact has a clock time."""
    when = getattr(fact, "starts_at", None) or getattr(fact, "due_at", None)
    timed = when is not None and not getattr(fact, "all_day", False)
    return [fact.confidence, 1.0 if timed else 0.0]


def features(facts: Sequence[Fact], sources: Sequence[SourceText]) -> np.ndarray:
    """One feature row per (fact, its source): embedding, then the scalars."""
    vectors = embed([candidate_text(f, s) for f, s in zip(facts, sources, strict=True)])
    rows = [v + scalar_features(f) for v, f in zip(vectors, facts, strict=True)]
    return np.asarray(rows, dtype=float).reshape(len(facts), DIMENSIONS + _SCALARS)


@lru_cache(maxsize=1)
def shipped_weights() -> FilterWeights:
    """The heads shipped with Quarry."""
    try:
        return FilterWeights.model_validate_json(WEIGHTS_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{WEIGHTS_FILE}: cannot read the encoder extractor's weights: {exc}") from exc


class EncoderExtractor(RulesExtractor):
    """Rules candidates kept or dropped by the trained heads (`quarry ingest --extractor encoder`)."""

    name = "encoder"

    def __init__(self, weights: FilterWeights | None = None) -> None:
        self.weights = weights or shipped_weights()
        self.version = f"{RulesExtractor.version}+{self.weights.encoder}-heads"

    def extract(self, src: SourceText) -> list[Fact]:
        return next(self.extract_many([src]))[1]

    def extract_many(self, sources: Iterable[SourceText]) -> Iterator[tuple[SourceText, list[Fact], str | None]]:
        batch: list[SourceText] = []
        for src in sources:
            batch.append(src)
            if len(batch) == _BATCH:
                yield from self._filtered(batch)
                batch = []
        yield from self._filtered(batch)

    def _filtered(self, batch: list[SourceText]) -> Iterator[tuple[SourceText, list[Fact], str | None]]:
        proposed = [(src, super(EncoderExtractor, self).extract(src)) for src in batch]
        judged = [(f, src) for src, facts in proposed for f in facts
                  if is_candidate(f) and f.table in self.weights.heads]
        rows = features([f for f, _ in judged], [s for _, s in judged])
        dropped: set[int] = set()
        for table, head in self.weights.heads.items():
            at = [i for i, (f, _) in enumerate(judged) if f.table == table]
            if at:
                dropped |= {id(judged[i][0]) for i, kept in zip(at, head.keeps(rows[at]), strict=True) if not kept}
        for src, facts in proposed:
            yield src, [f for f in facts if id(f) not in dropped], None
