"""Teacher traces: synthesized questions answered by a teacher (or the oracle), verified, stored.

For each question from `question_templates` the trace is either written straight from the template
(`oracle`: question -> the template's tool calls, really executed -> the known answer, cited) or
produced by a real teacher model through the agent loop. A trace is kept (`verified`) only if its
tool calls ran (a failed call must be repaired by a later successful one) and its final answer
scores as the known answer. Runs happen on a scratch copy of the store, so a teacher's calendar
additions never reach the user's calendar; the traces are then stored in the real store.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from time import perf_counter
from typing import Any

from pydantic import BaseModel, Field

from quarry.agent.loop import run_agent
from quarry.agent.prompts import opening, system_prompt
from quarry.agent.tools.base import Tool, ToolContext, allow_writes, deny_writes, run_tool, tool_specs
from quarry.evals.answer_scoring import (
    is_unknown_question,
    match_calendar_add,
    normalize_text,
    numbers_in,
    question_hash,
    score_answer,
)
from quarry.evals.gold import GoldQuestion, load_questions
from quarry.finetune.registry import open_with_adapters
from quarry.llm.base import ChatMessage, ChatModel, Reply, ToolCall, ToolSpec
from quarry.store.session import StoreSession, mailbox_now, scratch_copy
from quarry.store.traces import Trace, get_trace, insert_trace, list_traces, write_jsonl
from quarry.teach.synthesis import SynthQuestion, synthesize

ORACLE = "oracle"
#: The evaluation questions shipped with the sample corpus: never emitted as training questions.
DEFAULT_HELDOUT = Path(__file__).resolve().parents[2] / "sample_corpus" / "gold_questions.jsonl"

Progress = Callable[[int, int, str], None]


class GenerationSummary(BaseModel):
    """What one `traces generate` run did: kept/rejected counts by reason and by template, timings."""

    teacher: str
    requested: int
    synthesized: int = 0
    kept: int = 0
    rejected: dict[str, int] = Field(default_factory=dict)
    by_template: dict[str, dict[str, int]] = Field(default_factory=dict)
    heldout_dropped: int = 0
    heldout_file: str | None = None
    duplicates_skipped: int = 0
    paraphrased: int = 0
    feedback_kept: int = 0
    feedback_excluded: int = 0
    trace_ids: list[str] = Field(default_factory=list)
    seconds: float = 0.0
    seconds_per_question: float = 0.0
    out: str | None = None
    written: int = 0


# --- verification -------------------------------------------------------------------------------


def _tool_outcomes(messages: list[ChatMessage]) -> list[tuple[str, dict[str, Any], bool, str]]:
    """(tool name, arguments, ok, result) for every tool call, matched to its result by tool_call_id."""
    results = {m.get("tool_call_id"): str(m.get("content") or "") for m in messages if m.get("role") == "tool"}
    outcomes = []
    for message in messages:
        for call in message.get("tool_calls") or [] if message.get("role") == "assistant" else []:
            function = call.get("function", {})
            raw = function.get("arguments") or "{}"
            try:
                arguments = json.loads(raw) if isinstance(raw, str) else dict(raw)
            except json.JSONDecodeError:
                arguments = {}
            result = results.get(call.get("id"))
            ok = result is not None and not result.startswith("error:")
            outcomes.append((function.get("name", ""), arguments, ok, result or ""))
    return outcomes


def rejection_reason_without_gold(messages: list[ChatMessage]) -> str | None:
    """What can be checked with no known answer: a tool was called, and every failed call was repaired."""
    return _unrepaired(_tool_outcomes(messages))


def _unrepaired(outcomes: list[tuple[str, dict[str, Any], bool, str]]) -> str | None:
    if not outcomes:
        return "no_tool_call"
    for i, (name, _, ok, _) in enumerate(outcomes):
        if not ok and not any(later_ok and later == name for later, _, later_ok, _ in outcomes[i + 1 :]):
            return "tool_error"
    return None


def rejection_reason(
    messages: list[ChatMessage], answer: str, gold: GoldQuestion, *, grounded: bool = False
) -> str | None:
    """Why a trace must not become training data, or None if it checks out.

    `grounded` (oracle traces) also requires the known answer to be visible in the tool results,
    so a template whose SQL does not really prove its answer is caught.
    """
    outcomes = _tool_outcomes(messages)
    reason = _unrepaired(outcomes)
    if reason:
        return reason
    if gold.answer_type == "calendar_add":
        # A declined addition is not an error result, so the tool's own "added ..." confirms the write.
        if not any(ok and name == "calendar_add" and result.startswith("added")
                   and match_calendar_add(args, gold.answer) for name, args, ok, result in outcomes):
            return "calendar_not_added"
    if not score_answer(answer, gold):
        return "wrong_answer"
    if grounded and gold.answer_type in ("datetime", "text", "number", "list") and not is_unknown_question(gold):
        if not score_answer("\n".join(result for *_, result in outcomes), gold):
            return "not_grounded"
    return None


# --- trace builders -----------------------------------------------------------------------------


def _citations(message_ids: list[str]) -> str:
    return " ".join(f"[msg:{m}]" for m in message_ids)


def oracle_trace(question: SynthQuestion, tools: dict[str, Tool], ctx: ToolContext, schema: str) -> Trace:
    """The known-correct conversation for a synthesized question, its tool calls executed for real."""
    started = perf_counter()
    messages: list[ChatMessage] = opening("teacher", schema, question.gold.question, ctx.now)
    for i, step in enumerate(question.steps):
        call = ToolCall(id=f"call_{i}_0", name=step.tool, arguments=step.arguments)
        messages.append(Reply(tool_calls=[call]).as_assistant_message())
        result = run_tool(tools, step.tool, step.arguments, ctx)
        messages.append({"role": "tool", "tool_call_id": call.id, "content": result.content})
    answer = f"{question.statement} {_citations(question.gold.message_ids)}".strip()
    messages.append({"role": "assistant", "content": answer})
    return Trace(
        model=ORACLE, question=question.gold.question, messages=messages, tools=tool_specs(tools),
        final_answer=answer, citations=list(question.gold.message_ids), latency_s=round(perf_counter() - started, 4),
    )


def teacher_trace(question: SynthQuestion, model: ChatModel, tools: dict[str, Tool], ctx: ToolContext,
                  schema: str, max_steps: int) -> Trace:
    """A real teacher run through the agent loop (stored by the loop in the scratch store, read back)."""
    result = run_agent(question.gold.question, model, tools, ctx, "teacher", max_steps, schema=schema)
    return get_trace(ctx.store.reader(), result.trace_id)


# --- paraphrases --------------------------------------------------------------------------------

_PARAPHRASE_PROMPT = (
    "Rewrite the user's question in different words, the way another person might ask it. Keep every "
    "name, title, date and number exactly as written. Reply with the rewritten question only."
)


#: Question words a paraphrase may drop or swap; every other longer word carries a fact.
_QUESTION_WORDS = frozenset("when where what which does will have been there this that with from about scheduled "
                            "happen happens planned take place time date could would should please".split())


def keeps_facts(original: str, text: str) -> bool:
    """A paraphrase keeps the facts: same numbers, and every quoted phrase or else most content words."""
    if sorted(numbers_in(text)) != sorted(numbers_in(original)):
        return False
    new = f" {normalize_text(text)} "
    quoted = re.findall(r'"([^"]+)"', original)
    if quoted:  # the quotes hold the fact; the rest is wording
        return all(f" {normalize_text(q)} " in new for q in quoted)
    content = [w for w in normalize_text(original).split() if len(w) >= 4 and w not in _QUESTION_WORDS]
    return not content or sum(f" {w} " in new for w in content) >= 0.6 * len(content)


def paraphrase(model: ChatModel, question: str, seed: int) -> str | None:
    """A reworded question from the model, or None if it changed the facts or is not a new wording."""
    reply = model.chat(
        [{"role": "system", "content": _PARAPHRASE_PROMPT}, {"role": "user", "content": question}],
        max_tokens=80, temperature=0.7, seed=seed,
    )
    text = reply.text.strip().splitlines()[0].strip().strip('"') if reply.text.strip() else ""
    if not 8 <= len(text) <= 300 or normalize_text(text) == normalize_text(question):
        return None
    return text if keeps_facts(question, text) else None


def heldout_hashes(path: Path | None) -> set[str]:
    """Hashes of the held-out (evaluation) questions; none when the file does not exist."""
    if path is None or not path.exists():
        return set()
    return {question_hash(q.question) for q in load_questions(path)}


def stored_keys(store: StoreSession) -> set[str]:
    """Dedupe keys of verified traces already in the store: a re-run adds only new questions."""
    rows = store.reader().execute(
        "SELECT DISTINCT metadata->>'dedupe_key' FROM traces WHERE verified AND metadata->>'dedupe_key' IS NOT NULL"
    ).fetchall()
    return {r[0] for r in rows}


def promote_feedback(store: StoreSession, heldout: set[str] = frozenset()) -> tuple[list[Trace], int]:
    """Chat traces marked good become verified training data (if their tool calls ran); bad ones never.

    Returns the promoted traces and how many were excluded (bad feedback, a failed last tool call, a
    duplicate, or an evaluation question).
    """
    reader = store.reader()
    good = [t for t in list_traces(reader, limit=None, feedback="good") if not t.verified]
    bad = [t for t in list_traces(reader, limit=None, feedback="bad") if t.verified is not False]
    seen = stored_keys(store)
    promoted, excluded = [], len(bad)
    with store.writer() as con:
        for trace in bad:
            con.execute("UPDATE traces SET verified = false WHERE trace_id = ?", [trace.trace_id])
        for trace in good:
            key = question_hash(f"{trace.question} => {trace.final_answer}")
            outcomes = _tool_outcomes(trace.messages)
            if key in seen or not outcomes or not outcomes[-1][2] or question_hash(trace.question) in heldout:
                excluded += 1
                continue
            seen.add(key)
            metadata = trace.metadata.model_copy(update={"template": "feedback", "teacher": trace.model,
                                                         "dedupe_key": key, "student_system_prompt": student_prompt()})
            con.execute("UPDATE traces SET verified = true, metadata = ? WHERE trace_id = ?",
                        [json.dumps(metadata.stored()), trace.trace_id])
            promoted.append(trace.model_copy(update={"verified": True, "metadata": metadata}))
    return promoted, excluded


# --- the run ------------------------------------------------------------------------------------


def student_prompt() -> str:
    """The short student system prompt: training swaps it in for the teacher prompt."""
    from quarry.agent.tools.registry import schema_description

    return system_prompt("student", schema_description())


def student_tools() -> list[ToolSpec]:
    """The compact tool specs the student is offered: training swaps them in for the teacher's."""
    from quarry.agent.tools.registry import all_tools

    return tool_specs(all_tools(), compact=True)


def labelled(trace: Trace, question: SynthQuestion, teacher: str, reason: str | None, original: str,
             source: str = "generate") -> Trace:
    """The trace with its verdict and the metadata training and evaluation read."""
    gold = question.gold
    metadata = trace.metadata.model_copy(update={
        "student_system_prompt": student_prompt(), "student_tools": student_tools(),
        "source": source, "template": question.template, "teacher": teacher, "verified": reason is None,
        "reject_reason": reason, "question_id": gold.id, "question_hash": question_hash(gold.question),
        "dedupe_key": question.dedupe_key, "answer_type": gold.answer_type, "known_answer": gold.answer,
        "accept": gold.accept, "message_ids": gold.message_ids,
        "paraphrased": gold.question != original, "original_question": original,
    })
    return trace.model_copy(update={"verified": reason is None, "metadata": metadata})


def _reworded(question: SynthQuestion, model: ChatModel | None, seed: int, heldout: set[str]) -> SynthQuestion:
    """The question with the paraphraser's wording, unless it failed its checks or is held out."""
    if model is None:
        return question
    text = paraphrase(model, question.gold.question, seed)
    if text is None or question_hash(text) in heldout:
        return question
    gold = question.gold.model_copy(update={"question": text, "id": f"{question.template}-{question_hash(text)[:12]}"})
    return question.model_copy(update={"gold": gold})


class _Generator:
    """One generation run: the models, the scratch store, the tally."""

    def __init__(self, store: StoreSession, teacher: str, summary: GenerationSummary, max_steps: int):
        from quarry.agent.tools.registry import all_tools, schema_description

        self.store, self.teacher, self.summary, self.max_steps = store, teacher, summary, max_steps
        self.tools = all_tools()
        self.schema = schema_description()
        self.model = None if teacher == ORACLE else open_with_adapters(teacher)

    def answer(self, question: SynthQuestion, ctx: ToolContext) -> Trace:
        if self.model is None:
            return oracle_trace(question, self.tools, ctx, self.schema)
        return teacher_trace(question, self.model, self.tools, ctx, self.schema, self.max_steps)

    def tally(self, trace: Trace, template: str, reason: str | None) -> None:
        counts = self.summary.by_template.setdefault(template, {"kept": 0, "rejected": 0})
        counts["kept" if reason is None else "rejected"] += 1
        if reason is None:
            self.summary.kept += 1
        else:
            self.summary.rejected[reason] = self.summary.rejected.get(reason, 0) + 1
        self.summary.trace_ids.append(trace.trace_id)


class _Sink:
    """Stores finished traces in batches: one writer connection per batch, not per trace, yet a long
    teacher run loses at most a minute of work if it is interrupted."""

    def __init__(self, store: StoreSession, max_batch: int = 25, max_wait_s: float = 60.0):
        self.store, self.max_batch, self.max_wait_s = store, max_batch, max_wait_s
        self.pending: list[Trace] = []
        self.last_flush = perf_counter()

    def add(self, trace: Trace) -> None:
        self.pending.append(trace)
        if len(self.pending) >= self.max_batch or perf_counter() - self.last_flush > self.max_wait_s:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            with self.store.writer() as con:
                for trace in self.pending:
                    insert_trace(con, trace)
        self.pending, self.last_flush = [], perf_counter()


def _run_questions(gen: _Generator, questions: list[SynthQuestion], paraphraser: ChatModel | None, seed: int,
                   heldout: set[str], progress: Progress | None) -> list[Trace]:
    """Answer and verify each question on a scratch copy; store every trace, return the kept ones."""
    kept: list[Trace] = []
    seen = stored_keys(gen.store)
    sink = _Sink(gen.store)
    with scratch_copy(gen.store) as scratch:
        ctx = ToolContext(store=scratch, now=mailbox_now(gen.store))
        try:
            for done, original in enumerate(questions, start=1):
                question = _reworded(original, paraphraser, seed + done, heldout)
                gen.summary.paraphrased += question is not original
                outcome = "duplicate"
                if question.dedupe_key in seen:
                    gen.summary.duplicates_skipped += 1
                else:
                    # Only a question that asks for an addition may write (and only to the scratch calendar).
                    ctx.confirm = allow_writes if question.template == "calendar_add" else deny_writes
                    trace = gen.answer(question, ctx)
                    reason = rejection_reason(trace.messages, trace.final_answer or "", question.gold,
                                              grounded=gen.model is None)
                    trace = labelled(trace, question, gen.teacher, reason, original.gold.question)
                    sink.add(trace)
                    gen.tally(trace, question.template, reason)
                    if reason is None:
                        seen.add(question.dedupe_key)
                        kept.append(trace)
                    outcome = reason or "kept"
                if progress:
                    progress(done, len(questions), outcome)
        finally:
            sink.flush()
    return kept


def generate_traces(
    store: StoreSession,
    teacher: str,
    n: int,
    seed: int = 0,
    *,
    paraphrase: bool = False,
    paraphraser: str | None = None,
    from_feedback: bool = False,
    heldout: Path | None = DEFAULT_HELDOUT,
    out: Path | None = None,
    max_steps: int = 6,
    progress: Progress | None = None,
) -> GenerationSummary:
    """Synthesize `n` questions, answer them with `teacher` (a model spec or 'oracle'), keep the verified.

    Every trace is stored (verified true/false); `out` receives the kept ones as training JSONL.
    `paraphrase` rewords questions with `paraphraser` (default: the teacher, or the configured
    teacher when the teacher is the oracle). `from_feedback` also promotes chat traces marked good.
    """
    started = perf_counter()
    checked = heldout is not None and heldout.exists()
    summary = GenerationSummary(teacher=teacher, requested=n, heldout_file=str(heldout) if checked else None)
    kept: list[Trace] = []
    hashes = heldout_hashes(heldout)
    if from_feedback:
        promoted, summary.feedback_excluded = promote_feedback(store, hashes)
        summary.feedback_kept = len(promoted)
        kept.extend(promoted)
    if n > 0:
        synthesis = synthesize(store.reader(), n, seed, hashes, stored_keys(store))
        questions = synthesis.questions
        summary.heldout_dropped, summary.duplicates_skipped = synthesis.heldout_dropped, synthesis.duplicates
        # Additions last: they write to the scratch calendar, which 'am I free' answers read.
        questions.sort(key=lambda q: q.template == "calendar_add")
        summary.synthesized = len(questions)
        gen = _Generator(store, teacher, summary, max_steps)
        para_model = _paraphrase_model(gen, paraphraser) if paraphrase else None
        kept.extend(_run_questions(gen, questions, para_model, seed, hashes, progress))
    summary.seconds = round(perf_counter() - started, 2)
    summary.seconds_per_question = round(summary.seconds / summary.synthesized, 3) if summary.synthesized else 0.0
    if out is not None:
        summary.out, summary.written = str(out), write_jsonl(kept, out)
    return summary


def _paraphrase_model(gen: _Generator, spec: str | None) -> ChatModel:
    if spec:
        return open_with_adapters(spec)
    if gen.model is not None:
        return gen.model
    from quarry.config import load_settings

    return open_with_adapters(load_settings().teacher)
