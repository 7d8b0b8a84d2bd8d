"""Model specs: one string says which model, `open_model` says where it runs.

Forms: `local:NAME` (catalog), `local:/path/model.gguf`, `local:NAME+adapter:/path/lora.gguf`,
`local:NAME+adapter:active` (the adapter registry's active adapter for NAME), `openai:MODEL`
(OPENAI_API_KEY, optional OPENAI_BASE_URL), `http://HOST:PORT/v1#MODEL` (any OpenAI-compatible
server), `hf:REPO/FILE.gguf` (downloaded via huggingface_hub where a hub is reachable), `replay:PATH`
(a stored conversation replayed, for tests and debugging), and a comma-separated fallback chain `A,B`
that moves on when a provider refuses, times out or rate-limits.

`parse_spec` is the only parser of these strings. `+adapter:active` names the adapter registry's
live adapter; the registry sits above this layer, so whoever composes the program passes its lookup
(`active_adapter`) to `open_model` instead of this module importing it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from quarry.errors import ModelError, ProviderRefused
from quarry.llm.base import ChatMessage, ChatModel, Reply, ToolSpec

log = logging.getLogger(__name__)

ADAPTER_SEP = "+adapter:"
ACTIVE = "active"

AdapterLookup = Callable[[str], Path | None]
"""Base model name -> the live adapter's GGUF trained on it, or None."""


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


class ModelSpec(BaseModel):
    """One provider of a spec string, parsed."""

    text: str
    kind: Literal["local", "hf", "openai", "http", "replay"]
    target: str  # catalog name or .gguf path, hf REPO/FILE, OpenAI model, base URL, or replay file
    model: str | None = None  # http: the served model's name (after '#')
    adapter: str | None = None  # local/hf: a LoRA GGUF path, or ACTIVE

    def render(self, adapter: str | None) -> str:
        """This provider's spec string with another adapter (None: the bare base model)."""
        base = self.text.partition(ADAPTER_SEP)[0]
        return base + (ADAPTER_SEP + adapter if adapter else "")


_FORMS = ("use local:NAME, local:/path.gguf, local:NAME+adapter:/path/lora.gguf, openai:MODEL, "
          "http://HOST:PORT/v1#MODEL, hf:REPO/FILE.gguf, replay:/path/trace.json or a comma-separated chain")


def _parse_one(text: str) -> ModelSpec:
    kind, _, body = text.partition(":")
    if kind in ("local", "hf") and body:
        target, _, adapter = body.partition(ADAPTER_SEP)
        return ModelSpec(text=text, kind=kind, target=target, adapter=adapter or None)
    if kind in ("openai", "replay") and body:
        return ModelSpec(text=text, kind=kind, target=body)
    if kind in ("http", "https"):
        base_url, _, model = text.partition("#")
        if not model:
            raise ModelError(f"model spec {text!r}: add the model name after '#', e.g. http://127.0.0.1:8000/v1#local")
        return ModelSpec(text=text, kind="http", target=base_url, model=model)
    raise ModelError(f"model spec {text!r} not understood; {_FORMS}")


def parse_spec(spec: str) -> list[ModelSpec]:
    """The providers of a spec string, in fallback order (ModelError when one is not understood)."""
    parts = [part.strip() for part in spec.split(",") if part.strip()]
    if not parts:
        raise ModelError("empty model spec")
    return [_parse_one(part) for part in parts]


def parse_model_id(model_id: str) -> list[ModelSpec]:
    """The providers behind a model's id: its spec when it was opened from one, none for a model built by
    hand (a replay in a test, a wrapper), whose id need not be a spec."""
    try:
        return parse_spec(model_id)
    except ModelError:
        return []


def has_adapter(model_id: str) -> bool:
    """Whether the model runs a fine-tuned adapter (such a model gets the short student prompt)."""
    return any(part.adapter for part in parse_model_id(model_id))


def _resolve_local(part: ModelSpec, active_adapter: AdapterLookup | None) -> tuple[Path, Path | None]:
    """(GGUF path, adapter path) of a local or hf provider; a missing live adapter is reported before a missing base."""
    from quarry.llm.catalog import CATALOG, model_path

    if part.kind == "hf":
        from quarry.llm.pull import pull_hf

        path = pull_hf(part.target)
        return path, _adapter_for(part, path.stem, active_adapter)
    if part.target in CATALOG:
        adapter = _adapter_for(part, part.target, active_adapter)
        return model_path(part.target), adapter
    path = Path(part.target).expanduser()
    if path.suffix == ".gguf" or "/" in part.target:
        adapter = _adapter_for(part, path.stem, active_adapter)
        if not path.is_file():
            raise ModelError(f"{path}: model file not found")
        return path, adapter
    raise ModelError(f"unknown local model {part.target!r}; the catalog has: {', '.join(CATALOG)} (or give a .gguf path)")


def _adapter_for(part: ModelSpec, base_name: str, active_adapter: AdapterLookup | None) -> Path | None:
    if part.adapter != ACTIVE:
        return Path(part.adapter).expanduser() if part.adapter else None
    if active_adapter is None:
        raise ModelError(f"{part.text}: '+adapter:active' needs the adapter registry (open it through the CLI)")
    adapter_path = active_adapter(base_name)
    if adapter_path is None:  # serving the bare base under the owned model's name would mislead
        raise ModelError(f"{part.text}: no live adapter was trained on {base_name} "
                         "(`quarry models adapters` lists them and their bases; `quarry models activate NAME`)")
    return adapter_path


def _open_local(part: ModelSpec, active_adapter: AdapterLookup | None) -> ChatModel:
    from quarry.llm.local import LocalModel

    path, adapter_path = _resolve_local(part, active_adapter)
    return LocalModel(path, adapter=adapter_path, model_id=part.text)


def _open_one(part: ModelSpec, active_adapter: AdapterLookup | None) -> ChatModel:
    if part.kind in ("local", "hf"):
        return _open_local(part, active_adapter)
    if part.kind == "replay":
        from quarry.llm.replay import open_replay

        return open_replay(part.target)
    from quarry.llm.openai_backend import OpenAIModel

    if part.kind == "openai":
        return OpenAIModel.from_env(part.target, model_id=part.text)
    return OpenAIModel(part.model or "", base_url=part.target, api_key=None, model_id=part.text)


def open_model(spec: str, *, active_adapter: AdapterLookup | None = None) -> ChatModel:
    """The one entry point: a ChatModel for a spec string (see the module docstring for the forms)."""
    parts = parse_spec(spec)
    if len(parts) == 1:
        return _open_one(parts[0], active_adapter)
    return FallbackModel([_open_one(part, active_adapter) for part in parts], model_id=",".join(p.text for p in parts))
