"""Grammars that make even a 135M model emit a parseable step, and a cheap way to enforce them.

`step_grammar` turns a JSON schema and/or OpenAI tool specs into GBNF: with tools the reply is either
one native `<tool_call>` to an offered tool with schema-valid arguments, or a final answer (free text,
or JSON valid against `json_schema` when one is given).

`GrammarGuard` wraps llama.cpp's grammar sampler. Checking the whole vocabulary against the grammar at
every token is what makes llama-cpp-python's own grammar sampling slow (~2 s/token on Gemma's 262k
vocabulary). The guard checks only the token the model picked; the full-vocabulary mask is computed
only when that token is rejected (the technique llama.cpp's own common sampler uses).
"""

from __future__ import annotations

import copy
import ctypes
from bisect import bisect_left
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from quarry.errors import ModelError
from quarry.llm.base import ToolSpec
from quarry.llm.llamacpp import llama_cpp, token_bytes

#: llama-cpp-python's converter lets raw control characters into JSON strings, which JSON forbids.
_LOOSE_CHAR = 'char ::= [^"\\\\] |'
_STRICT_CHAR = 'char ::= [^"\\\\\\x7F\\x00-\\x1F] |'
#: Largest integer range turned into an enum (wider ranges are checked by pydantic after decoding).
_MAX_INT_ENUM = 1000
#: Free-text final answer: must not start like a call written some other way ('<', '{', '[', a code
#: fence, whitespace), so a call can't hide in free text unchecked.
_FREE_TEXT = 'answer ::= [^<{[`\\x20\\t\\n] [^\\x00]*'


def _bounded_ints(schema: Any) -> Any:
    """Integers with a small [minimum, maximum] range become enums: the converter ignores bounds."""
    if isinstance(schema, list):
        return [_bounded_ints(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _bounded_ints(value) for key, value in schema.items()}
    low = out.get("minimum", out.get("exclusiveMinimum", -1e18) + 1)
    high = out.get("maximum", out.get("exclusiveMaximum", 1e18) - 1)
    if out.get("type") == "integer" and high - low <= _MAX_INT_ENUM and "enum" not in out:
        out["enum"] = list(range(int(low), int(high) + 1))
    return out


def _strict_object(schema: dict[str, Any]) -> dict[str, Any]:
    """Disallow unlisted top-level keys unless the schema says otherwise: small models wander."""
    schema = copy.deepcopy(schema) if schema else {"type": "object", "properties": {}}
    if schema.get("type") == "object" and "additionalProperties" not in schema:
        schema["additionalProperties"] = False
    return schema


def _tool_call_schema(tools: list[ToolSpec]) -> dict[str, Any]:
    alternatives = []
    for tool in tools:
        fn = tool.get("function", tool)
        alternatives.append({
            "type": "object",
            "properties": {"name": {"const": fn["name"]}, "arguments": _strict_object(fn.get("parameters") or {})},
            "required": ["name", "arguments"],
            "additionalProperties": False,
        })
    return alternatives[0] if len(alternatives) == 1 else {"anyOf": alternatives}


def _chosen_tools(tools: list[ToolSpec], tool_choice: str | None) -> list[ToolSpec]:
    if tool_choice in (None, "auto", "required", "none"):
        return tools
    chosen = [tool for tool in tools if tool.get("function", tool)["name"] == tool_choice]
    if not chosen:
        raise ModelError(f"tool_choice {tool_choice!r} is not one of the offered tools")
    return chosen


def step_grammar(
    json_schema: dict[str, Any] | None = None, tools: list[ToolSpec] | None = None, tool_choice: str | None = None,
) -> str | None:
    """GBNF for one reply, or None when nothing constrains it.

    `tool_choice` follows OpenAI: "auto" (default: a call or an answer), "required" (a call), "none"
    (an answer), or a tool name (a call to that tool).
    """
    from llama_cpp.llama_grammar import SchemaConverter

    if tool_choice == "none":
        tools = None
    if not json_schema and not tools:
        return None
    converter = SchemaConverter(
        prop_order={"name": 0, "arguments": 1}, allow_fetch=False, dotall=False, raw_pattern=False
    )
    try:
        if json_schema:
            converter.visit(converter.resolve_refs(_bounded_ints(json_schema), "answer"), "answer")
        if tools:
            call_schema = _bounded_ints(_tool_call_schema(_chosen_tools(tools, tool_choice)))
            converter.visit(converter.resolve_refs(call_schema, "tool"), "tool-call")
    except (KeyError, ValueError, TypeError, AssertionError, NotImplementedError) as exc:
        raise ModelError(f"cannot turn the schema into a grammar: {exc!r}") from exc
    rules = converter.format_grammar().replace(_LOOSE_CHAR, _STRICT_CHAR) + "\n"
    # Small models (Qwen2.5-Coder-0.5B here) often write the call as a bare JSON object instead of
    # inside <tool_call> tags: both forms are accepted, both held to the same schema.
    call = '"<tool_call>\\n" tool-call "\\n</tool_call>"' + ("" if json_schema else " | tool-call")
    if not tools:
        root = "answer"
    elif tool_choice not in (None, "auto"):
        root = call
    else:
        root = f"{call} | answer"
        rules += "" if json_schema else _FREE_TEXT + "\n"
    return rules + f"root ::= {root}\n"


class _OverBudget(Exception):
    pass


class VocabIndex:
    """A model's token bytes in sorted order: tokens sharing a prefix form one contiguous run.

    Grammar acceptance is prefix-closed (if a token's bytes cannot continue the grammar, no longer
    token starting with those bytes can), so walking this order and skipping the run under every
    rejected token finds all allowed tokens with a few hundred one-token checks when the grammar
    forces a literal (JSON keys, enum values), instead of scanning the whole vocabulary.
    End-of-generation tokens are checked apart: the grammar treats them specially.
    """

    def __init__(self, vocab: Any):
        entries, self.eog = [], []
        buf = ctypes.create_string_buffer(256)  # one buffer for every token: this loop runs 50k-260k times
        for token in range(llama_cpp.llama_vocab_n_tokens(vocab)):
            if llama_cpp.llama_vocab_is_eog(vocab, token):
                self.eog.append(token)
                continue
            n = llama_cpp.llama_token_to_piece(vocab, token, buf, 256, 0, True)
            piece = buf.raw[:n] if 0 <= n <= 256 else token_bytes(vocab, token)
            if piece:
                entries.append((piece, token))
        entries.sort()
        self.pieces = [piece for piece, _ in entries]
        self.ids = [token for _, token in entries]

    def allowed(self, allows: Callable[[int], bool], budget: int) -> list[int] | None:
        """Every token `allows` accepts, or None when that would take more than `budget` checks."""
        found = [token for token in self.eog if allows(token)]
        checks = [len(self.eog)]

        def check(token: int) -> bool:
            checks[0] += 1
            if checks[0] > budget:
                raise _OverBudget
            return allows(token)

        def walk(prefix: bytes, lo: int, hi: int) -> None:
            i, depth = lo, len(prefix) + 1
            while i < hi:
                sub = self.pieces[i][:depth]
                end = hi if sub[-1] == 255 else bisect_left(self.pieces, sub[:-1] + bytes([sub[-1] + 1]), i, hi)
                start, any_ok = i, False
                while i < end and self.pieces[i] == sub:  # tokens whose bytes are exactly `sub`
                    if check(self.ids[i]):
                        found.append(self.ids[i])
                        any_ok = True
                    i += 1
                if i > start and not any_ok:
                    i = end  # nothing longer under a rejected prefix can be allowed
                    continue
                walk(sub, i, end)
                i = end

        try:
            walk(b"", 0, len(self.pieces))
        except _OverBudget:
            return None
        return found


@lru_cache(maxsize=4)
def _vocab_index(vocab_address: int) -> VocabIndex:
    return VocabIndex(ctypes.c_void_p(vocab_address))


class GrammarGuard:
    """One reply's grammar state over a model's vocabulary: check one token, mask all, accept."""

    def __init__(self, model: Any, grammar: str):
        self._vocab = llama_cpp.llama_model_get_vocab(model)
        self._n_vocab = llama_cpp.llama_vocab_n_tokens(self._vocab)
        self._sampler = llama_cpp.llama_sampler_init_grammar(self._vocab, grammar.encode(), b"root")
        if not self._sampler:
            raise ModelError(f"llama.cpp rejected the grammar: {grammar[:200]!r}")
        self._one = (llama_cpp.llama_token_data * 1)()
        self._one_array = llama_cpp.llama_token_data_array(self._one, 1, -1, False)
        self._all: np.ndarray | None = None
        self.full_masks = 0
        self.searches = 0

    def allows(self, token: int) -> bool:
        """Whether the grammar accepts `token` next (one-token check, no vocabulary scan)."""
        self._one[0].id, self._one[0].logit, self._one[0].p = token, 0.0, 0.0
        self._one_array.size, self._one_array.selected = 1, -1
        llama_cpp.llama_sampler_apply(self._sampler, ctypes.byref(self._one_array))
        return self._one[0].logit != -np.inf

    def mask(self, logits: np.ndarray) -> np.ndarray:
        """Logits with every token the grammar forbids set to -inf.

        A prefix-pruned search over the sorted vocabulary first; a full vocabulary scan in llama.cpp
        when the search would cost more (one check costs ~40 tokens' worth of a full scan).
        """
        index = _vocab_index(ctypes.cast(self._vocab, ctypes.c_void_p).value)
        allowed = index.allowed(self.allows, budget=self._n_vocab // 40)
        if allowed is not None:
            self.searches += 1
            masked = np.full(logits.shape, -np.inf, dtype=np.float32)
            masked[allowed] = logits[allowed]
            return masked
        return self._scan(logits)

    def _scan(self, logits: np.ndarray) -> np.ndarray:
        if self._all is None:
            dtype = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])
            self._all = np.zeros(self._n_vocab, dtype=dtype)
            self._all["id"] = np.arange(self._n_vocab, dtype=np.int32)
        self._all["logit"] = logits[: self._n_vocab]
        self._all["p"] = 0.0
        data = self._all.ctypes.data_as(ctypes.POINTER(llama_cpp.llama_token_data))
        array = llama_cpp.llama_token_data_array(data, self._n_vocab, -1, False)
        llama_cpp.llama_sampler_apply(self._sampler, ctypes.byref(array))
        self.full_masks += 1
        return self._all["logit"].copy()

    def accept(self, token: int) -> None:
        """Advance the grammar past `token`; only call after `allows(token)` (llama.cpp aborts otherwise)."""
        llama_cpp.llama_sampler_accept(self._sampler, token)

    def close(self) -> None:
        if self._sampler:
            llama_cpp.llama_sampler_free(self._sampler)
            self._sampler = None

    def __enter__(self) -> "GrammarGuard":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

