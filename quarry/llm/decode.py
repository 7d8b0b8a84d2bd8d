"""The token loop for local models: KV-cache prefix reuse, greedy/sampled picks, grammar checked per token.

Written against the `Llama` object's pieces (eval, logits of the last position) rather than its
`create_completion`, because grammar enforcement there scans the whole vocabulary every token. Here
the model's own pick is checked first and the full mask is computed only when the grammar rejects it.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import numpy as np

from quarry.errors import ContextFull
from quarry.llm.grammar import GrammarGuard
from quarry.llm.llamacpp import llama_cpp, token_bytes
from quarry.llm.tokens import shared_length

_TOP_K = 40
#: Attribute on the Llama object: (prompt tokens, next-token logits) of the last fully evaluated prompt.
_SAVED_LOGITS = "_quarry_prompt_logits"
#: On a grammar rejection, this many best tokens are checked one by one before a full-vocabulary mask.
_CANDIDATES = 64


@dataclass
class Generation:
    """What one decode produced, with its timings."""

    text: str
    completion_tokens: int
    prompt_tokens: int
    finish_reason: str
    first_token_s: float
    total_s: float
    cached_tokens: int = 0
    full_masks: int = 0


def _pick(logits: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    """Greedy at temperature 0, else top-k sampling; -1 when every token is forbidden."""
    if temperature <= 0:
        token = int(np.argmax(logits))
        return token if np.isfinite(logits[token]) else -1
    top = np.argpartition(logits, -_TOP_K)[-_TOP_K:]
    top = top[np.isfinite(logits[top])]
    if top.size == 0:
        return -1
    scaled = logits[top].astype(np.float64) / temperature
    probs = np.exp(scaled - scaled.max())
    return int(rng.choice(top, p=probs / probs.sum()))


def _constrained_pick(logits: np.ndarray, temperature: float, rng: np.random.Generator, guard: GrammarGuard) -> int:
    """The pick the full grammar mask would give, found by checking the best candidates one by one.

    Greedy: the first allowed token in logit order is exactly the masked argmax. Sampling: top-k
    sampling over the allowed candidates. Only when no candidate is allowed is the vocabulary scanned.
    """
    count = _CANDIDATES if temperature <= 0 else _TOP_K
    best = np.argpartition(logits, -count)[-count:]
    best = [int(t) for t in best[np.argsort(-logits[best])] if np.isfinite(logits[t])]
    if temperature <= 0:
        allowed = next((t for t in best if guard.allows(t)), None)
        return allowed if allowed is not None else _pick(guard.mask(logits), temperature, rng)
    allowed = [t for t in best if guard.allows(t)]
    if not allowed:
        return _pick(guard.mask(logits), temperature, rng)
    masked = np.full_like(logits, -np.inf)
    masked[allowed] = logits[allowed]
    return _pick(masked, temperature, rng)


def _feed_prompt(llm: Any, tokens: list[int]) -> tuple[int, np.ndarray | None]:
    """Evaluate the prompt, reusing the KV cache for the prefix shared with the previous call.

    Returns how many prompt tokens came from the cache, and the saved next-token logits when the
    whole prompt was evaluated before: re-evaluating its last token alone would give slightly
    different logits than the batched first pass (another kernel), so a repeated prompt with the
    same seed could sample differently."""
    shared = shared_length(llm.input_ids[: llm.n_tokens], tokens)
    saved = getattr(llm, _SAVED_LOGITS, None)
    if shared == len(tokens) and saved is not None and saved[0] == tuple(tokens):
        llm.n_tokens = shared
        return shared, saved[1]
    shared = min(shared, len(tokens) - 1)  # re-evaluate at least one token to get fresh logits
    llm.n_tokens = shared
    llm.eval(tokens[shared:])
    return shared, None


def generate(
    llm: Any,
    prompt: list[int],
    *,
    grammar: str | None = None,
    max_tokens: int = 512,
    temperature: float = 0.0,
    seed: int | None = None,
    on_text: Callable[[str], None] | None = None,
) -> Generation:
    """Decode a reply to `prompt` (token ids); `grammar` (GBNF) is enforced on every token."""
    n_ctx = llm.n_ctx()
    if len(prompt) >= n_ctx:
        raise ContextFull(f"prompt has {len(prompt)} tokens but the context holds {n_ctx}; shorten it or raise n_ctx")
    max_tokens = min(max_tokens, n_ctx - len(prompt))
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    n_vocab = llm.n_vocab()
    rng = np.random.default_rng(seed)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    guard = GrammarGuard(llm.model, grammar) if grammar else None
    start = perf_counter()
    pieces: list[str] = []
    first_token_s, finish, produced, cached = 0.0, "length", 0, 0
    try:
        cached, saved = _feed_prompt(llm, prompt)
        for step in range(max_tokens):
            if step == 0 and saved is not None:
                logits = saved.copy()
            else:
                logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm.ctx, -1), shape=(n_vocab,))
            if step == 0 and saved is None:
                setattr(llm, _SAVED_LOGITS, (tuple(prompt), logits.copy()))
            token = _pick(logits, temperature, rng)
            if guard is not None and token >= 0 and not guard.allows(token):
                token = _constrained_pick(logits, temperature, rng, guard)
            if step == 0:
                first_token_s = perf_counter() - start
            if token < 0 or llama_cpp.llama_vocab_is_eog(vocab, token):
                finish = "stop"
                break
            if guard is not None:
                guard.accept(token)
            piece = decoder.decode(token_bytes(vocab, token))
            pieces.append(piece)
            produced += 1
            if on_text is not None and piece:
                on_text(piece)
            if step + 1 < max_tokens:
                llm.eval([token])
        pieces.append(decoder.decode(b"", final=True))
    finally:
        masks = guard.full_masks if guard is not None else 0
        if guard is not None:
            guard.close()
    return Generation("".join(pieces), produced, len(prompt), finish, first_token_s, perf_counter() - start,
                      cached, masks)
