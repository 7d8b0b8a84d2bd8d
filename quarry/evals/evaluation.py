"""Evaluation: run models over a question file through the agent loop and score every answer.

Runs happen on a throwaway copy of the store with writes auto-confirmed, so `calendar_add` questions
are judged by what really reached the calendar table while the user's own calendar never changes.
Held-out discipline: questions whose hash matches a verified (training) trace in the store are
excluded and listed in the report's `split`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from time import perf_counter

from quarry.agent.grounding import ground
from quarry.agent.loop import AgentResult, run_agent
from quarry.agent.prompts import Profile
from quarry.agent.session import default_profile
from quarry.agent.tools.base import ToolContext, allow_writes
from quarry.agent.tools.registry import all_tools
from quarry.errors import InputError, QuarryError
from quarry.evals.answer_scoring import calendar_has_event, question_hash, score_answer
from quarry.evals.gold import GoldQuestion, load_questions
from quarry.evals.report import (
    EvalReport,
    QuestionOutcome,
    Split,
    default_out_dir,
    slug,
    summarize,
    write_outcomes,
    write_report,
)
from quarry.llm.accounting import cost_usd
from quarry.llm.base import ChatModel
from quarry.llm.specs import open_model
from quarry.store.session import StoreSession, mailbox_now, scratch_copy

ModelOpener = Callable[[str], ChatModel]
_INVALID_CALL = ("error: no tool named", "error: bad arguments")


# --- held-out discipline --------------------------------------------------------------------------


def training_hashes(store: StoreSession) -> tuple[set[str], int]:
    """Question hashes of the verified traces (the training data) and how many such traces exist."""
    rows = store.reader().execute(
        "SELECT question, metadata->>'question_hash', metadata->>'original_question' FROM traces WHERE verified"
    ).fetchall()
    hashes = {question_hash(q) for q, _, _ in rows} | {h for _, h, _ in rows if h}
    hashes |= {question_hash(o) for _, _, o in rows if o}
    return hashes, len(rows)


def select_questions(path: Path, store: StoreSession, limit: int | None) -> tuple[list[GoldQuestion], Split]:
    """The questions to evaluate: the file minus those seen in training, then the first `limit`."""
    questions = load_questions(path)
    if not questions:
        raise InputError(f"{path}: no questions in the file")
    seen, checked = training_hashes(store)
    held_out = [q for q in questions if question_hash(q.question) not in seen]
    chosen = held_out[:limit] if limit else held_out
    split = Split(question_file=str(path), questions_in_file=len(questions), limit=limit, evaluated=len(chosen),
                  excluded_in_training=[q.id for q in questions if question_hash(q.question) in seen],
                  training_traces_checked=checked)
    return chosen, split


# --- one question through the agent loop ----------------------------------------------------------


def _tool_figures(result: AgentResult) -> dict[str, int]:
    valid = [s for s in result.steps if not s.result.startswith(_INVALID_CALL)]
    sql = [s for s in result.steps if s.tool == "sql"]
    return {"tool_calls": len(result.steps), "tool_calls_valid": len(valid),
            "sql_calls": len(sql), "sql_ok": sum(s.ok for s in sql)}


def _calendar_ids(store: StoreSession) -> set[str]:
    with store.writer() as con:
        return {r[0] for r in con.execute("SELECT event_id FROM calendar_events").fetchall()}


def _take_new_events(store: StoreSession, before: set[str]) -> list[tuple[str, datetime]]:
    """Events the run added to the (scratch) calendar, removed again so the next question starts clean."""
    with store.writer() as con:
        rows = con.execute("SELECT event_id, title, starts_at FROM calendar_events").fetchall()
        added = [r for r in rows if r[0] not in before]
        if added:
            con.executemany("DELETE FROM calendar_events WHERE event_id = ?", [[r[0]] for r in added])
    return [(title, starts_at) for _, title, starts_at in added]


def answer_structured(question: GoldQuestion, model: ChatModel, spec: str, ctx: ToolContext, profile: Profile,
                      max_steps: int, max_tokens: int = 512) -> QuestionOutcome:
    """Run the agent on one question in the scratch store `ctx.store` and score it."""
    base = QuestionOutcome(id=question.id, question=question.question, answer_type=question.answer_type, model=spec)
    before = _calendar_ids(ctx.store) if question.answer_type == "calendar_add" else set()
    started = perf_counter()
    try:
        result = run_agent(question.question, model, all_tools(), ctx, profile, max_steps, max_tokens=max_tokens,
                           metadata={"evaluation": True, "question_id": question.id})
    except QuarryError as exc:
        return base.model_copy(update={"error": str(exc), "latency_s": perf_counter() - started})
    correct = score_answer(result.answer, question)
    checked = None
    if question.answer_type == "calendar_add":
        checked = calendar_has_event(_take_new_events(ctx.store, before), question.answer)
        correct = checked
    return base.model_copy(update={
        "answer": result.answer, "correct": correct, "calendar_checked": checked, "steps": len(result.steps),
        "prompt_tokens": result.usage.prompt_tokens, "completion_tokens": result.usage.completion_tokens,
        "retrieved_chars": sum(len(step.result) for step in result.steps), "latency_s": round(result.latency_s, 4),
        "cost_usd": cost_usd(spec, result.usage), **_tool_figures(result),
        "citations_cut": len(result.unknown_citations), "fallback": result.fallback,
        "ungrounded": _ungrounded(result, ctx),
    })


def _ungrounded(result: AgentResult, ctx: ToolContext) -> bool:
    """The harness's own count: does the answer given cite an id, or state a value, that no tool result holds?"""
    results = [s.result for s in result.steps if s.ok]
    check = ground(result.answer, results, ctx.now)
    return bool(check.removed_citations or check.unfound or check.fallback == "repetition")


@contextmanager
def eval_context(db: Path) -> Iterator[ToolContext]:
    """A tool context on a throwaway copy of the store, writes allowed, 'now' = the newest message."""
    store = StoreSession(db)
    try:
        now = mailbox_now(store)
        with scratch_copy(store) as scratch:
            yield ToolContext(store=scratch, confirm=allow_writes, now=now)
    finally:
        store.close()


def run_structured(spec: str, model: ChatModel, questions: list[GoldQuestion], ctx: ToolContext,
                   profile: Profile | None = None, max_steps: int = 6, max_tokens: int = 512,
                   on_done: Callable[[QuestionOutcome], None] | None = None) -> list[QuestionOutcome]:
    """Every question through the agent loop with one model."""
    chosen = profile or default_profile(spec)
    outcomes = []
    for question in questions:
        outcomes.append(answer_structured(question, model, spec, ctx, chosen, max_steps, max_tokens))
        if on_done:
            on_done(outcomes[-1])
    return outcomes


# --- the two evaluations --------------------------------------------------------------------------


def held_out_questions(question_file: Path, db: Path, limit: int | None) -> tuple[list[GoldQuestion], Split]:
    """The questions to evaluate (training questions excluded) and the split that says so."""
    store = StoreSession(db)
    try:
        return select_questions(question_file, store, limit)
    finally:
        store.close()


def evaluate_models(specs: list[str], question_file: Path, db: Path, *, limit: int | None = None,
                    out_dir: Path | None = None, profile: Profile | None = None, max_steps: int = 6,
                    max_tokens: int = 512, on_done: Callable[[QuestionOutcome], None] | None = None,
                    opener: ModelOpener = open_model) -> EvalReport:
    """`quarry eval agent`: each model over the held-out questions; JSONL, report.json and a chart."""
    from quarry.evals.charts import model_comparison

    if not specs:
        raise InputError("give at least one --model")
    out = out_dir or default_out_dir()
    questions, split = held_out_questions(question_file, db, limit)
    summaries, files = {}, {}
    with eval_context(db) as ctx:
        for spec in specs:
            outcomes = run_structured(spec, opener(spec), questions, ctx, profile, max_steps, max_tokens,
                                      on_done)
            files[spec] = str(out / f"{slug(spec)}.jsonl")
            write_outcomes(Path(files[spec]), outcomes)
            summaries[spec] = summarize(outcomes)
    chart = model_comparison(summaries, out / "models.png")
    report = EvalReport(db=str(db), split=split, models=summaries, files=files, chart=str(chart), out_dir=str(out))
    write_report(out, report)
    return report
