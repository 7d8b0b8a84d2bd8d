"""The OpenAI-compatible backend: OpenAI itself, `quarry serve`, Ollama, vLLM, LM Studio, llama.cpp's server.

Native `tools`; `response_format` json_schema (structured outputs), falling back to json_object with
the schema in the prompt when a server refuses json_schema. The openai client retries 429/5xx and
connection errors with exponential backoff; what still fails becomes ProviderRefused (connection
refused, timeout, rate limit, server error) so a fallback chain moves on, or ModelError otherwise.
"""

from __future__ import annotations

import json
import os
from time import perf_counter
from typing import Any

from quarry.errors import ModelError, ProviderRefused
from quarry.llm import accounting
from quarry.llm.base import ChatMessage, Reply, ToolCall, ToolSpec, Usage

#: Servers that accept requests without a key still need a non-empty one in the client.
_NO_KEY = "sk-no-key-needed"


def _wire_messages(messages: list[ChatMessage]) -> list[ChatMessage]:
    """OpenAI wants tool call arguments as JSON strings; our callers may hold dicts."""
    out = []
    for message in messages:
        if message.get("tool_calls"):
            calls = []
            for call in message["tool_calls"]:
                args = call["function"].get("arguments", {})
                text = args if isinstance(args, str) else json.dumps(args, ensure_ascii=False)
                calls.append({**call, "type": "function", "function": {**call["function"], "arguments": text}})
            message = {**message, "tool_calls": calls}
        out.append(message)
    return out


def _schema_in_prompt(messages: list[ChatMessage], json_schema: dict[str, Any]) -> list[ChatMessage]:
    """For servers without structured outputs: ask for the schema in words (json_object mode enforces JSON)."""
    note = "Reply with one JSON object only, valid against this JSON schema:\n" + json.dumps(json_schema)
    if messages and messages[0]["role"] == "system":
        return [{**messages[0], "content": f"{messages[0].get('content') or ''}\n\n{note}"}, *messages[1:]]
    return [{"role": "system", "content": note}, *messages]


def _tool_calls(message: Any) -> list[ToolCall]:
    calls = []
    for call in message.tool_calls or []:
        try:
            args = json.loads(call.function.arguments or "{}")
        except json.JSONDecodeError as exc:
            raise ModelError(f"tool call {call.function.name}: arguments are not JSON: {exc}") from exc
        calls.append(ToolCall(id=call.id or "", name=call.function.name, arguments=args))
    return calls


class OpenAIModel:
    """A ChatModel over any server that speaks the OpenAI chat completions API."""

    def __init__(
        self, model: str, *, base_url: str | None = None, api_key: str | None = None, model_id: str | None = None,
        timeout: float = 120.0, max_retries: int = 2,
    ):
        import openai

        self.model = model
        self.model_id = model_id or f"openai:{model}"
        self.base_url = base_url
        self._client = openai.OpenAI(
            api_key=api_key or _NO_KEY, base_url=base_url, timeout=timeout, max_retries=max_retries
        )
        self._json_schema_ok = True

    @classmethod
    def from_env(cls, model: str, *, model_id: str | None = None) -> "OpenAIModel":
        """OpenAI (or OPENAI_BASE_URL) with OPENAI_API_KEY; a clear error when the key is missing."""
        key = os.environ.get("OPENAI_API_KEY")
        if not key:
            raise ModelError(f"{model_id or model}: OPENAI_API_KEY is not set (export it, or use a local: model)")
        return cls(model, base_url=os.environ.get("OPENAI_BASE_URL") or None, api_key=key, model_id=model_id)

    def _create(self, **kwargs: Any) -> Any:
        import openai

        where = self.base_url or "api.openai.com"
        try:
            return self._client.chat.completions.create(**kwargs)
        except openai.APITimeoutError as exc:
            raise ProviderRefused(f"{where}: timed out") from exc
        except openai.APIConnectionError as exc:
            raise ProviderRefused(f"{where}: cannot connect ({exc.__cause__ or exc})") from exc
        except openai.RateLimitError as exc:
            raise ProviderRefused(f"{where}: rate limited (429) after retries") from exc
        except openai.InternalServerError as exc:
            raise ProviderRefused(f"{where}: server error {exc.status_code} after retries") from exc
        except openai.AuthenticationError as exc:
            raise ModelError(f"{where}: API key rejected (401); check OPENAI_API_KEY") from exc
        except openai.APIStatusError as exc:
            raise ModelError(f"{where}: request refused ({exc.status_code}): {exc.message}".splitlines()[0]) from exc

    def _request(
        self, messages: list[ChatMessage], tools: list[ToolSpec] | None, json_schema: dict[str, Any] | None,
        max_tokens: int, temperature: float, seed: int | None, tool_choice: str | None,
    ) -> dict[str, Any]:
        """The chat.completions.create arguments for one call."""
        # OpenAI's newer models only take max_completion_tokens; many compatible servers only max_tokens.
        limit = "max_completion_tokens" if self.base_url is None else "max_tokens"
        kwargs: dict[str, Any] = {"model": self.model, "messages": _wire_messages(messages),
                                  limit: max_tokens, "temperature": temperature}
        if seed is not None:
            kwargs["seed"] = seed
        if tools:
            kwargs["tools"] = tools
            if tool_choice in ("auto", "required", "none"):
                kwargs["tool_choice"] = tool_choice
            elif tool_choice:
                kwargs["tool_choice"] = {"type": "function", "function": {"name": tool_choice}}
        if json_schema and self._json_schema_ok:
            kwargs["response_format"] = {
                "type": "json_schema", "json_schema": {"name": "reply", "schema": json_schema, "strict": False},
            }
        elif json_schema:
            kwargs["messages"] = _schema_in_prompt(kwargs["messages"], json_schema)
            kwargs["response_format"] = {"type": "json_object"}
        return kwargs

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
        """One reply; `tool_choice` (auto/required/none/a tool name) goes to servers that support it."""
        start = perf_counter()
        args = (messages, tools, json_schema, max_tokens, temperature, seed, tool_choice)
        try:
            response = self._create(**self._request(*args))
        except ModelError as exc:  # incl. a 500 from servers that choke on json_schema (llama-cpp-python's)
            if not (json_schema and self._json_schema_ok and "json_schema" in str(exc.__cause__ or exc)):
                raise
            self._json_schema_ok = False  # no structured outputs on this server: json_object from now on
            response = self._create(**self._request(*args))
        choice, usage = response.choices[0], response.usage
        reply = Reply(
            text=choice.message.content or "",
            tool_calls=_tool_calls(choice.message),
            usage=Usage(prompt_tokens=usage.prompt_tokens if usage else 0,
                        completion_tokens=usage.completion_tokens if usage else 0),
            latency_s=perf_counter() - start,
            model=self.model_id,
            finish_reason=choice.finish_reason,
        )
        return accounting.record(reply)
