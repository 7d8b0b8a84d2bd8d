"""Agent benchmark: the `quarry ask` logic over the first N gold questions, one model spec.

Prints, per question, whether the answer is correct, the tool calls, tokens and latency, then the
success rate with mean tokens and latency. Answers are scored by quarry.evals.answer_scoring (the same rules
that verify teacher traces); a calendar_add question counts only if a matching calendar_add call
succeeded. Questions run on a scratch copy of the store (writes allowed there, as with --yes), with
"today" set to the newest message's date, as for generated traces.

Without --db the store is built fresh: the sample corpus ingested and its gold facts (and calendar)
loaded, so the figure measures the agent, not fact extraction.

Usage:
  .venv/bin/python bench/agent.py [--db STORE] [--model local:qwen2.5-coder-1.5b] [--n 50]
      [--questions sample_corpus/gold_questions.jsonl] [--max-steps 6] [--profile teacher]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from quarry.agent.loop import AgentResult
from quarry.agent.session import AgentSession
from quarry.agent.tools.base import allow_writes
from quarry.errors import QuarryError
from quarry.evals.answer_scoring import match_calendar_add, score_answer
from quarry.evals.gold import GoldQuestion, build_gold_store, load_questions
from quarry.store.session import StoreSession, mailbox_now, scratch_copy

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "sample_corpus"


def is_correct(result: AgentResult, gold: GoldQuestion) -> bool:
    if gold.answer_type == "calendar_add":
        return any(s.tool == "calendar_add" and s.ok and match_calendar_add(s.arguments, gold.answer)
                   for s in result.steps)
    return score_answer(result.answer, gold)


def run(db: Path, questions: list[GoldQuestion], spec: str, max_steps: int, profile: str | None) -> list[bool]:
    """Ask every question on a scratch copy of the store; print one line each; return correctness."""
    store = StoreSession(db)
    now = mailbox_now(store)
    outcomes: list[bool] = []
    tokens: list[int] = []
    latencies: list[float] = []
    with scratch_copy(store) as scratch:
        scratch.close()
        session = AgentSession(scratch.path, spec, profile=profile, confirm=allow_writes, now=now, max_steps=max_steps)
        print(f"model {spec} · {session.profile} prompt · today {now:%Y-%m-%d %H:%M} UTC · {len(questions)} questions")
        for gold in questions:
            try:
                result = session.ask(gold.question, metadata={"bench": "agent", "gold_id": gold.id})
            except QuarryError as exc:  # counted as a failure, the run goes on
                print(f"{gold.id:>10} FAIL error: {exc}", flush=True)
                outcomes.append(False)
                continue
            ok = is_correct(result, gold)
            outcomes.append(ok)
            tokens.append(result.usage.prompt_tokens + result.usage.completion_tokens)
            latencies.append(result.latency_s)
            answer = " ".join(result.answer.split())[:90]
            print(f"{gold.id:>10} {'ok  ' if ok else 'FAIL'} calls={len(result.steps)} "
                  f"tok={result.usage.prompt_tokens}+{result.usage.completion_tokens} {result.latency_s:6.1f}s  "
                  f"{answer}  (gold: {gold.answer})", flush=True)
        session.close()
    store.close()
    n = len(outcomes)
    print(f"success {sum(outcomes)}/{n} = {100 * sum(outcomes) / max(n, 1):.0f}% · "
          f"mean tokens {statistics.fmean(tokens or [0]):.0f} · "
          f"mean latency {statistics.fmean(latencies or [0]):.1f} s")
    return outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="a store with the sample corpus (default: built fresh)")
    parser.add_argument("--model", default="local:qwen2.5-coder-1.5b")
    parser.add_argument("--questions", type=Path, default=ROOT / "sample_corpus" / "gold_questions.jsonl")
    parser.add_argument("--n", type=int, default=50, help="first N questions")
    parser.add_argument("--max-steps", type=int, default=6)
    parser.add_argument("--profile", choices=["teacher", "student"], default=None)
    args = parser.parse_args()
    questions = load_questions(args.questions)[: args.n]
    with tempfile.TemporaryDirectory(prefix="quarry-bench-") as tmp:
        db = args.db or build_gold_store(CORPUS, Path(tmp) / "sample.duckdb")
        run(db, questions, args.model, args.max_steps, args.profile)


if __name__ == "__main__":
    sys.exit(main())
