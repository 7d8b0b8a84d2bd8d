"""The one interface every caller uses to talk to a language model.

Messages and tool specs are plain dicts in the OpenAI chat format everywhere (system/user/
assistant with `tool_calls`/tool with `tool_call_id`), so traces can be stored and replayed as-is.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field

#: One chat message in OpenAI format, e.g. {"role": "user", "content": "hi"}.
ChatMessage = dict[str, Any]
#: One tool in OpenAI format: {"type": "function", "function": {"name", "description", "parameters"}}.
ToolSpec = dict[str, Any]


class ToolCall(BaseModel):
    """A tool call the model asked for; `arguments` is already parsed from JSON."""

    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)

    def to_openai(self) -> dict[str, Any]:
        import json

        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": json.dumps(self.arguments, ensure_ascii=False)},
        }


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    #: Prompt tokens whose state was reused (in memory, or a saved prefix loaded from disk), not evaluated.
    cached_tokens: int = 0

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cached_tokens=self.cached_tokens + other.cached_tokens,
        )


class Reply(BaseModel):
    """What one chat call returned, with its cost in tokens and time."""

    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    latency_s: float = 0.0
    model: str = ""
    finish_reason: str | None = None

    def as_assistant_message(self) -> ChatMessage:
        """The reply as the assistant message to append to the conversation."""
        message: ChatMessage = {"role": "assistant", "content": self.text or None}
        if self.tool_calls:
            message["tool_calls"] = [call.to_openai() for call in self.tool_calls]
        return message


@runtime_checkable
class ChatModel(Protocol):
    """Anything that can answer a chat: local llama.cpp, an OpenAI-compatible server, a fallback chain.

    `json_schema`, when given, constrains the reply text to JSON valid against it (enforced while
    decoding on local models). `tools` are offered in OpenAI format; calls come back in `Reply.tool_calls`.
    `tool_choice` follows OpenAI: None/"auto", "required" (the reply must be a tool call), "none".
    """

    model_id: str

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
    ) -> Reply: ...
