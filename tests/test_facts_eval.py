"""`quarry eval extract` on the sample corpus: generate it, ingest it, extract with rules, score against gold."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from quarry.evals.fact_scoring import Item, score
from quarry.evals.gold import read_gold_facts
from quarry.extract.extraction import extract_pending
from quarry.extract.pipeline import ingest
from quarry.store.db import connect

ROOT = Path(__file__).resolve().parent.parent
QUARRY = str(Path(sys.executable).parent / "quarry")


@pytest.fixture(scope="module")
def corpus_store(tmp_path_factory):
    """The sample corpus (regenerated: deterministic bytes), ingested, with rules facts extracted."""
    out = tmp_path_factory.mktemp("corpus")
    subprocess.run([sys.executable, str(ROOT / "sample_corpus" / "generate.py"), "--out", str(out)], check=True,
                   capture_output=True, timeout=300)
    db = out / "store.duckdb"
    ingest([out / "mail", out / "docs"], db, workers=1)
    con = connect(db)
    first = extract_pending(con, "rules")
    con.close()
    return out, db, first


def test_rules_on_sample_corpus_score_as_published(corpus_store, tmp_path):
    """README publishes events F1 0.98, deadlines 0.88, action items 0.84 on this (train) corpus."""
    out, db, first = corpus_store
    assert first.items > 300 and first.model_calls == 0
    report_path = tmp_path / "report.json"
    done = subprocess.run([QUARRY, "eval", "extract", "--gold", str(out / "gold_facts.json"), "--extractor", "rules",
                           "--report", str(report_path), "--db", str(db)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    report = json.loads(report_path.read_text())
    gold = read_gold_facts(out / "gold_facts.json")
    assert report["types"]["events"]["gold"] == len(gold.events)
    for kind in ("events", "deadlines", "action_items"):
        assert kind in done.stdout
    f1 = {kind: report["types"][kind]["f1"] for kind in ("events", "deadlines", "action_items")}
    assert f1["events"] >= 0.97 and f1["deadlines"] >= 0.87 and f1["action_items"] >= 0.83, f1


def test_json_summary_and_missing_gold_file(corpus_store):
    out, db, _ = corpus_store
    done = subprocess.run([QUARRY, "eval", "extract", "--gold", str(out / "gold_facts.json"), "--json", "--db",
                           str(db)], capture_output=True, text=True, timeout=300)
    summary = json.loads(done.stdout)
    assert set(summary["types"]) == {"events", "deadlines", "action_items"}
    assert "missed" not in summary["types"]["events"]
    missing = subprocess.run([QUARRY, "eval", "extract", "--gold", str(out / "nope.json"), "--db", str(db)],
                             capture_output=True, text=True, timeout=300)
    assert missing.returncode == 1 and missing.stderr.startswith("error: ") and "nope.json" in missing.stderr


def item(**changes) -> Item:
    base = {"kind": "events", "sources": {"m1"}, "text": "Board dinner", "at": "2026-11-18T19:30:00-05:00"}
    return Item.model_validate({**base, **changes})


def test_match_rules():
    """Same source, time within tolerance (a day for all-day), likeness of titles; one-to-one."""
    report = score(
        {"events": [item(), item(text="Pickleball clinic")]},
        {"events": [
            item(text="the board dinner at Gramercy", at="2026-11-18T20:15:00-05:00"),
            item(),  # a duplicate cannot match twice
            item(text="Pickleball clinic", sources={"m2"}),  # wrong message
        ]},
    )
    events = report.types["events"]
    assert (events.matched, events.precision, events.recall) == (1, 0.333, 0.5)
    assert score({"events": [item()]}, {"events": [item(at="2026-11-18T21:00:00-05:00")]}).types["events"].matched == 0
    all_day = item(all_day=True, at="2026-11-18T00:00:00-05:00")
    assert score({"events": [all_day]}, {"events": [item(all_day=True, at="2026-11-18T05:00:00+00:00")]}
                 ).types["events"].f1 == 1.0
    assert score({"events": [item()]}, {"events": [item(text="Coffee with Greg")]}).types["events"].matched == 0


def test_every_unmatched_fact_is_counted_under_the_nearest_reason():
    """Missed and spurious facts are counted by why they did not match, so a split says where errors come from."""
    events = score(
        {"events": [item(), item(text="Pickleball clinic", sources={"m2"}), item(text="Quiz night", sources={"m3"}),
                    item(text="Choir rehearsal", sources={"m4"})]},
        {"events": [
            item(), item(),  # one match, one duplicate of it
            item(text="Pickleball clinic", sources={"m2"}, at="2026-11-19T09:00:00-05:00"),  # time wrong
            item(text="Thanks for the call", sources={"m3"}),  # time right, title unlike
            item(text="Newsletter", sources={"m9"}),  # from a message without gold events
        ]},
    ).types["events"]
    assert events.why_missed == {"no fact from its message": 1, "time right, title unlike": 1,
                                 "title right, time wrong": 1}
    assert events.why_spurious == {"duplicate of a matched fact": 1, "message has no gold fact": 1,
                                   "time right, title unlike": 1, "title right, time wrong": 1}


def test_family_split_scores_train_beside_eval():
    """`--split all`: every mailbox of corpora/split.toml ingested, extracted and scored; sums per split."""
    done = subprocess.run([QUARRY, "eval", "extract", "--split", "all", "--extractor", "rules", "--json"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert {m["split"] for m in report["mailboxes"]} == {"train", "eval"} and len(report["mailboxes"]) >= 3
    train, held = report["splits"]["train"], report["splits"]["eval"]
    members = [m for m in report["mailboxes"] if m["split"] == "train"]
    assert train["events"]["gold"] == sum(m["types"]["events"]["gold"] for m in members)
    assert train["events"]["matched"] == sum(m["types"]["events"]["matched"] for m in members)
    sample = next(m for m in members if m["name"] == "sample")
    assert sample["types"]["events"]["f1"] >= 0.97  # the corpus the rules were first written against
    assert held["events"]["gold"] > 20 and 0 <= held["events"]["f1"] <= 1
    assert held["events"]["status_labelled"] == held["events"]["matched"]
    assert sum(held["events"]["why_missed"].values()) == held["events"]["gold"] - held["events"]["matched"]
    assert sum(held["events"]["why_spurious"].values()) == held["events"]["predicted"] - held["events"]["matched"]
    neither = subprocess.run([QUARRY, "eval", "extract"], capture_output=True, text=True, timeout=60)
    assert neither.returncode == 1 and "--gold FILE" in neither.stderr and "--split" in neither.stderr
