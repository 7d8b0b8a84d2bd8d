"""Preference pairs from the chat shell's `/good` and `/bad`: what the user said, turned into training signal.

A `/good` and a `/bad` answer to the same question (or to a rewording of it that keeps its facts) make a
pair; the good run is shown with the bad run's wording, so both sides answer one prompt. A `/bad` answer
with no good one pairs with a teacher run on the same question, kept only if it checks out without a
known answer: its tool calls ran (a failure repaired), it is the teacher's own grounded answer (no rows
shown in its place, no invented id), and it says something other than the bad answer. That teacher run
is stored, marked with the bad trace it answers, so the next retraining reuses it instead of asking again.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from quarry.agent.loop import run_agent
from quarry.agent.prompts import NO_ANSWER, user_turn
from quarry.agent.session import default_profile
from quarry.agent.tools.base import ToolContext, deny_writes
from quarry.agent.tools.registry import all_tools
from quarry.errors import QuarryError
from quarry.evals.answer_scoring import normalize_text, question_hash
from quarry.finetune.preference import PreferencePair
from quarry.finetune.registry import open_with_adapters
from quarry.store.session import StoreSession, mailbox_now, scratch_copy
from quarry.store.traces import Trace, get_trace, insert_trace, list_traces, to_training_record
from quarry.teach.teacher import keeps_facts, rejection_reason_without_gold


class FeedbackPairs(BaseModel):
    """What the feedback gave: pairs, and how many marked answers found no partner (and why)."""

    #: Left out of dumps (a run's summary shows the counts; the pairs themselves go to pairs.jsonl).
    pairs: list[PreferencePair] = Field(default_factory=list, exclude=True)
    good: int = 0
    bad: int = 0
    good_vs_bad: int = 0
    bad_vs_teacher: int = 0
    unpaired: dict[str, int] = Field(default_factory=dict)

    def summary(self) -> str:
        """One line for progress output and the run's summary."""
        return (f"feedback: {self.good} /good, {self.bad} /bad -> {self.good_vs_bad} good-vs-bad and "
                f"{self.bad_vs_teacher} bad-vs-teacher pairs" + (f", unpaired {self.unpaired}" if self.unpaired else ""))


def _same_question(a: str, b: str) -> bool:
    return question_hash(a) == question_hash(b) or (keeps_facts(a, b) and keeps_facts(b, a))


def _as_judged(trace: Trace, question: str) -> Trace:
    """The trace as the user judged it: asked as `question` (the pair's shared prompt), ending in the answer
    the shell showed (grounding may have shown rows instead of the model's words)."""
    asked = user_turn(question, datetime.fromisoformat(trace.metadata.now)) if trace.metadata.now else question
    messages = [dict(m, content=asked) if m.get("role") == "user" and i <= 1 else m
                for i, m in enumerate(trace.messages)]
    last = max((i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=None)
    if last is not None and trace.final_answer and not messages[last].get("tool_calls"):
        messages[last] = dict(messages[last], content=trace.final_answer)
    return trace.model_copy(update={"messages": messages, "question": question})


def _stored_teacher_run(store: StoreSession, bad: Trace) -> Trace | None:
    row = store.reader().execute(
        "SELECT trace_id FROM traces WHERE metadata->>'pairs_with' = ? ORDER BY created_at DESC LIMIT 1",
        [bad.trace_id]).fetchone()
    return get_trace(store.reader(), row[0]) if row else None


def _teacher_run(store: StoreSession, teacher: str, bad: Trace) -> tuple[Trace | None, str | None]:
    """A checked teacher answer to the bad trace's question (stored), or None and why not."""
    model = open_with_adapters(teacher)
    with scratch_copy(store) as scratch:
        ctx = ToolContext(store=scratch, confirm=deny_writes, now=mailbox_now(store))
        result = run_agent(bad.question, model, all_tools(), ctx, default_profile(teacher),
                           metadata={"source": "feedback_pair", "pairs_with": bad.trace_id})
        trace = get_trace(scratch.reader(), result.trace_id)
    reason = rejection_reason_without_gold(trace.messages)
    if reason is None and (result.fallback or result.unknown_citations):
        reason = "ungrounded"
    if reason is None and (result.answer.strip() == NO_ANSWER
                           or normalize_text(result.answer) == normalize_text(bad.final_answer or "")):
        reason = "no_better_answer"
    trace = trace.model_copy(update={"verified": reason is None})
    with store.writer() as con:
        insert_trace(con, trace)
    return (trace if reason is None else None), reason


def feedback_pairs(store: StoreSession, teacher: str | None, per_question: int = 2) -> FeedbackPairs:
    """Pairs from every `/good` and `/bad` in the store; `teacher` (a model spec) answers lone `/bad`s,
    or with None they stay unpaired."""
    reader = store.reader()
    good = [t for t in list_traces(reader, limit=None, feedback="good") if not t.metadata.evaluation]
    bad = [t for t in list_traces(reader, limit=None, feedback="bad") if not t.metadata.evaluation]
    out = FeedbackPairs(good=len(good), bad=len(bad))

    def unpaired(reason: str) -> None:
        out.unpaired[reason] = out.unpaired.get(reason, 0) + 1

    for rejected in bad:
        partners = [g for g in good if _same_question(g.question, rejected.question)][:per_question]
        source = "feedback"
        if not partners:
            stored = _stored_teacher_run(store, rejected)
            if stored is not None and not stored.verified:
                unpaired("teacher_failed_before")
                continue
            if stored is None and teacher is None:
                unpaired("no_good_answer_and_no_teacher")
                continue
            if stored is None:
                try:
                    stored, reason = _teacher_run(store, teacher, rejected)
                except QuarryError:  # e.g. the teacher model is not pulled: the pair is skipped, not the run
                    stored, reason = None, "unavailable"
                if stored is None:
                    unpaired(f"teacher_{reason}")
                    continue
            partners, source = [stored], "feedback_teacher"
        for chosen in partners:
            out.pairs.append(PreferencePair(
                question=rejected.question, chosen=to_training_record(_as_judged(chosen, rejected.question)),
                rejected=to_training_record(_as_judged(rejected, rejected.question)), source=source))
        if source == "feedback":
            out.good_vs_bad += len(partners)
        else:
            out.bad_vs_teacher += 1
    return out
