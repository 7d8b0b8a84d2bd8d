"""The evaluated state of a prompt's fixed prefix (system prompt plus tool specs), kept on disk per model.

A fresh process would otherwise evaluate the ~1,300-token prefix before its first answer (about 15 s for
SmolLM2-135M on one CPU thread). The prefix is the same tokens in every run (today's date opens the
user's turn, quarry.agent.prompts), so its KV cache is saved once with llama.cpp's sequence-state file
and loaded by later processes, which then evaluate only the question.

Files live in `$QUARRY_HOME/cache/kv/`, named by a hash of everything the state depends on: the model
and adapter files (path, size, mtime), llama.cpp's version, n_ctx and the prefix tokens. The newest
`KEEP` files are kept. A file that does not load is deleted and the prefix evaluated again: this is a
cache, never a source of truth.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
from pathlib import Path
from typing import Any

from quarry.llm.tokens import shared_length
from quarry.llm.llamacpp import llama_cpp

#: Prefixes shorter than this are cheaper to evaluate than to load.
MIN_TOKENS = 128
#: Saved prefix states kept (newest first); each is ~25 KB per token for the catalog's small models.
KEEP = 8


def _file_identity(path: Path | None) -> str:
    if path is None:
        return "-"
    stat = path.stat()
    return f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


class PrefixCache:
    """Saved prefix states for one loaded model (a GGUF file, its adapter, its context size)."""

    def __init__(self, directory: Path, model: Path, adapter: Path | None, n_ctx: int):
        self.directory = directory
        self.identity = "|".join((_file_identity(model), _file_identity(adapter), str(n_ctx),
                                  llama_cpp.__version__))

    def path_for(self, prefix: list[int]) -> Path:
        digest = hashlib.sha256(self.identity.encode())
        digest.update(b"".join(t.to_bytes(4, "little", signed=True) for t in prefix))
        return self.directory / f"{digest.hexdigest()[:32]}.kv"

    def prime(self, llm: Any, prefix: list[int]) -> int:
        """Make `llm`'s KV cache hold `prefix`: already there, else loaded from disk, else evaluated and saved.

        Returns how many tokens it evaluated (0 when the state was in memory or on disk)."""
        if len(prefix) < MIN_TOKENS:
            return 0
        in_memory = shared_length(llm.input_ids[: llm.n_tokens], prefix)
        if in_memory == len(prefix):
            return 0
        path = self.path_for(prefix)
        if path.is_file() and self._load(llm, path, prefix):
            os.utime(path)  # newest-used first when pruning
            return 0
        llm.n_tokens = in_memory
        llm.eval(prefix[in_memory:])
        self._save(llm, path, prefix)
        return len(prefix) - in_memory

    def _load(self, llm: Any, path: Path, prefix: list[int]) -> bool:
        tokens = (llama_cpp.llama_token * len(prefix))()
        count = ctypes.c_size_t(0)
        llm._ctx.kv_cache_seq_rm(-1, 0, -1)
        llm.n_tokens = 0
        read = llama_cpp.llama_state_seq_load_file(llm.ctx, str(path).encode(), 0, tokens, len(prefix),
                                                   ctypes.byref(count))
        if read == 0 or count.value != len(prefix) or list(tokens) != prefix:
            llm._ctx.kv_cache_seq_rm(-1, 0, -1)
            path.unlink(missing_ok=True)
            return False
        llm.input_ids[: len(prefix)] = prefix
        llm.n_tokens = len(prefix)
        return True

    def _save(self, llm: Any, path: Path, prefix: list[int]) -> None:
        """Write the state atomically (a reader never sees half a file), then prune old files."""
        self.directory.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.part")
        tokens = (llama_cpp.llama_token * len(prefix))(*prefix)
        if llama_cpp.llama_state_seq_save_file(llm.ctx, str(partial).encode(), 0, tokens, len(prefix)):
            os.replace(partial, path)
        else:
            partial.unlink(missing_ok=True)
        saved = sorted(self.directory.glob("*.kv"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in saved[KEEP:]:
            old.unlink(missing_ok=True)
