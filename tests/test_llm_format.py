"""ChatFormat against the real templates in the pulled GGUF files, compared with transformers' renderer."""

import json

import pytest
from transformers.utils.chat_template_utils import render_jinja_template

from quarry.errors import ModelError
from quarry.llm.catalog import model_path
from quarry.llm.chat_format import GEMMA_TEMPLATE, ChatFormat

TOOLS = [{
    "type": "function",
    "function": {
        "name": "sql",
        "description": "Run one SELECT over the facts views.",
        "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
    },
}]
CONVERSATION = [
    {"role": "system", "content": "You answer from the user's mailbox."},
    {"role": "user", "content": "When is the pickle game?"},
    {"role": "assistant", "content": None, "tool_calls": [{
        "id": "call_1", "type": "function",
        "function": {"name": "sql", "arguments": json.dumps({"query": "SELECT title FROM events LIMIT 1"})},
    }]},
    {"role": "tool", "tool_call_id": "call_1", "content": '[{"title": "Pickle game", "starts_at": "2026-03-14"}]'},
    {"role": "assistant", "content": "Saturday 14 March [msg:pickle-1@club.example]."},
]


def _with_dict_arguments(messages):
    out = []
    for m in messages:
        if m.get("tool_calls"):
            calls = [{**c, "function": {**c["function"], "arguments": json.loads(c["function"]["arguments"])}}
                     for c in m["tool_calls"]]
            m = {**m, "tool_calls": calls}
        out.append(m)
    return out


def _pulled(name):
    """The pulled GGUF (`make test` pulls every model the suite reads); a missing one fails, never skips."""
    try:
        return model_path(name)
    except ModelError as exc:
        pytest.fail(f"{exc} (make test pulls it)")


def test_qwen_template_renders_tools_like_transformers():
    fmt = ChatFormat.for_gguf(_pulled("qwen2.5-coder-0.5b"))
    assert not fmt.fold
    ours = fmt.render(CONVERSATION, TOOLS, add_generation_prompt=False)
    theirs = render_jinja_template([_with_dict_arguments(CONVERSATION)], tools=TOOLS, chat_template=fmt.template)[0][0]
    assert ours == theirs
    assert '<tool_call>\n{"name": "sql", "arguments": {"query": "SELECT title FROM events LIMIT 1"}}\n</tool_call>' in ours
    assert "<tool_response>\n[{" in ours and "<tools>" in ours


def test_smollm2_plain_conversation_matches_its_own_template():
    fmt = ChatFormat.for_gguf(model_path("smollm2-135m"))
    plain = [{"role": "user", "content": "hello"}, {"role": "assistant", "content": "hi"}, {"role": "user", "content": "?"}]
    theirs = render_jinja_template([plain], chat_template=fmt.template, add_generation_prompt=True)[0][0]
    assert fmt.render(plain, add_generation_prompt=True) == theirs
    assert theirs.startswith("<|im_start|>system\nYou are a helpful AI assistant named SmolLM")


def test_smollm2_gets_a_tools_block_and_native_calls():
    fmt = ChatFormat.for_gguf(model_path("smollm2-135m"))
    assert fmt.fold
    text = fmt.render(CONVERSATION, TOOLS, add_generation_prompt=True)
    assert text.startswith("<|im_start|>system\nYou answer from the user's mailbox.\n\n# Tools")
    assert '<tools>\n{"type": "function", "function": {"name": "sql"' in text
    assert '<|im_start|>assistant\n<tool_call>\n{"name": "sql", "arguments": {"query": "SELECT' in text
    assert "<|im_start|>user\n<tool_response>\n[{\"title\": \"Pickle game\"" in text
    assert text.endswith("<|im_start|>assistant\n")


def test_consecutive_tool_results_share_one_turn():
    fmt = ChatFormat.for_gguf(model_path("smollm2-135m"))
    calls = [{"id": f"c{i}", "type": "function", "function": {"name": "sql", "arguments": "{}"}} for i in (1, 2)]
    messages = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "", "tool_calls": calls},
                {"role": "tool", "tool_call_id": "c1", "content": "one"},
                {"role": "tool", "tool_call_id": "c2", "content": "two"}]
    text = fmt.render(messages, TOOLS)
    assert text.count("<|im_start|>user\n<tool_response>") == 1
    assert "<tool_response>\none\n</tool_response>\n<tool_response>\ntwo\n</tool_response>" in text


def test_gemma_base_gets_the_explicit_template():
    fmt = ChatFormat.for_gguf(_pulled("gemma3-270m"))
    assert fmt.template == GEMMA_TEMPLATE and fmt.fold and fmt.bos_token == "<bos>"
    text = fmt.render(CONVERSATION[:2], add_generation_prompt=True)
    assert text == ("<bos><start_of_turn>user\nYou answer from the user's mailbox.\n\nWhen is the pickle game?"
                    "<end_of_turn>\n<start_of_turn>model\n")


def test_parse_reply_reads_native_calls_and_keeps_text():
    fmt = ChatFormat.for_gguf(model_path("smollm2-135m"))
    content, calls = fmt.parse_reply('Let me look.\n<tool_call>\n{"name": "sql", "arguments": {"query": "SELECT 1"}}\n</tool_call>')
    assert content == "Let me look." and calls[0].name == "sql" and calls[0].arguments == {"query": "SELECT 1"}
    content, calls = fmt.parse_reply('<tool_call>{"name": "sql", "arguments": "{\\"query\\": \\"x\\"}"}')
    assert calls[0].arguments == {"query": "x"} and content == ""
    content, calls = fmt.parse_reply('<tool_call>\n{"name": "sql", "arguments": {}}\n</tool_ca')
    assert calls[0].name == "sql" and content == ""
    content, calls = fmt.parse_reply(' {"name": "sql", "arguments": {"query": "SELECT 2"}}')
    assert calls[0].arguments == {"query": "SELECT 2"} and content == ""
    content, calls = fmt.parse_reply('{"name": "sql", "arguments": {}} and then some words')
    assert calls == [] and content.startswith("{")
    content, calls = fmt.parse_reply("<tool_call>{not json</tool_call>")
    assert calls == [] and "not json" in content


def test_template_hash_is_stable_and_distinguishes_folding():
    smol = ChatFormat.for_gguf(model_path("smollm2-135m"))
    assert smol.template_sha256 == ChatFormat.for_gguf(model_path("smollm2-135m")).template_sha256
    unfolded = ChatFormat(smol.template, fold=False)
    assert unfolded.template_sha256 != smol.template_sha256 and len(smol.template_sha256) == 64


def test_qwen_coder_keeps_its_untrained_tool_call_tags_as_literal_text():
    """Its `<tool_call>` and `</tool_call>` tokens share one output vector, so no adapter can write the one and not
    the other: its format tokenizes the tags as text, in llama.cpp and in transformers alike."""
    from transformers import AutoTokenizer

    from quarry.llm.local import LocalModel

    path = _pulled("qwen2.5-coder-0.5b")
    qwen = ChatFormat.for_gguf(path)
    assert qwen.literal_tags
    assert not ChatFormat.for_gguf(_pulled("smollm2-135m")).literal_tags
    assert not ChatFormat.for_gguf(_pulled("gemma3-270m")).literal_tags
    assert qwen.template_sha256 != ChatFormat(qwen.template, fold=False).template_sha256
    text = qwen.render(CONVERSATION, TOOLS, add_generation_prompt=False)
    pieces = qwen.pieces(text)
    assert "".join(piece for piece, _ in pieces) == text
    assert ("<tool_call", False) in pieces and ("</tool_call", False) in pieces
    served = LocalModel(path, prefix_cache=False)
    ids = served.tokenize(text)
    tag_ids = {served.llm.tokenize(tag.encode(), add_bos=False, special=True)[0]
               for tag in ("<tool_call>", "</tool_call>")}
    assert not tag_ids & set(ids)
    assert served.llm.detokenize(ids, special=True).decode() == text
    tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    trained = [t for piece, special in pieces
               for t in tokenizer.encode(piece, add_special_tokens=False, split_special_tokens=not special)]
    assert trained == ids


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="model file not found"):
        ChatFormat.for_gguf(tmp_path / "nope.gguf")
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf")
    with pytest.raises(ModelError, match="bad.gguf"):
        ChatFormat.for_gguf(bad)
