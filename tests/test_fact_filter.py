"""The encoder candidate (extract.fact_filter): the rules' facts kept or dropped by logistic heads over the
shipped MiniLM encoder, trained on the train mailboxes only (evals.fact_filter_training)."""

from datetime import datetime, timezone

import numpy as np

from quarry.evals.corpora import mailboxes
from quarry.evals.fact_filter_training import Candidates, fit_weights
from quarry.extract.extraction import extract_pending
from quarry.extract.fact_filter import EncoderExtractor, FilterWeights, Head, shipped_weights
from quarry.extract.facts import SourceText
from quarry.llm.embedding import DIMENSIONS

SENT = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)
FEATURES = DIMENSIONS + 2  # the embedding, the rule's confidence, "has a clock time"


def _dropping(table: str) -> FilterWeights:
    """A head that drops every candidate of `table` (threshold above any probability)."""
    return FilterWeights(heads={table: Head(coef=[0.0] * FEATURES, intercept=0.0, threshold=1.0)})


def test_a_head_drops_new_events_but_never_a_cancellation_and_leaves_other_types_alone():
    src = SourceText(item_id="m1", subject="Club news", reference=SENT,
                     body="The bake sale is on Friday 13 March at 3pm in the hall. The quiz night on 20 March is "
                          "cancelled. Please send the raffle list by Thursday 12 March.")
    rules = EncoderExtractor(FilterWeights(heads={})).extract(src)
    assert {(f.table, getattr(f, "status", None)) for f in rules} >= {("events", "scheduled"),
                                                                      ("events", "cancelled")}
    kept = EncoderExtractor(_dropping("events")).extract(src)
    statuses = [f.status for f in kept if f.table == "events"]
    assert statuses == ["cancelled"]
    assert [f.task for f in kept if f.table == "action_items"] == [f.task for f in rules if f.table == "action_items"]


def test_the_encoder_extractor_stores_its_own_facts_and_names_itself(fact_mailbox):
    fact_mailbox.add("m1", "The bake sale is on Friday 13 March at 3pm in the hall.", sent="2026-03-10T09:00:00+00:00",
                     subject="Bake sale")
    summary = extract_pending(fact_mailbox.con, EncoderExtractor(FilterWeights(heads={})))
    assert summary.extractor == "encoder" and summary.extracted == 1
    rows = fact_mailbox.con.execute("SELECT extractor, extractor_version, starts_at FROM events").fetchall()
    assert rows == [("encoder", "rules-1+all-MiniLM-L6-v2-heads", datetime(2026, 3, 13, 15, 0, tzinfo=timezone.utc))]


def test_fitting_keeps_a_head_only_where_it_beats_keeping_every_candidate():
    rng = np.random.default_rng(0)
    boxes = [f"box{i}" for i in range(4)]
    n = 40
    real = rng.random(len(boxes) * n) < 0.4
    informative = np.where(real[:, None], 1.0, -1.0) + rng.normal(0, 0.3, (len(real), FEATURES))
    noise = rng.normal(0, 1.0, (len(real), FEATURES))
    data = Candidates(mailbox=[b for b in boxes for _ in range(n)] * 2,
                      table=["events"] * len(real) + ["deadlines"] * len(real),
                      label=np.concatenate([real, real]), rows=np.vstack([informative, noise]),
                      gold={(b, t): int(real[i * n:(i + 1) * n].sum()) for i, b in enumerate(boxes)
                            for t in ("events", "deadlines")})
    weights = fit_weights(data, boxes)
    assert set(weights.heads) == {"events"}  # the deadlines' features say nothing: no head
    assert len(weights.heads["events"].coef) == FEATURES and weights.trained_on == boxes


def test_the_shipped_heads_were_trained_on_train_mailboxes_only():
    weights = shipped_weights()
    assert set(weights.trained_on) == {m.name for m in mailboxes("train")}
    assert weights.heads and all(len(h.coef) == FEATURES for h in weights.heads.values())
    assert weights.provenance["command"].startswith("python scripts/train_fact_filter.py")
