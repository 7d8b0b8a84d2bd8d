"""The local llama.cpp backend on the real smollm2-135m: schema-constrained JSON, tool steps, cache, cost."""

import json
from typing import Annotated

import pytest
from pydantic import BaseModel, Field

from quarry.errors import ModelError
from quarry.llm import accounting
from quarry.llm.base import Usage
from quarry.llm.decode import generate
from quarry.llm.local import ADAPTER_TEMPLATE_KEY, LocalModel
from quarry.llm.specs import open_model


class Fact(BaseModel):
    kind: str = Field(pattern="^(event|deadline|action|none)$")
    title: str = Field(max_length=40)
    people: list[Annotated[str, Field(max_length=24)]] = Field(max_length=2)
    priority: int = Field(ge=1, le=5)
    urgent: bool


PROMPTS = [
    "Pickleball moved to Saturday 10:00 at Riverside courts.",
    "Please send the budget draft by Friday.",
    "Board dinner on 3 May at 19:30, Ana and Lee attending.",
    "Reminder: dentist appointment Tuesday 9am.",
    "Can you review my pull request before the release?",
    "The quarterly report is due end of month.",
    "Team lunch tomorrow at noon in the cafeteria.",
    "Renew the domain before it expires next week.",
    "Kim will present the roadmap at the all-hands on Monday.",
    "Invoice 4411 must be paid within 30 days.",
    "Yoga class cancelled this Thursday.",
    "Book flights for the Berlin conference in June.",
    "Parent-teacher meeting Wednesday 16:00, room 12.",
    "Lee asked you to update the wiki page.",
    "Offsite planning call with Dana at 14:00 UTC.",
    "Submit your expenses before the 5th.",
    "Happy birthday to Sam, cake at 3pm!",
    "Backup server maintenance window Sunday 02:00.",
    "Grant application deadline: 15 October.",
    "Just saying hello, nothing to do here.",
]

TOOLS = [
    {"type": "function", "function": {
        "name": "sql", "description": "Run one SELECT over the facts views.",
        "parameters": {"type": "object", "properties": {"query": {"type": "string", "maxLength": 120}},
                       "required": ["query"]}}},
    {"type": "function", "function": {
        "name": "calendar_list", "description": "List calendar events on a day (YYYY-MM-DD).",
        "parameters": {"type": "object", "properties": {"day": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}},
                       "required": ["day"]}}},
]


def test_json_schema_is_enforced_for_20_prompts(smol):
    schema = Fact.model_json_schema()
    for prompt in PROMPTS:
        messages = [{"role": "system", "content": "Extract one fact from the message as JSON."},
                    {"role": "user", "content": prompt}]
        reply = smol.chat(messages, json_schema=schema, max_tokens=200)  # bounded schema: always fits
        fact = Fact.model_validate_json(reply.text)  # raises if the model escaped the schema
        assert reply.finish_reason == "stop" and 1 <= fact.priority <= 5
        assert reply.usage.prompt_tokens > 20 and reply.usage.completion_tokens > 5


def test_required_tool_call_step_parses_with_schema_valid_arguments(smol):
    messages = [{"role": "system", "content": "You answer questions about the user's mail with tools."},
                {"role": "user", "content": "What is on my calendar on 2026-03-14?"}]
    reply = smol.chat(messages, tools=TOOLS, tool_choice="required", max_tokens=80)
    assert len(reply.tool_calls) == 1 and reply.finish_reason == "tool_calls"
    call = reply.tool_calls[0]
    assert call.name in {"sql", "calendar_list"} and call.id.startswith("call_")
    required = next(t for t in TOOLS if t["function"]["name"] == call.name)["function"]["parameters"]["required"]
    assert set(call.arguments) == set(required)
    forced = smol.chat(messages, tools=TOOLS, tool_choice="calendar_list", max_tokens=60)
    assert forced.tool_calls[0].name == "calendar_list"
    assert len(forced.tool_calls[0].arguments["day"]) == 10


def test_auto_tool_step_is_a_call_or_a_plain_answer(smol):
    messages = [{"role": "user", "content": "Use the sql tool to count my messages."}]
    reply = smol.chat(messages, tools=TOOLS, max_tokens=40)
    if reply.tool_calls:
        assert reply.tool_calls[0].name in {"sql", "calendar_list"}
    else:
        assert reply.text and not reply.text.startswith("<")
    # the step goes back into the conversation in OpenAI format, with a tool result, and renders again
    messages.append(reply.as_assistant_message())
    if reply.tool_calls:
        messages.append({"role": "tool", "tool_call_id": reply.tool_calls[0].id, "content": "[[42]]"})
    follow = smol.chat(messages, tools=TOOLS, tool_choice="none", max_tokens=20)
    assert follow.text and not follow.tool_calls


def test_kv_cache_prefix_is_reused_across_steps(smol):
    messages = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Name a colour."}]
    first = smol.tokenize(smol.format.render(messages, add_generation_prompt=True))
    generate(smol.llm, first, max_tokens=5)
    messages += [{"role": "assistant", "content": "Blue."}, {"role": "user", "content": "Another one."}]
    second = smol.tokenize(smol.format.render(messages, add_generation_prompt=True))
    gen = generate(smol.llm, second, max_tokens=5)
    assert gen.cached_tokens >= len(first) - 1


def test_sampling_is_reproducible_with_a_seed(smol):
    messages = [{"role": "user", "content": "Write one word."}]
    a = smol.chat(messages, max_tokens=8, temperature=0.9, seed=7)
    b = smol.chat(messages, max_tokens=8, temperature=0.9, seed=7)
    assert a.text == b.text


def test_calls_are_accounted(smol):
    before = accounting.ledger().get(smol.model_id)
    reply = smol.chat([{"role": "user", "content": "hi"}], max_tokens=4)
    after = accounting.ledger()[smol.model_id]
    assert after.calls == (before.calls if before else 0) + 1
    assert after.latency_s > 0 and after.cost_usd == 0.0 and reply.latency_s > 0


def test_prices_come_from_defaults_and_config(tmp_path, monkeypatch):
    usage = Usage(prompt_tokens=1_000_000, completion_tokens=500_000)
    assert accounting.cost_usd("openai:gpt-4o-mini", usage) == pytest.approx(0.15 + 0.30)
    assert accounting.cost_usd("local:smollm2-135m", usage) == 0.0
    monkeypatch.setenv("QUARRY_HOME", str(tmp_path))
    (tmp_path / "config.toml").write_text('[prices."openai:gpt-4o-mini"]\ninput_per_mtok = 1.0\noutput_per_mtok = 2.0\n')
    assert accounting.cost_usd("openai:gpt-4o-mini", usage) == pytest.approx(2.0)


def test_adapter_trained_on_another_template_is_refused(tmp_path):
    import gguf

    from quarry.llm.catalog import model_path

    adapter = tmp_path / "lora.gguf"
    writer = gguf.GGUFWriter(str(adapter), "llama")
    writer.add_string(ADAPTER_TEMPLATE_KEY, "0" * 64)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.close()
    with pytest.raises(ModelError, match="trained with chat template 000000000000"):
        LocalModel(model_path("smollm2-135m"), adapter=adapter)


def test_bad_specs_are_clear_errors(tmp_path, monkeypatch):
    with pytest.raises(ModelError, match="unknown local model 'nope'"):
        open_model("local:nope")
    with pytest.raises(ModelError, match="not understood"):
        open_model("ftp:thing")
    with pytest.raises(ModelError, match="missing.gguf: model file not found"):
        open_model(f"local:{tmp_path}/missing.gguf")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ModelError, match="OPENAI_API_KEY is not set"):
        open_model("openai:gpt-4o-mini")
    monkeypatch.setenv("QUARRY_HOME", str(tmp_path))
    with pytest.raises(ModelError, match="quarry models pull smollm2-135m"):
        open_model("local:smollm2-135m")
    assert json.loads(json.dumps({"ok": True}))


def test_pruned_vocabulary_search_equals_the_full_scan(smol):
    import numpy as np

    from quarry.llm.grammar import GrammarGuard, step_grammar

    guard = GrammarGuard(smol.llm.model, step_grammar(Fact.model_json_schema()))
    logits = np.random.default_rng(0).standard_normal(smol.llm.n_vocab()).astype(np.float32)
    for text in ['{', ' "k', 'ind', '":', ' "', 'dead', 'line', '",', ' "title": "Budget draft', '"']:
        searched, scanned = guard.mask(logits), guard._scan(logits)
        assert np.array_equal(np.isfinite(searched), np.isfinite(scanned)), text
        for token in smol.llm.tokenize(text.encode(), add_bos=False, special=False):
            assert guard.allows(token), text
            guard.accept(token)
    assert guard.searches > 0
    guard.close()


def test_a_new_process_loads_the_saved_prompt_prefix_instead_of_evaluating_it(smollm2_gguf, tmp_path, monkeypatch):
    """The system prompt and tools are evaluated once and saved; a fresh Llama (as in a new `quarry ask`)
    loads them from disk and answers exactly as the one that evaluated them; a damaged file is replaced."""
    from quarry.llm import local

    monkeypatch.setenv("QUARRY_HOME", str(tmp_path))
    system = "You answer questions about the user's mailbox.\n" + "".join(
        f"Rule {i}: cite the message id of every fact you use, and never guess a date.\n" for i in range(12))

    def fresh_run(question: str):
        local._load.cache_clear()  # what a new process starts with: no model, no KV state in memory
        model = LocalModel(smollm2_gguf)
        messages = [{"role": "system", "content": system}, {"role": "user", "content": question}]
        return model, model.fixed_prefix(messages, TOOLS), model.chat(messages, tools=TOOLS, max_tokens=24)

    model, prefix, first = fresh_run("Today is Monday 2026-03-02.\nWhen is the board dinner?")
    text = model.llm.detokenize(prefix, special=True).decode()
    assert len(prefix) > 200 and system in text and '"calendar_list"' in text  # system prompt, then the tools
    assert "Today is" not in text and "board dinner" not in text  # the date and the question come after it
    assert first.usage.cached_tokens == 0
    saved = list((tmp_path / "cache" / "kv").glob("*.kv"))
    assert len(saved) == 1 and saved[0].stat().st_size > 100_000

    _, _, again = fresh_run("Today is Monday 2026-03-02.\nWhen is the board dinner?")
    assert again.usage.cached_tokens == len(prefix)
    assert (again.text, again.tool_calls) == (first.text, first.tool_calls)

    saved[0].write_bytes(b"not a llama.cpp state file")
    _, _, repaired = fresh_run("Today is Monday 2026-03-02.\nWhen is the board dinner?")
    assert repaired.usage.cached_tokens == 0 and (repaired.text, repaired.tool_calls) == (first.text, first.tool_calls)
    assert saved[0].stat().st_size > 100_000  # evaluated again and saved again
    local._load.cache_clear()


@pytest.mark.parametrize("name", ["smollm2-135m", "gemma3-270m", "qwen2.5-coder-0.5b"])
def test_the_fixed_prefix_is_the_system_prompt_and_tools_in_every_template(name):
    """SmolLM2 and Qwen render the system turn then the user turn; Gemma folds the system prompt into the
    first user turn: in each, the saved prefix holds the system prompt and tools and stops before the question."""
    from quarry.llm.catalog import model_path
    from quarry.llm.tokens import shared_length

    model = LocalModel(model_path(name))
    system = "You answer questions about the user's mail. " * 20
    messages = [{"role": "system", "content": system}, {"role": "user", "content": "Today is Monday.\nWhen is dinner?"}]
    prefix = model.fixed_prefix(messages, TOOLS)
    prompt = model.tokenize(model.format.render(messages, TOOLS, add_generation_prompt=True))
    text = model.llm.detokenize(prefix, special=True).decode()
    assert shared_length(prompt, prefix) == len(prefix) < len(prompt)
    assert system.strip() in text and '"calendar_list"' in text and "Today" not in text
