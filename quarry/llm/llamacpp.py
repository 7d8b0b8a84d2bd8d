"""The one place llama-cpp-python is imported, with the environment it needs set first.

llama.cpp's OpenMP worker threads spin while waiting; on a small shared CPU that starves every other
process (2 threads next to one busy process fell below 1 token/s here). A passive wait policy must be
in the environment before the shared library loads, so every module imports llama_cpp from here.
"""

from __future__ import annotations

import ctypes
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

try:
    import llama_cpp  # noqa: E402
except ImportError as exc:  # pragma: no cover - depends on the optional extra
    from quarry.errors import ModelError

    raise ModelError("local models need llama-cpp-python: pip install 'quarry[local]'") from exc


def token_bytes(vocab: object, token: int) -> bytes:
    """The bytes of one token, special tokens written out (so `<tool_call>` reaches the parser)."""
    size = 64
    while True:
        buf = ctypes.create_string_buffer(size)
        n = llama_cpp.llama_token_to_piece(vocab, token, buf, size, 0, True)
        if n >= 0:
            return buf.raw[:n]
        size = -n


__all__ = ["llama_cpp", "token_bytes"]
