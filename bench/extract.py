"""Extraction throughput: messages/s for the rules extractor and for the LLM extractor per model,
the share of messages the prefilter keeps away from the model, and each extractor's precision/recall/F1
per fact type against the corpus's gold facts (an LLM on the messages it was sent only).

Works on a copy of an ingested store (default: the sample corpus, regenerated and ingested into a
temporary file without extraction), so nothing is changed. LLM figures come from the first items that
hold --llm-sample messages with cues (model loading not timed). The machine's load average is printed:
figures taken while another job runs are lower bounds (llama.cpp and DuckDB both slow down sharply
when the 2 cores are shared).

Usage: .venv/bin/python bench/extract.py [--db STORE] [--models local:smollm2-135m,local:qwen2.5-coder-0.5b]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from quarry.evals.fact_scoring import evaluate_connection
from quarry.extract.extraction import extract_pending, load_pending, redo
from quarry.extract.pipeline import ingest
from quarry.extract.rules import has_cues
from quarry.store.db import connect

ROOT = Path(__file__).resolve().parent.parent


def ingested_store(db: Path | None, workdir: Path) -> tuple[Path, Path]:
    """A private copy of `db`, or a fresh store with the sample corpus ingested and no facts extracted;
    and the gold facts file that goes with it."""
    target = workdir / "bench.duckdb"
    if db:
        shutil.copy(db, target)
        return target, ROOT / "sample_corpus" / "gold_facts.json"
    corpus = workdir / "corpus"
    subprocess.run([sys.executable, str(ROOT / "sample_corpus" / "generate.py"), "--out", str(corpus)], check=True,
                   capture_output=True)
    ingest([corpus / "mail", corpus / "docs"], target, workers=1)
    return target, corpus / "gold_facts.json"


def f1_line(con, gold: Path, extractor: str, model: str | None) -> str:
    """'F1 events 0.98 / deadlines 0.88 / action_items 0.83 (N messages scored)'."""
    report = evaluate_connection(con, gold, extractor=extractor, model=model)
    figures = " / ".join(f"{kind} {t.f1:.2f} (P {t.precision:.2f} R {t.recall:.2f}, {t.gold} gold)"
                         for kind, t in report.types.items())
    return f"  F1 {figures}; {report.messages_scored} messages scored"


def bench_rules(con, rounds: int) -> tuple[int, float]:
    """(items, best seconds) over `rounds` full rules extractions of the store."""
    best, items = float("inf"), 0
    for _ in range(rounds):
        redo(con, "rules")
        summary = extract_pending(con, "rules")
        items, best = summary.items, min(best, summary.seconds)
    return items, best


def bench_llm(con, spec: str, limit: int) -> dict:
    from quarry.llm.specs import open_model

    model = open_model(spec)
    redo(con, "llm", spec)
    con.execute("DELETE FROM extraction_cache WHERE model = ?", [spec])
    summary = extract_pending(con, "llm", spec, chat_model=model, limit=limit)
    asked = summary.extracted + summary.dropped
    return {"items": summary.items, "asked": asked, "seconds": summary.seconds, "calls": summary.model_calls,
            "dropped": summary.dropped, "facts": sum(summary.facts.values())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="an ingested store to copy (default: ingest sample_corpus/)")
    parser.add_argument("--models", default="local:smollm2-135m", help="comma-separated model specs ('' for none)")
    parser.add_argument("--llm-sample", type=int, default=6, help="messages sent to each model")
    parser.add_argument("--rounds", type=int, default=3, help="rules extraction repeats (best is kept)")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"load average before start: {load:.2f}" + ("  (taken while busy: lower bounds)" if load > 0.7 else ""))
    with tempfile.TemporaryDirectory() as tmp:
        path, gold = ingested_store(args.db, Path(tmp))
        con = connect(path)
        pending = [s for s in load_pending(con, "llm", "prefilter") if s.kind == "message"]
        skipped = sum(not has_cues(s) for s in pending)
        print(f"messages: {len(pending)}; prefilter skips {skipped} ({skipped / max(1, len(pending)):.0%}) "
              "before any model call")
        cued = [i for i, s in enumerate(load_pending(con, "llm", "prefilter")) if has_cues(s)]
        limit = cued[min(args.llm_sample, len(cued)) - 1] + 1 if cued else 0  # first items holding N with cues
        items, seconds = bench_rules(con, args.rounds)
        print(f"rules: {items} items in {seconds:.3f} s = {items / seconds:,.0f} items/s (best of {args.rounds})")
        print(f1_line(con, gold, "rules", None))
        for spec in filter(None, (m.strip() for m in args.models.split(","))):
            r = bench_llm(con, spec, limit)
            per_asked = r["asked"] / r["seconds"] if r["seconds"] else 0.0
            print(f"llm {spec}: {r['items']} items ({r['asked']} sent to the model, {r['calls']} calls, "
                  f"{r['dropped']} dropped, {r['facts']} facts) in {r['seconds']:.1f} s = "
                  f"{r['items'] / r['seconds']:.2f} items/s, {per_asked:.2f} model-extracted msgs/s; "
                  f"rules is {(items / seconds) / (r['items'] / r['seconds']):,.0f}x faster")
            print(f1_line(con, gold, "llm", spec), flush=True)
        con.close()
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
