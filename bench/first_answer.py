"""First-answer latency of a fresh `quarry ask`, with and without the saved prompt prefix, and later answers.

Each question is asked by a new `quarry ask --json` process twice: "cold", with no saved prefix state (the
process evaluates the system prompt and tools itself, as before llm.prefix_cache), and "warm", loading the
state the cold run saved. The user's saved states are set aside for the run and put back after it. Then one
process (an AgentSession, as `quarry chat` holds) asks every question in turn: its later answers reuse the
prefix in memory.
Prints p50 of the agent's own latency and of the whole process (start, model load, answer), and the
warm/cold ratios measured in this run. The store is sample_corpus/ ingested by the rules, as `make demo`.

Usage:
  .venv/bin/python bench/first_answer.py [--model SPEC] [--n 6]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from quarry import config
from quarry.agent.session import AgentSession
from quarry.evals.gold import load_questions
from quarry.evals.family_agent import extracted_store
from quarry.finetune.registry import default_model_spec, open_with_adapters

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "sample_corpus"
QUARRY = Path(sys.executable).with_name("quarry")


def _ask(question: str, db: Path, model: str | None) -> tuple[float, float, int]:
    """(agent latency s, process wall s, prompt tokens served from a cache) of one fresh `quarry ask`."""
    command = [str(QUARRY), "ask", question, "--json", "--db", str(db), *(["--model", model] if model else [])]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    result = json.loads(done.stdout)
    return result["latency_s"], wall, result["usage"].get("cached_tokens", 0)


def _p50(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model spec (default: quarry's default model)")
    parser.add_argument("--n", type=int, default=6, help="questions (the first N of sample_corpus's gold questions)")
    args = parser.parse_args()
    questions = [q.question for q in load_questions(CORPUS / "gold_questions.jsonl")
                 if q.answer_type != "calendar_add"][: args.n]
    kv = config.quarry_home() / "cache" / "kv"
    aside = kv.with_name("kv.set-aside-by-bench")
    if kv.is_dir():
        kv.rename(aside)
    try:
        _run(questions, kv, args.model)
    finally:
        shutil.rmtree(kv, ignore_errors=True)
        if aside.is_dir():
            aside.rename(kv)


def _run(questions: list[str], kv: Path, model: str | None) -> None:
    with tempfile.TemporaryDirectory(prefix="quarry-first-answer-") as tmp:
        db = extracted_store(CORPUS, Path(tmp) / "demo.duckdb")
        cold, warm = [], []
        for question in questions:
            shutil.rmtree(kv, ignore_errors=True)
            cold.append(_ask(question, db, model))
            warm.append(_ask(question, db, model))
            print(f"{question[:50]:50s} cold {cold[-1][0]:5.1f} s ({cold[-1][1]:5.1f} s process)  "
                  f"warm {warm[-1][0]:5.1f} s ({warm[-1][1]:5.1f} s process, {warm[-1][2]} tokens cached)",
                  file=sys.stderr)
        session = AgentSession(db, model or default_model_spec(), opener=open_with_adapters)
        try:
            later = [session.ask(question).latency_s for question in questions][1:]
        finally:
            session.close()
    figures = {
        "questions": len(questions),
        "cold_first_answer_p50_s": round(_p50([c[0] for c in cold]), 2),
        "warm_first_answer_p50_s": round(_p50([w[0] for w in warm]), 2),
        "cold_process_p50_s": round(_p50([c[1] for c in cold]), 2),
        "warm_process_p50_s": round(_p50([w[1] for w in warm]), 2),
        "later_answers_p50_s": round(_p50(later), 2),
    }
    figures["first_answer_warm_over_cold"] = round(figures["warm_first_answer_p50_s"] /
                                                   figures["cold_first_answer_p50_s"], 2)
    figures["process_warm_over_cold"] = round(figures["warm_process_p50_s"] / figures["cold_process_p50_s"], 2)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
