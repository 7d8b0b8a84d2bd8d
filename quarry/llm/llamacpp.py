"""The one place llama-cpp-python is imported, with the environment it needs set first.

llama.cpp's OpenMP worker threads spin while waiting; on a small shared CPU that starves every other
process (2 threads next to one busy process fell below 1 token/s here). A passive wait policy must be
in the environment before the shared library loads, so every module imports llama_cpp from here.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

try:
    import llama_cpp  # noqa: E402
except ImportError as exc:  # pragma: no cover - depends on the optional extra
    from quarry.errors import ModelError

    raise ModelError("local models need llama-cpp-python: pip install 'quarry[local]'") from exc

__all__ = ["llama_cpp"]
