"""`quarry serve`: an OpenAI-compatible HTTP server over Quarry's own model layer.

Speaks today's chat completions API where llama-cpp-python's bundled server does not: structured
outputs (`response_format` json_schema, and json_object with an optional `schema`), `tools` in and
`tool_calls` out parsed from the model's native `<tool_call>` output, `role: tool` messages rendered
by the model's own template, and SSE streaming. The same rendering/parsing code serves the agent.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from quarry.config import load_settings
from quarry.errors import ModelError, ProviderRefused
from quarry.llm.base import ChatModel, Reply
from quarry.llm.specs import ACTIVE, AdapterLookup, open_model, parse_spec


class ChatRequest(BaseModel):
    """The subset of the chat completions request Quarry acts on; unknown fields are ignored."""

    model_config = ConfigDict(extra="allow")

    model: str = ""
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    temperature: float | None = None
    seed: int | None = None
    stream: bool = False
    stream_options: dict[str, Any] | None = Field(default=None)

    def json_schema(self) -> dict[str, Any] | None:
        """The schema to enforce: json_schema.schema, or json_object's optional schema (else any object)."""
        fmt = self.response_format or {}
        if fmt.get("type") == "json_schema":
            spec = fmt.get("json_schema") or {}
            schema = spec.get("schema")
            if not isinstance(schema, dict):
                raise ModelError("response_format json_schema needs a `json_schema.schema` object")
            return schema
        if fmt.get("type") == "json_object":
            return fmt.get("schema") or {"type": "object"}
        return None

    def tool_choice_name(self) -> str | None:
        """OpenAI's tool_choice as Quarry's: auto/required/none, or the forced function's name."""
        if isinstance(self.tool_choice, dict):
            return (self.tool_choice.get("function") or {}).get("name")
        return self.tool_choice


def default_serve_spec() -> str:
    """The configured model, with its active adapter when it is a single local model."""
    spec = load_settings().default_model
    parts = parse_spec(spec)
    if len(parts) == 1 and parts[0].kind == "local" and parts[0].adapter is None:
        return parts[0].render(ACTIVE)
    return spec


def _message(reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.tool_calls:
        message["tool_calls"] = [call.to_openai() for call in reply.tool_calls]
    return message


def _usage(reply: Reply) -> dict[str, int]:
    usage = reply.usage
    return {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.prompt_tokens + usage.completion_tokens}


def _finish(reply: Reply) -> str:
    return "tool_calls" if reply.tool_calls else ("length" if reply.finish_reason == "length" else "stop")


class ChatService:
    """Runs requests against one opened model and shapes OpenAI responses."""

    def __init__(self, model: ChatModel, name: str):
        self.model = model
        self.name = name

    def _call(self, request: ChatRequest, on_text: Any = None) -> Reply:
        kwargs: dict[str, Any] = {
            "tools": request.tools or None, "json_schema": request.json_schema(),
            "max_tokens": request.max_completion_tokens or request.max_tokens or 512,
            "temperature": request.temperature or 0.0, "seed": request.seed,
        }
        if request.tools and request.tool_choice is not None:
            kwargs["tool_choice"] = request.tool_choice_name()
        if on_text is not None:
            kwargs["on_text"] = on_text
        return self.model.chat(request.messages, **kwargs)

    def complete(self, request: ChatRequest) -> dict[str, Any]:
        reply = self._call(request)
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:16]}", "object": "chat.completion", "created": int(time.time()),
            "model": request.model or self.name,
            "choices": [{"index": 0, "message": _message(reply), "finish_reason": _finish(reply)}],
            "usage": _usage(reply),
        }

    def stream(self, request: ChatRequest) -> Iterator[str]:
        """SSE chunks. Text streams as decoded; tool calls arrive whole once parsed (never as raw markup)."""
        base = {"id": f"chatcmpl-{uuid.uuid4().hex[:16]}", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": request.model or self.name}
        pieces: queue.Queue[str | Reply | Exception] = queue.Queue()
        live = not request.tools and hasattr(self.model, "format")  # only local models report text as decoded

        def work() -> None:
            try:
                pieces.put(self._call(request, on_text=pieces.put if live else None))
            except Exception as exc:  # handed to the streaming thread, which reports it to the client
                pieces.put(exc)

        def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
            body = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
            return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

        threading.Thread(target=work, daemon=True).start()
        yield chunk({"role": "assistant", "content": ""})
        while True:
            item = pieces.get()
            if isinstance(item, Exception):
                yield f"data: {json.dumps({'error': {'message': str(item)}})}\n\n"
                break
            if isinstance(item, str):
                yield chunk({"content": item})
                continue
            if not live:
                message = _message(item)
                delta = {"content": message["content"]} if message["content"] else {}
                if item.tool_calls:
                    delta["tool_calls"] = [{"index": i, **call} for i, call in enumerate(message["tool_calls"])]
                yield chunk(delta)
            usage = {"usage": _usage(item)} if (request.stream_options or {}).get("include_usage") else {}
            yield chunk({}, _finish(item), **usage)
            break
        yield "data: [DONE]\n\n"


def create_app(spec: str, active_adapter: AdapterLookup | None = None) -> Any:
    """The FastAPI app serving `spec` (opened now, so a bad spec fails before the port is bound)."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, StreamingResponse

    service = ChatService(open_model(spec, active_adapter=active_adapter), spec)
    app = FastAPI(title="quarry serve")

    @app.exception_handler(ModelError)
    def model_error(_: Request, exc: ModelError) -> JSONResponse:
        status = 503 if isinstance(exc, ProviderRefused) else 400
        return JSONResponse({"error": {"message": str(exc), "type": "invalid_request_error"}}, status_code=status)

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": spec, "object": "model", "created": 0, "owned_by": "quarry"}]}

    @app.post("/v1/chat/completions", response_model=None)
    def chat(request: ChatRequest) -> dict[str, Any] | StreamingResponse:
        if request.stream:
            return StreamingResponse(service.stream(request), media_type="text/event-stream")
        return service.complete(request)

    return app


def run_server(spec: str, *, host: str = "127.0.0.1", port: int = 8000,
               active_adapter: AdapterLookup | None = None) -> None:
    """Serve until interrupted."""
    import uvicorn

    uvicorn.run(create_app(spec, active_adapter), host=host, port=port, log_level="warning")
