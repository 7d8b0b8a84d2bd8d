"""Evaluation: run models over a question file through the agent loop and score every answer.

Runs happen on a throwaway copy of the store with writes auto-confirmed, so `calendar_add` questions
are judged by what really reached the calendar table while the user's own calendar never changes.
Held-out discipline: questions whose hash matches a verified (training) trace in the store are
excluded and listed in the report's `split`. Each run writes per-question JSONL, `report.json` (the
summary that `quarry cost` reads) and a PNG chart into one output directory.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from statistics import mean
from time import perf_counter
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from quarry.agent.loop import AgentResult, run_agent
from quarry.agent.prompts import Profile
from quarry.agent.scoring import calendar_has_event, question_hash, score_answer
from quarry.agent.session import default_profile, open_agent_model
from quarry.agent.teacher import mailbox_now, scratch_copy
from quarry.agent.tools.base import ToolContext
from quarry.agent.tools.registry import all_tools
from quarry.config import quarry_home
from quarry.errors import InputError, QuarryError
from quarry.extract.gold import GoldQuestion, load_questions
from quarry.llm.accounting import cost_usd
from quarry.llm.base import ChatModel
from quarry.store.session import StoreSession

Mode = Literal["structured", "classic"]
REPORT_NAME = "report.json"
_INVALID_CALL = ("error: no tool named", "error: bad arguments")


class QuestionOutcome(BaseModel):
    """One question answered by one model: the per-question JSONL line."""

    id: str
    question: str
    answer_type: str
    model: str
    mode: Mode = "structured"
    answer: str = ""
    correct: bool = False
    tool_calls: int = 0
    tool_calls_valid: int = 0
    sql_calls: int = 0
    sql_ok: int = 0
    steps: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    retrieved_chars: int = 0
    latency_s: float = 0.0
    cost_usd: float = 0.0
    calendar_checked: bool | None = None
    error: str | None = None


class ModelSummary(BaseModel):
    """Per-model figures; rates over tool/SQL calls are None when the model made no such call."""

    n: int
    accuracy: float
    tool_call_valid_rate: float | None
    sql_success_rate: float | None
    steps_mean: float
    prompt_tokens_mean: float
    completion_tokens_mean: float
    #: Characters the retrieval put before the model (tool results / chunks): the variable part of the prompt.
    retrieved_chars_mean: float = 0.0
    latency_p50_s: float
    latency_p95_s: float
    cost_per_question_usd: float


class Split(BaseModel):
    """Which questions were evaluated and why others were not."""

    question_file: str
    questions_in_file: int
    limit: int | None
    evaluated: int
    excluded_in_training: list[str] = Field(default_factory=list)
    training_traces_checked: int = 0
    rule: str = "questions whose normalized-text hash matches a verified trace in the store are excluded"


class EvalReport(BaseModel):
    """What `quarry eval agent` produced; `report.json` in the output directory."""

    kind: str = "agent"
    created_at: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    db: str
    split: Split
    models: dict[str, ModelSummary]
    files: dict[str, str] = Field(default_factory=dict)
    chart: str | None = None
    out_dir: str


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def summarize(outcomes: list[QuestionOutcome]) -> ModelSummary:
    """The summary figures of one model's outcomes."""
    if not outcomes:
        raise InputError("no question was evaluated: nothing to summarize")
    latencies = [o.latency_s for o in outcomes]
    return ModelSummary(
        n=len(outcomes),
        accuracy=mean(o.correct for o in outcomes),
        tool_call_valid_rate=_rate(sum(o.tool_calls_valid for o in outcomes), sum(o.tool_calls for o in outcomes)),
        sql_success_rate=_rate(sum(o.sql_ok for o in outcomes), sum(o.sql_calls for o in outcomes)),
        steps_mean=mean(o.steps for o in outcomes),
        prompt_tokens_mean=mean(o.prompt_tokens for o in outcomes),
        completion_tokens_mean=mean(o.completion_tokens for o in outcomes),
        retrieved_chars_mean=mean(o.retrieved_chars for o in outcomes),
        latency_p50_s=_percentile(latencies, 50),
        latency_p95_s=_percentile(latencies, 95),
        cost_per_question_usd=mean(o.cost_usd for o in outcomes),
    )


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


def _allow(_: str) -> bool:
    return True


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
    })


@contextmanager
def eval_context(db: Path) -> Iterator[ToolContext]:
    """A tool context on a throwaway copy of the store, writes allowed, 'now' = the newest message."""
    store = StoreSession(db)
    try:
        now = mailbox_now(store)
        with scratch_copy(store) as scratch:
            yield ToolContext(store=scratch, confirm=_allow, now=now)
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


# --- files ----------------------------------------------------------------------------------------


def default_out_dir() -> Path:
    return quarry_home() / "eval" / datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def slug(spec: str) -> str:
    """A file-name-safe form of a model spec."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", spec).strip("_") or "model"


def write_outcomes(path: Path, outcomes: list[QuestionOutcome]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for outcome in outcomes:
            handle.write(outcome.model_dump_json() + "\n")


def write_report(out_dir: Path, report: BaseModel) -> Path:
    path = out_dir / REPORT_NAME
    path.write_text(report.model_dump_json(indent=2), encoding="utf-8")
    return path


def latest_report(root: Path | None = None) -> Path:
    """The newest `report.json` under the evaluation directory (default `$QUARRY_HOME/eval`)."""
    folder = root or quarry_home() / "eval"
    reports = sorted(folder.glob(f"*/{REPORT_NAME}"), key=lambda p: p.stat().st_mtime)
    if not reports:
        raise InputError(f"{folder}: no evaluation report yet: run `quarry eval agent` first or pass --report")
    return reports[-1]


def load_report(path: Path) -> dict[str, Any]:
    """A report.json as data; a missing or broken file is an InputError naming it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read evaluation report: {exc}") from exc
    if not isinstance(data.get("models"), dict) and not isinstance(data.get("structured"), dict):
        raise InputError(f"{path}: not an evaluation report (no 'models' or 'structured' section)")
    return data


# --- the two evaluations --------------------------------------------------------------------------


def _held_out(question_file: Path, db: Path, limit: int | None) -> tuple[list[GoldQuestion], Split]:
    """The questions to evaluate (training questions excluded) and the split that says so."""
    store = StoreSession(db)
    try:
        return select_questions(question_file, store, limit)
    finally:
        store.close()


def evaluate_models(specs: list[str], question_file: Path, db: Path, *, limit: int | None = None,
                    out_dir: Path | None = None, profile: Profile | None = None, max_steps: int = 6,
                    max_tokens: int = 512, on_done: Callable[[QuestionOutcome], None] | None = None) -> EvalReport:
    """`quarry eval agent`: each model over the held-out questions; JSONL, report.json and a chart."""
    from quarry.agent.charts import model_comparison

    if not specs:
        raise InputError("give at least one --model")
    out = out_dir or default_out_dir()
    questions, split = _held_out(question_file, db, limit)
    summaries, files = {}, {}
    with eval_context(db) as ctx:
        for spec in specs:
            outcomes = run_structured(spec, open_agent_model(spec), questions, ctx, profile, max_steps, max_tokens,
                                      on_done)
            files[spec] = str(out / f"{slug(spec)}.jsonl")
            write_outcomes(Path(files[spec]), outcomes)
            summaries[spec] = summarize(outcomes)
    chart = model_comparison(summaries, out / "models.png")
    report = EvalReport(db=str(db), split=split, models=summaries, files=files, chart=str(chart), out_dir=str(out))
    write_report(out, report)
    return report


class RagComparison(BaseModel):
    """`quarry eval rag-vs-structured`: the same model and questions, two ways of retrieving."""

    kind: str = "rag-vs-structured"
    model: str
    structured: ModelSummary
    classic: ModelSummary
    token_ratio: float | None
    retrieved_ratio: float | None = None
    latency_ratio: float | None
    accuracy_delta: float
    top_k: int
    split: Split
    db: str
    files: dict[str, str] = Field(default_factory=dict)
    chart: str | None = None
    out_dir: str


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def compare_rag_structured(spec: str, question_file: Path, db: Path, *, limit: int | None = None,
                           out_dir: Path | None = None, top_k: int = 5, profile: Profile | None = None,
                           max_steps: int = 6, max_tokens: int = 512,
                           on_done: Callable[[QuestionOutcome], None] | None = None) -> RagComparison:
    """Run one model over the questions with the agent (structured) and with classic embedding RAG."""
    from quarry.agent.charts import rag_vs_structured
    from quarry.agent.rag_baseline import ClassicRag

    out = out_dir or default_out_dir()
    questions, split = _held_out(question_file, db, limit)
    model = open_agent_model(spec)
    with eval_context(db) as ctx:
        rag = ClassicRag(ctx.store, top_k=top_k, max_tokens=max_tokens)
        rag.index()
        # One approach after the other, not interleaved: each keeps its prompt prefix in the model's cache,
        # as it would in use (interleaving made every agent question re-read the system prompt).
        structured = run_structured(spec, model, questions, ctx, profile, max_steps, max_tokens, on_done)
        classic = []
        for question in questions:
            classic.append(rag.answer(question, model, spec, ctx.now))
            if on_done:
                on_done(classic[-1])
    files = {mode: str(out / f"{slug(spec)}.{mode}.jsonl") for mode in ("structured", "classic")}
    write_outcomes(Path(files["structured"]), structured)
    write_outcomes(Path(files["classic"]), classic)
    s, c = summarize(structured), summarize(classic)
    comparison = RagComparison(
        model=spec, structured=s, classic=c, token_ratio=_ratio(s.prompt_tokens_mean, c.prompt_tokens_mean),
        retrieved_ratio=_ratio(s.retrieved_chars_mean, c.retrieved_chars_mean),
        latency_ratio=_ratio(s.latency_p50_s, c.latency_p50_s), accuracy_delta=s.accuracy - c.accuracy,
        top_k=top_k, split=split, db=str(db), files=files, out_dir=str(out),
    )
    comparison.chart = str(rag_vs_structured(s, c, spec, out / "rag_vs_structured.png"))
    write_report(out, comparison)
    return comparison
