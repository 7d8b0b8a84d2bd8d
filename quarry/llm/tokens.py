"""Token-sequence helpers shared by serving (KV-cache reuse) and training (packing shared prefixes).

Kept apart from `llm.decode` so training can use them without loading llama.cpp.
"""

from __future__ import annotations

from collections.abc import Sequence


def shared_length(a: Sequence[int], b: Sequence[int]) -> int:
    """How many leading tokens two token sequences share."""
    shared = 0
    for x, y in zip(a, b):
        if x != y:
            break
        shared += 1
    return shared
