"""One user's agent session: a store, a model chosen by spec (opened on first use), the tools, and
the last trace — shared by `quarry ask`, the chat shell and the agent benchmark.

The caller chooses the model spec and how specs open (`opener`): the CLI, which composes the
program, passes one that knows the adapter registry's live adapter.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from quarry.agent.local_time import localize, user_zone
from quarry.agent.loop import AgentResult, Step, run_agent
from quarry.agent.prompts import Profile
from quarry.agent.tools.base import Tool, ToolContext, ToolResult, deny_writes, run_tool
from quarry.config import load_settings
from quarry.errors import StoreError
from quarry.llm.base import ChatModel
from quarry.llm.specs import has_adapter, open_model
from quarry.store.session import StoreSession
from quarry.store.traces import Feedback, Trace, get_trace, set_feedback


def default_profile(spec: str) -> Profile:
    """The student prompt for a fine-tuned model (it learned the rules), else the teacher prompt."""
    return "student" if has_adapter(spec) else "teacher"


class AgentSession:
    """Holds what consecutive questions share; not thread-safe (one question at a time)."""

    def __init__(
        self,
        db: Path,
        model_spec: str,
        *,
        opener: Callable[[str], ChatModel] = open_model,
        profile: Profile | None = None,
        confirm: Callable[[str], bool] = deny_writes,
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
        self.zone = user_zone(load_settings().timezone)
        self.ctx = ToolContext(store=self.store, confirm=confirm, now=now or datetime.now(timezone.utc))
        self.max_steps = max_steps
        self.max_tokens = max_tokens
        self._profile = profile
        self.model_spec = model_spec
        self.opener = opener
        self._model: ChatModel | None = None
        self.last_trace_id: str | None = None

    @property
    def profile(self) -> Profile:
        return self._profile or default_profile(self.model_spec)

    @property
    def model(self) -> ChatModel:
        """The model, opened on first use (loading a local model takes seconds)."""
        if self._model is None:
            self._model = self.opener(self.model_spec)
        return self._model

    def set_model(self, spec: str) -> None:
        """Switch models; the new one is opened (and its spec checked) right away."""
        self.use_model(self.opener(spec), spec)

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

    def shown(self, result: AgentResult) -> str:
        """The answer as the user reads it: times in their zone, the event's own zone beside (agent.local_time)."""
        return localize(result.answer, self.zone, self._event_zone)

    def _event_zone(self, instant: datetime) -> str | None:
        row = self.store.reader().execute(
            "SELECT timezone FROM events WHERE starts_at = ? AND timezone IS NOT NULL LIMIT 1", [instant]).fetchone()
        return row[0] if row else None

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
