"""The local backend: a GGUF model (plus an optional GGUF LoRA adapter) run in-process by llama.cpp.

Prompts are rendered by the shared ChatFormat and tokenized with special tokens on and no added BOS
(the template writes BOS itself when the model wants one). `json_schema` and `tools` are enforced
while decoding (quarry.llm.grammar), so even a 135M model emits a parseable step. Loaded models are
cached per process by (path, adapter, n_ctx); calls on one model are serialized by its lock. The
evaluated system prompt and tool specs are kept on disk (quarry.llm.prefix_cache), so a new process
starts its first answer from the question.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from time import perf_counter
from typing import Any

from quarry import config
from quarry.errors import ModelError
from quarry.llm import accounting
from quarry.llm.base import ChatMessage, Reply, ToolSpec, Usage
from quarry.llm.chat_format import ChatFormat
from quarry.llm.decode import generate
from quarry.llm.gguf_meta import read_metadata
from quarry.llm.grammar import step_grammar
from quarry.llm.prefix_cache import PrefixCache
from quarry.llm.tokens import shared_length

#: Room for the teacher prompt and six tool steps; every catalog model was trained on at least this.
DEFAULT_N_CTX = 8192


def default_threads() -> int:
    """Config/env `threads`, else one thread per two cores (measured: see bench/llm.py and the README)."""
    configured = config.load_settings().threads
    if configured:
        return configured
    return max(1, (os.cpu_count() or 2) // 2)


@dataclass
class _Loaded:
    llm: Any
    lock: threading.Lock


@lru_cache(maxsize=4)
def _load(path: str, adapter: str | None, n_ctx: int, threads: int) -> _Loaded:
    from quarry.llm.llamacpp import llama_cpp

    try:
        llm = llama_cpp.Llama(
            model_path=path, lora_path=adapter, n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
            n_batch=512, verbose=False,
        )
    except (ValueError, RuntimeError) as exc:
        what = f"{path} with adapter {adapter}" if adapter else path
        raise ModelError(f"{what}: llama.cpp cannot load it: {exc}") from exc
    return _Loaded(llm, threading.Lock())


#: GGUF metadata key under which the fine-tuning export records the chat template it trained with.
ADAPTER_TEMPLATE_KEY = "quarry.chat_template_sha256"
#: The tools the adapter's training prompts offered, comma-separated (absent in adapters made before it).
ADAPTER_TOOLS_KEY = "quarry.tools"


def check_adapter(adapter: Path, chat_format: ChatFormat) -> tuple[str, ...] | None:
    """Refuse an adapter trained on a different rendering than the one we would serve it with; return the
    names of the tools it was trained with (None when the adapter does not say)."""
    if not adapter.is_file():
        raise ModelError(f"{adapter}: adapter file not found")
    meta = read_metadata(adapter)
    trained = meta.get(ADAPTER_TEMPLATE_KEY)
    if trained is not None and trained != chat_format.template_sha256:
        raise ModelError(
            f"{adapter}: trained with chat template {trained[:12]}, but {chat_format.name} renders with "
            f"{chat_format.template_sha256[:12]}; retrain the adapter or serve it on its own base model"
        )
    tools = meta.get(ADAPTER_TOOLS_KEY)
    return tuple(tools.split(",")) if tools else None


class LocalModel:
    """A ChatModel over llama.cpp; `model_id` is the spec string it was opened with."""

    def __init__(
        self, path: str | Path, *, adapter: str | Path | None = None, n_ctx: int = DEFAULT_N_CTX,
        threads: int | None = None, model_id: str | None = None, prefix_cache: bool = True,
    ):
        self.path = Path(path)
        self.adapter = Path(adapter) if adapter else None
        self.format = ChatFormat.for_gguf(self.path)
        #: The tools the adapter learned to call: the agent offers only those (None: every tool).
        self.trained_tools = check_adapter(self.adapter, self.format) if self.adapter is not None else None
        self.model_id = model_id or f"local:{self.path}"
        self.n_ctx = n_ctx
        self.threads = threads
        self.prefix_cache = PrefixCache(config.quarry_home() / "cache" / "kv", self.path, self.adapter,
                                        n_ctx) if prefix_cache else None
        self._prefixes: dict[str, list[int]] = {}

    @property
    def _loaded(self) -> _Loaded:
        """Loaded on first use, so opening a fallback chain does not load models it may never call."""
        adapter = str(self.adapter.resolve()) if self.adapter else None
        return _load(str(self.path.resolve()), adapter, self.n_ctx, self.threads or default_threads())

    @property
    def llm(self) -> Any:
        """The underlying llama_cpp.Llama (shared by every LocalModel on the same file/adapter/n_ctx)."""
        return self._loaded.llm

    def tokenize(self, text: str) -> list[int]:
        """Token ids of rendered prompt text: special tokens parsed (not literal tool-call tags), no BOS added."""
        return [token for piece, special in self.format.pieces(text)
                for token in self.llm.tokenize(piece.encode("utf-8"), add_bos=False, special=special)]

    def fixed_prefix(self, messages: list[ChatMessage], tools: list[ToolSpec] | None) -> list[int]:
        """The tokens before the first user message's text: the same in every run that has this system
        prompt and these tools (found by rendering two different questions), empty without a system prompt."""
        if len(messages) < 2 or messages[0].get("role") != "system" or messages[1].get("role") != "user":
            return []
        key = json.dumps([messages[0], tools], sort_keys=True)  # every step of a run asks again: render once
        if key not in self._prefixes:
            renders = [self.tokenize(self.format.render([messages[0], {"role": "user", "content": probe}], tools,
                                                        add_generation_prompt=False)) for probe in ("A", "B")]
            self._prefixes[key] = renders[0][: shared_length(*renders)]
        return self._prefixes[key]

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
        on_text: Callable[[str], None] | None = None,
    ) -> Reply:
        """One reply. Beyond the ChatModel protocol: `tool_choice` (auto/required/none/a tool name, as in
        OpenAI) and `on_text`, which receives text pieces as they are decoded (for streaming)."""
        start = perf_counter()
        prompt = self.tokenize(self.format.render(messages, tools, add_generation_prompt=True))
        grammar = step_grammar(json_schema, tools, tool_choice)
        prefix = self.fixed_prefix(messages, tools) if self.prefix_cache else []
        with self._loaded.lock:
            primed = 0
            if prefix and shared_length(prompt, prefix) == len(prefix):
                primed = self.prefix_cache.prime(self.llm, prefix)
            gen = generate(
                self.llm, prompt, grammar=grammar, max_tokens=max_tokens, temperature=temperature, seed=seed,
                on_text=on_text,
            )
        content, calls = self.format.parse_reply(gen.text) if tools else (gen.text.strip(), [])
        reply = Reply(
            text=content,
            tool_calls=calls,
            usage=Usage(prompt_tokens=gen.prompt_tokens, completion_tokens=gen.completion_tokens,
                        cached_tokens=gen.cached_tokens - primed),
            latency_s=perf_counter() - start,
            model=self.model_id,
            finish_reason="tool_calls" if calls else gen.finish_reason,
        )
        return accounting.record(reply)
