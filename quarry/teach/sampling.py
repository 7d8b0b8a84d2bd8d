"""Rejection sampling: k seeded runs of the student per synthesized question, each scored by a strict reward.

The reward is verifiable because a synthesized question's answer is known. It is the strict form of the
evaluation's scorer, so a model cannot earn it by hedging: the tool calls ran (a failed one repaired), the
answer scores as the known one, it is the model's own grounded answer (not the rows shown in its place),
every id it cites came from this run's tool results, it cites one when the answer rests on messages, and a
"when" answer names one day, not a list of candidates. Right runs become training traces (RFT); a right
and a wrong run of the same question become a preference pair (DPO). Runs use a scratch copy of the store,
as teacher runs do; every sampled trace is then stored, verified or not, so the trace store keeps them.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import product
from time import perf_counter

from pydantic import BaseModel, Field

from quarry.agent.loop import AgentResult, Sampling, run_agent
from quarry.agent.session import default_profile
from quarry.agent.tools.base import ToolContext, allow_writes, deny_writes
from quarry.agent.tools.registry import all_tools
from quarry.evals.answer_scoring import datetimes_in, is_unknown_question
from quarry.evals.gold import GoldQuestion
from quarry.finetune.preference import PreferencePair
from quarry.finetune.registry import open_with_adapters
from quarry.store.session import StoreSession, mailbox_now, scratch_copy
from quarry.store.traces import Trace, get_trace, insert_trace, to_training_record
from quarry.teach.synthesis import SynthQuestion
from quarry.teach.teacher import labelled, rejection_reason

Progress = Callable[[int, int, str], None]


class SamplingConfig(BaseModel):
    samples: int = Field(4, ge=1)
    temperature: float = Field(0.8, gt=0.0)
    seed: int = 0
    max_steps: int = Field(6, ge=1)
    max_tokens: int = Field(512, ge=16)
    #: At most this many (right, wrong) pairs per question, each run used once.
    pairs_per_question: int = Field(2, ge=1)


class RoundReward(BaseModel):
    """One sampling round as numbers, with what would show reward hacking (long answers, bad citations)."""

    questions: int
    runs: int
    reward: float
    right_runs: int
    questions_solved: int
    mean_answer_chars: float
    #: Cited ids that came from the run's own tool results, over all ids the model cited (before any cut).
    citation_validity: float | None
    fallbacks: int
    reasons: dict[str, int] = Field(default_factory=dict)
    seconds: float = 0.0


class QuestionSamples(BaseModel):
    """The k scored runs of one question."""

    question: SynthQuestion
    traces: list[Trace]
    reasons: list[str | None]

    @property
    def right(self) -> list[Trace]:
        return [t for t, r in zip(self.traces, self.reasons) if r is None]

    @property
    def wrong(self) -> list[Trace]:
        return [t for t, r in zip(self.traces, self.reasons) if r is not None]


def _own_answer(trace: Trace) -> str:
    """The model's own final words (the stored answer may be the rows grounding showed instead)."""
    last = next((m for m in reversed(trace.messages) if m.get("role") == "assistant"), {})
    return str(last.get("content") or "")


def strict_reason(result: AgentResult, trace: Trace, gold: GoldQuestion) -> str | None:
    """Why a sampled run earns no reward, or None when it does (see the module docstring). The model's own
    words are scored, so rows shown in place of a wrong answer earn nothing."""
    own = _own_answer(trace)
    reason = rejection_reason(trace.messages, own, gold)
    if reason:
        return reason
    if gold.answer_type == "datetime" and len({d.date() for d in datetimes_in(own, search=False)}) > 1:
        return "several_answers"
    if result.fallback:
        return f"fallback_{result.fallback.replace(' ', '_')}"
    if result.unknown_citations:
        return "invented_citation"
    if gold.message_ids and not is_unknown_question(gold) and not result.citations:
        return "uncited"
    return None


def sample_questions(store: StoreSession, spec: str, questions: list[SynthQuestion], config: SamplingConfig,
                     progress: Progress | None = None) -> tuple[list[QuestionSamples], RoundReward]:
    """Run the model `config.samples` times per question; store every trace; score the round."""
    started = perf_counter()
    model, tools, profile = open_with_adapters(spec), all_tools(), default_profile(spec)
    sampled: list[QuestionSamples] = []
    cited = valid = chars = fallbacks = 0
    with scratch_copy(store) as scratch:
        ctx = ToolContext(store=scratch, now=mailbox_now(store))
        for done, question in enumerate(questions, start=1):
            ctx.confirm = allow_writes if question.template == "calendar_add" else deny_writes
            traces, reasons = [], []
            for k in range(config.samples):
                sampling = Sampling(temperature=config.temperature, seed=config.seed * 7919 + done * 101 + k)
                result = run_agent(question.gold.question, model, tools, ctx, profile, config.max_steps,
                                   max_tokens=config.max_tokens, sampling=sampling)
                trace = get_trace(scratch.reader(), result.trace_id)
                reason = strict_reason(result, trace, question.gold)
                traces.append(labelled(trace, question, spec, reason, question.gold.question, source="rft"))
                reasons.append(reason)
                cited += len(result.citations) + len(result.unknown_citations)
                valid += len(result.citations)
                chars += len(_own_answer(trace))
                fallbacks += result.fallback is not None
            sampled.append(QuestionSamples(question=question, traces=traces, reasons=reasons))
            if progress:
                progress(done, len(questions), f"{sum(r is None for r in reasons)}/{config.samples} right")
    with store.writer() as con:
        for samples in sampled:
            for trace in samples.traces:
                insert_trace(con, trace)
    runs = [r for s in sampled for r in s.reasons]
    tally: dict[str, int] = {}
    for reason in runs:
        tally[reason or "right"] = tally.get(reason or "right", 0) + 1
    reward = RoundReward(
        questions=len(sampled), runs=len(runs), reward=sum(r is None for r in runs) / max(len(runs), 1),
        right_runs=sum(r is None for r in runs), questions_solved=sum(bool(s.right) for s in sampled),
        mean_answer_chars=chars / max(len(runs), 1), citation_validity=valid / cited if cited else None,
        fallbacks=fallbacks, reasons=tally, seconds=round(perf_counter() - started, 2),
    )
    return sampled, reward


def distinct_right(sampled: list[QuestionSamples]) -> list[Trace]:
    """The right runs, one per distinct (question, answer): identical samples would only repeat themselves."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for samples in sampled:
        for trace in samples.right:
            key = (trace.question, trace.final_answer or "")
            if key not in seen:
                seen.add(key)
                kept.append(trace)
    return kept


def sampled_pairs(sampled: list[QuestionSamples], per_question: int) -> list[PreferencePair]:
    """(right, wrong) pairs of the same question, each run in at most one pair."""
    pairs = []
    for samples in sampled:
        used: set[str] = set()
        for right, wrong in product(samples.right, samples.wrong):
            if len(used) >= 2 * per_question:
                break
            if right.trace_id in used or wrong.trace_id in used:
                continue
            used |= {right.trace_id, wrong.trace_id}
            pairs.append(PreferencePair(question=samples.question.gold.question, chosen=to_training_record(right),
                                        rejected=to_training_record(wrong), source="sampled"))
    return pairs
