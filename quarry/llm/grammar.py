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
from typing import Any

import numpy as np

from quarry.errors import ModelError
from quarry.llm.base import ToolSpec
from quarry.llm.llamacpp import llama_cpp

#: llama-cpp-python's converter lets raw control characters into JSON strings, which JSON forbids.
_LOOSE_CHAR = 'char ::= [^"\\\\] |'
_STRICT_CHAR = 'char ::= [^"\\\\\\x7F\\x00-\\x1F] |'
#: Free-text final answer: must not start with '<' or whitespace, so it can't be a broken tool call.
_FREE_TEXT = 'answer ::= [^<\\x20\\t\\n] [^\\x00]*'


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
            converter.visit(converter.resolve_refs(copy.deepcopy(json_schema), "answer"), "answer")
        if tools:
            call_schema = _tool_call_schema(_chosen_tools(tools, tool_choice))
            converter.visit(converter.resolve_refs(call_schema, "tool"), "tool-call")
    except (KeyError, ValueError, TypeError, AssertionError, NotImplementedError) as exc:
        raise ModelError(f"cannot turn the schema into a grammar: {exc!r}") from exc
    rules = converter.format_grammar().replace(_LOOSE_CHAR, _STRICT_CHAR) + "\n"
    call = '"<tool_call>\\n" tool-call "\\n</tool_call>"'
    if not tools:
        root = "answer"
    elif tool_choice not in (None, "auto"):
        root = call
    else:
        root = f"{call} | answer"
        rules += "" if json_schema else _FREE_TEXT + "\n"
    return rules + f"root ::= {root}\n"


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

    def allows(self, token: int) -> bool:
        """Whether the grammar accepts `token` next (one-token check, no vocabulary scan)."""
        self._one[0].id, self._one[0].logit, self._one[0].p = token, 0.0, 0.0
        self._one_array.size, self._one_array.selected = 1, -1
        llama_cpp.llama_sampler_apply(self._sampler, ctypes.byref(self._one_array))
        return self._one[0].logit != -np.inf

    def mask(self, logits: np.ndarray) -> np.ndarray:
        """Logits with every token the grammar forbids set to -inf (full vocabulary scan)."""
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

