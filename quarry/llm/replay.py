"""A ChatModel that replays the assistant turns of a stored conversation, for testing and debugging.

Given a trace (as `quarry traces show --json` prints it, one `traces export` JSONL record, or a bare
list of messages) it answers the n-th chat call with the n-th assistant message, whatever it is
asked. The loop's bookkeeping (tool runs, trace rows, token sums, citations) can so be exercised
deterministically, and a stored run can be re-executed against a changed store or tool.
Select it with the model spec `replay:/path/to/trace.json`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from quarry.errors import InputError, ModelError
from quarry.llm.base import ChatMessage, Reply, ToolCall, ToolSpec, Usage

SPEC_PREFIX = "replay:"


def _tool_call(raw: dict[str, Any]) -> ToolCall:
    function = raw.get("function", {})
    arguments = function.get("arguments") or {}
    if isinstance(arguments, str):
        arguments = json.loads(arguments) if arguments.strip() else {}
    return ToolCall(id=raw.get("id") or "", name=function.get("name", ""), arguments=arguments)


def _approx_tokens(data: Any) -> int:
    """About four characters a token: replayed turns have no tokenizer, but sums must be non-zero."""
    return max(1, len(json.dumps(data, ensure_ascii=False)) // 4)


class ReplayModel:
    """Replays assistant turns in order; usage comes from the trace's `step_usage` when present."""

    def __init__(self, turns: list[ChatMessage], usages: list[Usage] | None = None, model_id: str = "replay"):
        self.turns = turns
        self.usages = usages or []
        self.model_id = model_id
        self.calls = 0

    @classmethod
    def from_record(cls, record: dict[str, Any] | list[ChatMessage], model_id: str = "replay") -> "ReplayModel":
        """From a trace dict, an export record, or a bare message list."""
        messages = record if isinstance(record, list) else record.get("messages", [])
        metadata = {} if isinstance(record, list) else (record.get("metadata") or {})
        turns = [m for m in messages if m.get("role") == "assistant"]
        usages = [Usage(prompt_tokens=u.get("prompt_tokens", 0), completion_tokens=u.get("completion_tokens", 0))
                  for u in metadata.get("step_usage", [])]
        return cls(turns, usages, model_id)

    @classmethod
    def from_file(cls, path: Path) -> "ReplayModel":
        """Read a .json trace or the first record of a .jsonl export."""
        try:
            text = path.read_text(encoding="utf-8")
            record = json.loads(text) if path.suffix != ".jsonl" else json.loads(text.splitlines()[0])
        except (OSError, IndexError, json.JSONDecodeError) as exc:
            raise InputError(f"{path}: cannot read replay trace: {exc}") from exc
        return cls.from_record(record, model_id=f"{SPEC_PREFIX}{path}")

    def chat(
        self,
        messages: list[ChatMessage],
        *,
        tools: list[ToolSpec] | None = None,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
        seed: int | None = None,
        tool_choice: str | None = None,
    ) -> Reply:
        if self.calls >= len(self.turns):
            raise ModelError(f"{self.model_id}: replay exhausted after {len(self.turns)} assistant turns")
        turn = self.turns[self.calls]
        usage = (self.usages[self.calls] if self.calls < len(self.usages)
                 else Usage(prompt_tokens=_approx_tokens(messages), completion_tokens=_approx_tokens(turn)))
        self.calls += 1
        calls = [_tool_call(c) for c in turn.get("tool_calls") or []]
        return Reply(
            text=turn.get("content") or "", tool_calls=calls, usage=usage, model=self.model_id,
            finish_reason="tool_calls" if calls else "stop",
        )


def open_replay(target: str) -> ReplayModel:
    """A ReplayModel over the trace file a `replay:PATH` spec names."""
    path = Path(target).expanduser()
    if not path.exists():
        raise InputError(f"{path}: no such replay trace file")
    return ReplayModel.from_file(path)
