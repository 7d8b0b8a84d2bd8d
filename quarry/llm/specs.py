"""Model specs: one string says which model, `open_model` says where it runs.

Forms: `local:NAME` (catalog), `local:/path/model.gguf`, `local:NAME+adapter:/path/lora.gguf`,
`local:NAME+adapter:active` (the adapter registry's active adapter for NAME), `openai:MODEL`
(OPENAI_API_KEY, optional OPENAI_BASE_URL), `http://HOST:PORT/v1#MODEL` (any OpenAI-compatible
server), `hf:REPO/FILE.gguf` (downloaded via huggingface_hub where a hub is reachable), and a
comma-separated fallback chain `A,B` that moves on when a provider refuses, times out or rate-limits.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from quarry.errors import ModelError, ProviderRefused
from quarry.llm.base import ChatMessage, ChatModel, Reply, ToolSpec

log = logging.getLogger(__name__)

ADAPTER_SEP = "+adapter:"


class FallbackModel:
    """Tries each model in order; moves on only when a provider refuses (ProviderRefused)."""

    def __init__(self, models: list[ChatModel], model_id: str):
        self.models = models
        self.model_id = model_id

    def chat(self, messages: list[ChatMessage], *, tools: list[ToolSpec] | None = None, **kwargs: Any) -> Reply:
        refusals: list[str] = []
        for model in self.models:
            try:
                reply = model.chat(messages, tools=tools, **kwargs)
            except ProviderRefused as exc:
                log.warning("model %s refused (%s); trying the next one", model.model_id, exc)
                refusals.append(f"{model.model_id}: {exc}")
                continue
            log.info("answered by %s", model.model_id)
            return reply
        raise ProviderRefused("every model in the chain refused: " + "; ".join(refusals))


def _resolve_local(target: str) -> tuple[Path, str]:
    """(GGUF path, base name for the adapter registry) of `NAME`, `/path.gguf` or `hf:REPO/FILE`."""
    from quarry.llm.catalog import CATALOG, model_path

    if target in CATALOG:
        return model_path(target), target
    if target.startswith("hf:"):
        from quarry.llm.pull import pull_hf

        path = pull_hf(target[3:])
        return path, path.stem
    path = Path(target).expanduser()
    if path.suffix == ".gguf" or "/" in target:
        if not path.is_file():
            raise ModelError(f"{path}: model file not found")
        return path, path.stem
    raise ModelError(f"unknown local model {target!r}; the catalog has: {', '.join(CATALOG)} (or give a .gguf path)")


def _open_local(spec: str, body: str) -> ChatModel:
    from quarry.llm.catalog import active_adapter
    from quarry.llm.local import LocalModel

    target, _, adapter = body.partition(ADAPTER_SEP)
    path, base_name = _resolve_local(target)
    adapter_path: Path | None = None
    if adapter == "active":
        adapter_path = active_adapter(base_name)
    elif adapter:
        adapter_path = Path(adapter).expanduser()
    return LocalModel(path, adapter=adapter_path, model_id=spec)


def _open_one(spec: str) -> ChatModel:
    kind, _, body = spec.partition(":")
    if kind == "local" and body:
        return _open_local(spec, body)
    if kind == "hf" and body:
        return _open_local(spec, spec)
    if kind == "openai" and body:
        from quarry.llm.openai_backend import OpenAIModel

        return OpenAIModel.from_env(body, model_id=spec)
    if kind in ("http", "https"):
        from quarry.llm.openai_backend import OpenAIModel

        base_url, _, model = spec.partition("#")
        if not model:
            raise ModelError(f"model spec {spec!r}: add the model name after '#', e.g. http://127.0.0.1:8000/v1#local")
        return OpenAIModel(model, base_url=base_url, api_key=None, model_id=spec)
    raise ModelError(
        f"model spec {spec!r} not understood; use local:NAME, local:/path.gguf, openai:MODEL, "
        "http://HOST:PORT/v1#MODEL or a comma-separated chain"
    )


def open_model(spec: str) -> ChatModel:
    """The one entry point: a ChatModel for a spec string (see the module docstring for the forms)."""
    parts = [part.strip() for part in spec.split(",") if part.strip()]
    if not parts:
        raise ModelError("empty model spec")
    if len(parts) == 1:
        return _open_one(parts[0])
    return FallbackModel([_open_one(part) for part in parts], model_id=",".join(parts))
