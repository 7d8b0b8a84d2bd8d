"""The plan/act loop: one question in, tool calls out, a cited answer back, every run a trace.

Each step is one model call offered the tools; a tool call runs through `run_tool`, whose errors go
back to the model as the tool's result so it can repair the call. The first reply, and the reply after
a failed call, must be tool calls: answers come from tool results, and a repair is a new call. A call
repeating a failed one word for word, or one cut off (greedy decoding repeats both), is asked again,
sampled. After `max_steps` model calls without a final answer, one more call without tools forces an
answer. The conversation is kept in OpenAI chat format and stored as-is in `traces`, so it is also
training data.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from time import perf_counter
from typing import Any

from pydantic import BaseModel, Field

from quarry.agent.citations import check_citations
from quarry.agent.grounding import ground
from quarry.agent.prompts import NO_ANSWER, Profile, opening, system_prompt
from quarry.agent.tools.base import Tool, ToolContext, run_tool, tool_specs
from quarry.errors import ContextFull, QuarryError
from quarry.llm.base import ChatMessage, ChatModel, Reply, ToolCall, Usage
from quarry.store.traces import Trace, TraceMetadata, insert_trace

#: The nudge added when the step budget is spent; the next call has no tools.
FORCE_ANSWER = (
    "You have used all your tool steps. Answer now from the results above, citing [msg:<message_id>], "
    f'or say "{NO_ANSWER}"'
)


#: Sent when a reply that had to be a tool call is not a complete one.
INCOMPLETE_CALL = "error: that reply is not a complete tool call. Call one tool, with short arguments."


#: A call identical to one that failed is asked again, sampled at this temperature, up to RETRIES times.
RETRY_TEMPERATURE = 0.8
RETRIES = 2
#: Seeds of one sampled run are seed * stride + the call's number, so runs with other seeds never share one.
_SEED_STRIDE = 1009


class Sampling(BaseModel):
    """How every model call of a run decodes: greedy by default; sampled runs (rejection sampling for
    retraining) set a temperature and a seed, so a run can be repeated exactly."""

    temperature: float = Field(0.0, ge=0.0)
    seed: int = 0


class AgentCancelled(QuarryError):
    """The user cancelled the run (Ctrl-C in the chat shell); nothing is stored."""


class Step(BaseModel):
    """One tool call the model made and what the tool returned."""

    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    result: str
    ok: bool
    tool_call_id: str
    latency_s: float = 0.0


class AgentResult(BaseModel):
    """The outcome of one run: the answer, its checked citations, the steps and their cost."""

    question: str
    answer: str
    citations: list[str] = Field(default_factory=list)
    unknown_citations: list[str] = Field(default_factory=list)
    steps: list[Step] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    latency_s: float = 0.0
    model: str = ""
    forced: bool = False
    #: Why the model's own answer was replaced by a rendering of the rows (grounding), and the values it lacked.
    fallback: str | None = None
    unfound: list[str] = Field(default_factory=list)
    trace_id: str | None = None
    messages: list[ChatMessage] = Field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The `quarry ask --json` object (the conversation itself lives in the trace)."""
        return self.model_dump(mode="json", exclude={"messages"})


def _check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise AgentCancelled("cancelled")


def _signature(call: ToolCall) -> str:
    """A tool call's name and arguments, for spotting a call repeated word for word."""
    arguments = call.arguments if isinstance(call.arguments, str) else json.dumps(call.arguments, sort_keys=True)
    return f"{call.name} {arguments}"


def _with_ids(reply: Reply, step_no: int) -> Reply:
    """Give every tool call an id, so each `role: tool` message can point at its call."""
    calls = [
        call if call.id else call.model_copy(update={"id": f"call_{step_no}_{i}"})
        for i, call in enumerate(reply.tool_calls)
    ]
    return reply.model_copy(update={"tool_calls": calls})


def _run_call(call: ToolCall, tools: dict[str, Tool], ctx: ToolContext) -> Step:
    started = perf_counter()
    result = run_tool(tools, call.name, call.arguments, ctx)
    return Step(
        tool=call.name, arguments=call.arguments, result=result.content, ok=result.ok,
        tool_call_id=call.id, latency_s=perf_counter() - started,
    )


class _Run:
    """The mutable state of one run: the conversation, the steps and the cost so far."""

    def __init__(self, model: ChatModel, tools: dict[str, Tool], ctx: ToolContext, profile: Profile, max_tokens: int,
                 on_step: Callable[[Step], None] | None, cancel: threading.Event | None, sampling: Sampling):
        self.model, self.tools, self.ctx, self.sampling = model, tools, ctx, sampling
        self.specs = tool_specs(tools, compact=profile == "student")
        self.max_tokens, self.on_step, self.cancel = max_tokens, on_step, cancel
        self.messages: list[ChatMessage] = []
        self.steps: list[Step] = []
        self.usage = Usage()
        self.step_usage: list[dict[str, Any]] = []

    def call(self, tools: list[dict[str, Any]] | None, tool_choice: str | None = None,
             temperature: float = 0.0) -> Reply:
        """One model call, between steps only: a cancel request is honoured here."""
        _check_cancel(self.cancel)
        temperature = max(temperature, self.sampling.temperature)
        seed = self.sampling.seed * _SEED_STRIDE + len(self.step_usage)
        reply = self.model.chat(self.messages, tools=tools, max_tokens=self.max_tokens, tool_choice=tool_choice,
                                temperature=temperature, seed=seed if temperature else None)
        reply = _with_ids(reply, len(self.step_usage))
        self.usage += reply.usage
        self.step_usage.append({**reply.usage.model_dump(), "latency_s": round(reply.latency_s, 4)})
        return reply

    def act(self, max_steps: int) -> str | None:
        """Up to `max_steps` model calls offered the tools; the final answer, or None if none came."""
        must_call = True  # the first reply must be a tool call: answers are read off tool results
        sample = False  # after a cut-off call, greedy decoding would write the same runaway again
        failed: set[str] = set()
        for _ in range(max_steps):
            try:
                reply = self.call(self.specs, "required" if must_call else None, RETRY_TEMPERATURE if sample else 0.0)
                # Greedy decoding repeats a failed call word for word; a sampled retry can get out of it.
                for _ in range(RETRIES):
                    if not any(_signature(c) in failed for c in reply.tool_calls):
                        break
                    reply = self.call(self.specs, "required", temperature=RETRY_TEMPERATURE)
            except ContextFull:
                return None
            self.messages.append(reply.as_assistant_message())
            sample = not reply.tool_calls and must_call  # e.g. cut off at max_tokens inside the call
            if sample:
                self.messages.append({"role": "user", "content": INCOMPLETE_CALL})
                continue
            if not reply.tool_calls:
                return reply.text.strip() or NO_ANSWER
            for call in reply.tool_calls:  # every call gets its result, or the conversation is malformed
                step = _run_call(call, self.tools, self.ctx)
                self.steps.append(step)
                self.messages.append({"role": "tool", "tool_call_id": call.id, "content": step.result})
                if self.on_step:
                    self.on_step(step)
            failed |= {_signature(c) for c, step in zip(reply.tool_calls, self.steps[-len(reply.tool_calls):])
                       if not step.ok}
            # After a failed call the next reply must be a call again (the repair), not prose about it.
            must_call = not self.steps[-1].ok
        return None

    def force_answer(self) -> str:
        """Ask once more for text only; a reply that still is no text becomes NO_ANSWER.

        The tools stay in the request with tool_choice "none" rather than being dropped: templates that
        write tools into the system prompt would otherwise render another prefix, and the whole prompt
        would be evaluated again instead of coming from the KV cache (measured: ~23 s on a 1,400-token
        student prompt with SmolLM2 on 2 cores)."""
        self.messages.append({"role": "user", "content": FORCE_ANSWER})
        try:
            reply = self.call(self.specs, tool_choice="none")
        except ContextFull:
            return NO_ANSWER
        text = reply.text.strip() if not reply.tool_calls else ""
        self.messages.append({"role": "assistant", "content": text or None})
        return text or NO_ANSWER


def offered_tools(model: ChatModel, tools: dict[str, Tool]) -> dict[str, Tool]:
    """Of `tools`, those a fine-tuned model learned to call (all of them for other models): an adapter is served
    the prompt it was trained on, not tools added to Quarry after it."""
    trained = getattr(model, "trained_tools", None)  # only a local model with an adapter knows
    return tools if trained is None else {name: t for name, t in tools.items() if name in trained}


def run_agent(
    question: str,
    model: ChatModel,
    tools: dict[str, Tool],
    ctx: ToolContext,
    profile: Profile = "teacher",
    max_steps: int = 6,
    *,
    schema: str | None = None,
    max_tokens: int = 512,
    on_step: Callable[[Step], None] | None = None,
    cancel: threading.Event | None = None,
    metadata: dict[str, Any] | None = None,
    sampling: Sampling | None = None,
) -> AgentResult:
    """Answer `question` with at most `max_steps` model calls offered `tools`, then store the trace.

    `schema` defaults to the registry's description of the sql views; `on_step` sees each tool
    call as it finishes; setting `cancel` stops the run between steps (AgentCancelled); `sampling`
    decodes every call at a temperature with a seed (default greedy).
    """
    if schema is None:
        from quarry.agent.tools.registry import schema_description

        schema = schema_description()
    started = perf_counter()
    tools = offered_tools(model, tools)
    run = _Run(model, tools, ctx, profile, max_tokens, on_step, cancel, sampling or Sampling())
    run.messages = opening(profile, schema, question, ctx.now)
    answer = run.act(max_steps)
    forced = answer is None
    if answer is None:
        answer = run.force_answer()
    checked = ground(answer, [s.result for s in run.steps if s.ok], ctx.now)
    citations = check_citations(ctx.store.reader(), checked.answer)
    result = AgentResult(
        question=question, answer=checked.answer, citations=citations.known,
        unknown_citations=[*checked.removed_citations, *citations.unknown], steps=run.steps, usage=run.usage,
        latency_s=perf_counter() - started, model=model.model_id, forced=forced, messages=run.messages,
        fallback=checked.fallback, unfound=checked.unfound,
    )
    result.trace_id = _store(result, run.specs, ctx, TraceMetadata.model_validate({
        "profile": profile, "max_steps": max_steps, "now": ctx.now.isoformat(),
        "step_usage": run.step_usage, "student_system_prompt": system_prompt("student", schema),
        "student_tools": tool_specs(tools, compact=True), "forced": result.forced,
        "unknown_citations": result.unknown_citations, "fallback": result.fallback, "unfound": result.unfound,
        **(metadata or {}),
    }))
    return result


def _store(result: AgentResult, specs: list[dict[str, Any]], ctx: ToolContext, metadata: TraceMetadata) -> str:
    trace = Trace(
        model=result.model, question=result.question, messages=result.messages, tools=specs,
        final_answer=result.answer, citations=result.citations, prompt_tokens=result.usage.prompt_tokens,
        completion_tokens=result.usage.completion_tokens, latency_s=round(result.latency_s, 4),
        metadata=metadata,
    )
    with ctx.store.writer() as con:
        return insert_trace(con, trace)
