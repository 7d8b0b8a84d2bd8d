"""THE chat renderer shared by serving and training: OpenAI messages -> prompt text, reply text -> tool calls.

The model's own Jinja chat template (GGUF metadata `tokenizer.chat_template`) is rendered the way
transformers' `apply_chat_template` does. Templates that understand tools (Qwen2.5: `<tools>`,
`<tool_call>`) get the conversation as-is. Templates that ignore tools (SmolLM2) and models without a
template (Gemma 3 base, which gets `GEMMA_TEMPLATE`) get the tools "folded" into plain messages in the
same Qwen format, so one parser reads every model's tool calls and a fine-tuned student learns one format.

Some bases ship `<tool_call>` and `</tool_call>` as special tokens they were never trained on (Qwen2.5-Coder-0.5B:
the two output rows are the same vector, so no adapter can make the model write one and not the other). Their
format keeps the tags as literal text, tokenized like any other text (`pieces`), in serving and training alike.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

from quarry.errors import ModelError
from quarry.llm.base import ChatMessage, ToolCall, ToolSpec
from quarry.llm.gguf_meta import read_metadata, tensor_rows

#: The explicit template for models whose GGUF has none (Gemma 3 base): Gemma's turn markers,
#: the system prompt folded into the first user turn as Gemma's own instruct template does.
GEMMA_TEMPLATE = (
    "{{ bos_token }}"
    "{% if messages and messages[0]['role'] == 'system' %}"
    "{% set system = messages[0]['content'] + '\n\n' %}{% set turns = messages[1:] %}"
    "{% else %}{% set system = '' %}{% set turns = messages %}{% endif %}"
    "{% for message in turns %}"
    "{{ '<start_of_turn>' + ('model' if message['role'] == 'assistant' else 'user') + '\n' }}"
    "{{ (system if loop.first else '') + message['content'] | trim }}{{ '<end_of_turn>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<start_of_turn>model\n' }}{% endif %}"
)

#: The tools block for templates that ignore `tools`; same wording and format as Qwen2.5's own.
TOOLS_PREAMBLE = (
    "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>"
)
TOOLS_POSTAMBLE = (
    "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
    '<tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n'
    "</tool_call>"
)
TOOL_CALL_OPEN, TOOL_CALL_CLOSE = "<tool_call>", "</tool_call>"
_TAGS = re.compile(f"({re.escape(TOOL_CALL_OPEN)}|{re.escape(TOOL_CALL_CLOSE)})")
#: Two special tokens whose output rows are this similar were never told apart in training.
UNTRAINED_COSINE = 0.999


def _tojson(value: Any, indent: int | None = None, ensure_ascii: bool = False) -> str:
    return json.dumps(value, indent=indent, ensure_ascii=ensure_ascii)


def _raise(message: str) -> None:
    raise jinja2.exceptions.TemplateError(message)


@lru_cache(maxsize=16)
def _compile(template: str) -> jinja2.Template:
    """Compile like transformers does: sandboxed, trim_blocks/lstrip_blocks, its tojson and helpers."""
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    return env.from_string(template)


def tool_call_text(name: str, arguments: dict[str, Any]) -> str:
    """One call in the native format: `<tool_call>\\n{"name": ..., "arguments": {...}}\\n</tool_call>`."""
    body = json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)
    return f"{TOOL_CALL_OPEN}\n{body}\n{TOOL_CALL_CLOSE}"


def _arguments_dict(call: dict[str, Any]) -> dict[str, Any]:
    """OpenAI carries arguments as a JSON string; templates expect a dict."""
    args = call.get("function", call).get("arguments") or {}
    if isinstance(args, str):
        try:
            args = json.loads(args) if args.strip() else {}
        except json.JSONDecodeError as exc:
            raise ModelError(f"tool call {call.get('id', '?')}: arguments are not JSON: {exc}") from exc
    return args


def _dict_arguments(messages: list[ChatMessage]) -> list[ChatMessage]:
    """Copy of the conversation with every assistant tool call's arguments as a dict."""
    out = []
    for message in messages:
        if message.get("tool_calls"):
            calls = [
                {**call, "function": {**call["function"], "arguments": _arguments_dict(call)}}
                for call in message["tool_calls"]
            ]
            message = {**message, "tool_calls": calls}
        out.append(message)
    return out


def fold_tools(messages: list[ChatMessage], tools: list[ToolSpec] | None) -> list[ChatMessage]:
    """Plain system/user/assistant messages carrying tools, calls and results as Qwen-format text."""
    out: list[ChatMessage] = []
    if tools:
        block = TOOLS_PREAMBLE + "".join("\n" + _tojson(tool) for tool in tools) + TOOLS_POSTAMBLE
        if messages and messages[0]["role"] == "system":
            out.append({"role": "system", "content": f"{messages[0]['content']}\n\n{block}"})
            messages = messages[1:]
        else:
            out.append({"role": "system", "content": block})
    for message in messages:
        role, content = message["role"], message.get("content") or ""
        if role == "assistant" and message.get("tool_calls"):
            calls = [tool_call_text(c["function"]["name"], _arguments_dict(c)) for c in message["tool_calls"]]
            content = "\n".join(([content] if content else []) + calls)
            out.append({"role": "assistant", "content": content})
        elif role == "tool":
            response = f"<tool_response>\n{content}\n</tool_response>"
            if out and out[-1].get("_tool_turn"):
                out[-1]["content"] += "\n" + response
            else:
                out.append({"role": "user", "content": response, "_tool_turn": True})
        else:
            out.append({"role": role, "content": content})
    return [{k: v for k, v in m.items() if k != "_tool_turn"} for m in out]


class ChatFormat:
    """How one model's conversations become prompt text, and how its replies become tool calls."""

    def __init__(self, template: str, *, fold: bool, bos_token: str = "", eos_token: str = "", name: str = "",
                 literal_tags: bool = False):
        self.template = template
        self.fold = fold
        self.literal_tags = literal_tags
        self.bos_token = bos_token
        self.eos_token = eos_token
        self.name = name

    @classmethod
    def from_template(
        cls, template: str | None, *, bos_token: str = "", eos_token: str = "", name: str = "",
        literal_tags: bool = False,
    ) -> "ChatFormat":
        """The format for a model's own template (None = no template: GEMMA_TEMPLATE), folding tools
        exactly when the template does not render them itself."""
        if template is None:
            return cls(GEMMA_TEMPLATE, fold=True, bos_token=bos_token, eos_token=eos_token, name=f"{name} (explicit)",
                       literal_tags=literal_tags)
        native = "tools" in template and TOOL_CALL_OPEN in template
        return cls(template, fold=not native, bos_token=bos_token, eos_token=eos_token, name=name,
                   literal_tags=literal_tags)

    @classmethod
    def for_gguf(cls, path: str | Path) -> "ChatFormat":
        """The format for a GGUF file: its own template, folded tools if it ignores them, or GEMMA_TEMPLATE."""
        path = Path(path)
        if not path.is_file():
            raise ModelError(f"{path}: model file not found")
        return _format_for(str(path.resolve()), path.stat().st_mtime_ns)

    @property
    def template_sha256(self) -> str:
        """Identity of the rendering (template text, folding, literal tags); stored with adapters, checked when
        serving."""
        marker = ("\n#quarry:fold-tools-v1" if self.fold else "") + ("\n#quarry:literal-tags-v1" if self.literal_tags
                                                                     else "")
        return hashlib.sha256((self.template + marker).encode()).hexdigest()

    def pieces(self, text: str) -> list[tuple[str, bool]]:
        """Rendered text as (piece, parse special tokens) runs to tokenize one by one. When this format keeps
        the tool-call tags literal, each tag comes as two plain pieces (`<tool_call` and `>`): llama.cpp and
        transformers both match an added token's text even with special-token parsing off, never a part of it."""
        if not self.literal_tags:
            return [(text, True)] if text else []
        out: list[tuple[str, bool]] = []
        for piece in _TAGS.split(text):
            if _TAGS.fullmatch(piece):
                out += [(piece[:-1], False), (piece[-1], False)]
            elif piece:
                out.append((piece, True))
        return out

    def render(
        self, messages: list[ChatMessage], tools: list[ToolSpec] | None = None, add_generation_prompt: bool = False
    ) -> str:
        """The prompt text for a conversation (OpenAI format, incl. assistant tool_calls and tool results)."""
        if self.fold:
            messages, tools = fold_tools(messages, tools), None
        else:
            messages = _dict_arguments(messages)
        try:
            return _compile(self.template).render(
                messages=messages, tools=tools or None, add_generation_prompt=add_generation_prompt,
                bos_token=self.bos_token, eos_token=self.eos_token,
            )
        except jinja2.TemplateError as exc:
            raise ModelError(f"chat template {self.name or '?'}: cannot render conversation: {exc}") from exc

    def parse_reply(self, text: str) -> tuple[str, list[ToolCall]]:
        """Split generated text into plain content and native `<tool_call>{...}</tool_call>` calls.

        A call cut short after its JSON (a missing or partial closing tag) still counts, and so does a
        reply that is nothing but one `{"name": ..., "arguments": {...}}` object (small models write
        that); a call whose JSON does not parse stays in the content, so the caller sees what it was.
        """
        bare = _parse_call(text, 0) if text.lstrip().startswith("{") else None
        if bare is not None and not text[bare[1]:].strip():  # the whole reply is one bare call object
            return "", [bare[0]]
        calls: list[ToolCall] = []
        kept: list[str] = []
        pos = 0
        while (start := text.find(TOOL_CALL_OPEN, pos)) >= 0:
            parsed = _parse_call(text, start + len(TOOL_CALL_OPEN))
            if parsed is None:
                break
            call, end = parsed
            kept.append(text[pos:start])
            calls.append(call)
            pos = end
        kept.append(text[pos:])
        return "".join(kept).strip(), calls


_DECODER = json.JSONDecoder()


def _parse_call(text: str, pos: int) -> tuple[ToolCall, int] | None:
    """The call whose JSON starts at `pos` and where it ends (past any closing tag), or None."""
    while pos < len(text) and text[pos].isspace():
        pos += 1
    try:
        data, pos = _DECODER.raw_decode(text, pos)
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        return None
    args = data.get("arguments", data.get("parameters", {}))
    if isinstance(args, str):
        try:
            args = json.loads(args)
        except json.JSONDecodeError:
            return None
    if not isinstance(args, dict):
        return None
    rest = text[pos:].lstrip()
    end = len(text) - len(rest)
    if rest.startswith(TOOL_CALL_CLOSE):
        end += len(TOOL_CALL_CLOSE)
    elif TOOL_CALL_CLOSE.startswith(rest):  # generation stopped inside the closing tag
        end = len(text)
    return ToolCall(id=f"call_{uuid.uuid4().hex[:12]}", name=data["name"], arguments=args), end


def _token_text(meta: dict[str, Any], key: str) -> str:
    """The text of a special token (bos/eos) named by id in GGUF metadata, or ''."""
    tokens, token_id = meta.get("tokenizer.ggml.tokens"), meta.get(key)
    return tokens[token_id] if tokens is not None and token_id is not None else ""


@lru_cache(maxsize=16)
def _format_for(path: str, mtime_ns: int) -> ChatFormat:
    meta = read_metadata(path, arrays=frozenset({"tokenizer.ggml.tokens"}))
    template = meta.get("tokenizer.chat_template")
    bos, eos = _token_text(meta, "tokenizer.ggml.bos_token_id"), _token_text(meta, "tokenizer.ggml.eos_token_id")
    return ChatFormat.from_template(template, bos_token=bos, eos_token=eos, name=Path(path).name,
                                    literal_tags=_untrained_tags(path, meta.get("tokenizer.ggml.tokens") or []))


def _untrained_tags(path: str, tokens: list[str]) -> bool:
    """Whether the vocabulary has both tool-call tags as tokens whose output rows are one vector (never trained)."""
    if TOOL_CALL_OPEN not in tokens or TOOL_CALL_CLOSE not in tokens:
        return False
    rows = tensor_rows(path, ("output.weight", "token_embd.weight"),
                       (tokens.index(TOOL_CALL_OPEN), tokens.index(TOOL_CALL_CLOSE)))
    if rows is None:
        return False
    norms = float(np.linalg.norm(rows[0]) * np.linalg.norm(rows[1]))
    return norms > 0 and float(rows[0] @ rows[1]) / norms > UNTRAINED_COSINE
