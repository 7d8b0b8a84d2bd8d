"""One user's agent session: a store, a model chosen by spec (opened on first use), the tools, and
the last trace — shared by `quarry ask`, the chat shell and the agent benchmark.

Model choice: an explicit spec wins; otherwise the registry's active owned model (run with the
short student prompt), else the configured teacher (run with the full teacher prompt).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from quarry.agent.loop import AgentResult, Step, run_agent
from quarry.agent.prompts import Profile
from quarry.agent.replay import SPEC_PREFIX, open_replay
from quarry.agent.tools.base import Tool, ToolContext, ToolResult, run_tool
from quarry.config import load_settings
from quarry.errors import StoreError
from quarry.llm.base import ChatModel
from quarry.llm.specs import ADAPTER_SEP, open_model
from quarry.store.session import StoreSession
from quarry.store.traces import Feedback, Trace, get_trace, set_feedback


def active_owned_spec() -> str | None:
    """The registry's active fine-tuned model, if the finetune package and an active adapter exist."""
    try:
        from quarry.finetune.registry import active_model_spec
    except ImportError:
        return None
    return active_model_spec()


def default_model_spec() -> str:
    return active_owned_spec() or load_settings().teacher


def default_profile(spec: str) -> Profile:
    """The student prompt for a fine-tuned model (an adapter spec or the active owned model: it learned
    the rules), else the teacher prompt."""
    return "student" if ADAPTER_SEP in spec or spec == active_owned_spec() else "teacher"


def open_agent_model(spec: str) -> ChatModel:
    """A model from a spec; `replay:PATH` (a testing/debugging aid) is handled here, the rest by quarry.llm."""
    return open_replay(spec) if spec.startswith(SPEC_PREFIX) else open_model(spec)


def _deny(_: str) -> bool:
    return False


class AgentSession:
    """Holds what consecutive questions share; not thread-safe (one question at a time)."""

    def __init__(
        self,
        db: Path,
        model_spec: str | None = None,
        *,
        profile: Profile | None = None,
        confirm: Callable[[str], bool] = _deny,
        now: datetime | None = None,
        max_steps: int = 6,
        max_tokens: int = 512,
        tools: dict[str, Tool] | None = None,
    ):
        """`tools` defaults to every registered tool; pass a subset to restrict what the agent may call."""
        self.store = StoreSession(db)
        if tools is None:
            from quarry.agent.tools.registry import all_tools

            tools = all_tools()
        self.tools = tools
        self.fixed_now = now
        self.ctx = ToolContext(store=self.store, confirm=confirm, now=now or datetime.now(timezone.utc))
        self.max_steps = max_steps
        self.max_tokens = max_tokens
        self._profile = profile
        self.model_spec = model_spec or default_model_spec()
        self._model: ChatModel | None = None
        self.last_trace_id: str | None = None

    @property
    def profile(self) -> Profile:
        return self._profile or default_profile(self.model_spec)

    @property
    def model(self) -> ChatModel:
        """The model, opened on first use (loading a local model takes seconds)."""
        if self._model is None:
            self._model = open_agent_model(self.model_spec)
        return self._model

    def set_model(self, spec: str) -> None:
        """Switch models; the new one is opened (and its spec checked) right away."""
        self.use_model(open_agent_model(spec), spec)

    def use_model(self, model: ChatModel, spec: str | None = None) -> None:
        """Run the next questions with an already opened model (a replay, a shared local model)."""
        self.model_spec, self._model = spec or model.model_id, model

    def ask(
        self,
        question: str,
        *,
        on_step: Callable[[Step], None] | None = None,
        cancel: threading.Event | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> AgentResult:
        """Run the agent on one question; the trace id is remembered for feedback."""
        self.ctx.now = self.fixed_now or datetime.now(timezone.utc)
        result = run_agent(
            question, self.model, self.tools, self.ctx, self.profile, self.max_steps,
            max_tokens=self.max_tokens, on_step=on_step, cancel=cancel,
            metadata={"model_spec": self.model_spec, **(metadata or {})},
        )
        self.last_trace_id = result.trace_id
        return result

    def run_sql(self, query: str) -> ToolResult:
        """One query through the agent's own sql tool: same guard, same read-only connection."""
        return run_tool(self.tools, "sql", {"query": query}, self.ctx)

    def _require_trace(self) -> str:
        if not self.last_trace_id:
            raise StoreError("no trace yet in this session: ask a question first")
        return self.last_trace_id

    def feedback(self, value: Feedback) -> str:
        """Store the user's judgement on the last trace; returns its id."""
        with self.store.writer() as con:
            return set_feedback(con, self._require_trace(), value)

    def last_trace(self) -> Trace:
        return get_trace(self.store.reader(), self._require_trace())

    def close(self) -> None:
        self.store.close()
