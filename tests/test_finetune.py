"""Fine-tuning on CPU with the smallest catalog model: loss masks, a few real training steps, resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from quarry.errors import ModelError
from quarry.finetune.dataset import DatasetConfig, tokenize_record
from quarry.llm.gguf_meta import read_metadata
from quarry.llm.local import ADAPTER_TOOLS_KEY
from tests.conftest import FT_EVENTS, ft_trace


@pytest.fixture(scope="module")
def smol_tokenizer_and_format(smollm2_gguf):
    from transformers import AutoTokenizer

    from quarry.llm.chat_format import ChatFormat

    tokenizer = AutoTokenizer.from_pretrained(str(smollm2_gguf.parent), gguf_file=smollm2_gguf.name)
    return tokenizer, ChatFormat.for_gguf(smollm2_gguf)


def test_loss_mask_covers_exactly_the_assistant_turns(smol_tokenizer_and_format, tmp_path):
    tokenizer, chat_format = smol_tokenizer_and_format
    record = ft_trace("when", 7, FT_EVENTS[0])
    example = tokenize_record(record, chat_format, tokenizer, DatasetConfig(traces=[tmp_path]))
    trained = tokenizer.decode([t for t, m in zip(example.input_ids, example.mask) if m])
    untrained = tokenizer.decode([t for t, m in zip(example.input_ids, example.mask) if not m])
    call_query = json.loads(record["messages"][2]["tool_calls"][0]["function"]["arguments"])["query"]
    answer = record["messages"][4]["content"]
    assert call_query in trained and answer in trained
    # The question, the tool result and the (student) system prompt are context, never targets.
    for context in (record["messages"][1]["content"], record["messages"][3]["content"],
                    record["metadata"]["student_system_prompt"]):
        assert context in untrained and context not in trained
    assert "<|im_start|>" not in trained
    assert "LONG TEACHER PROMPT" not in untrained + trained


def test_a_few_steps_lower_eval_loss_and_resume_keeps_the_step_count(trained_run):
    out, first, metrics, resumed = trained_run
    evals = [m["eval_loss"] for m in metrics if m.get("eval_loss") is not None]
    assert first.steps == 4 and len(evals) >= 2
    assert evals[-1] < evals[0], f"eval loss did not fall: {evals}"
    assert (out / "loss.png").exists() and (out / "config.json").exists()
    assert resumed.steps == 6


def _target_logprob(llm, prompt: str, target: str) -> float:
    """Sum of log p(target tokens | prompt) under a llama.cpp model (logits_all=True)."""
    import numpy as np

    prompt_ids = llm.tokenize(prompt.encode(), add_bos=False, special=True)
    target_ids = llm.tokenize(target.encode(), add_bos=False, special=True)
    llm.reset()
    llm.eval(prompt_ids + target_ids)
    logits = np.asarray(llm.scores[: len(prompt_ids) + len(target_ids)], dtype=np.float64)
    logprobs = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
    positions = range(len(prompt_ids) - 1, len(prompt_ids) + len(target_ids) - 1)
    return float(sum(logprobs[p, tok] for p, tok in zip(positions, target_ids)))


def test_exported_gguf_adapter_loads_in_llama_cpp_and_moves_toward_the_training_data(
        trained_run, smollm2_gguf, tmp_path):
    from llama_cpp import Llama

    from quarry.finetune.export import export_gguf_lora
    from quarry.llm.chat_format import ChatFormat

    adapter = export_gguf_lora(trained_run[0], tmp_path / "adapter.gguf")
    record = ft_trace("when", 3, FT_EVENTS[3])  # a trained template
    # The adapter names the tools its prompts offered, so it is served those and no tool added since.
    trained_tools = read_metadata(adapter)[ADAPTER_TOOLS_KEY].split(",")
    assert trained_tools == sorted(spec["function"]["name"] for spec in record["tools"])
    messages = [{"role": "system", "content": record["metadata"]["student_system_prompt"]},
                *record["messages"][1:4]]
    prompt = ChatFormat.for_gguf(smollm2_gguf).render(messages, tools=record["tools"], add_generation_prompt=True)
    target = record["messages"][4]["content"]
    scores = {}
    for name, lora in (("base", None), ("adapter", str(adapter))):
        llm = Llama(model_path=str(smollm2_gguf), lora_path=lora, n_ctx=1024, logits_all=True, verbose=False)
        scores[name] = _target_logprob(llm, prompt, target)
        generated = llm.create_completion(prompt, max_tokens=24, temperature=0.0)["choices"][0]["text"]
        assert isinstance(generated, str)
        del llm
    assert scores["adapter"] > scores["base"] + 1.0, scores


def test_registry_activate_rollback_and_the_gate(tmp_path, monkeypatch):
    from quarry.finetune import registry

    monkeypatch.setenv("QUARRY_HOME", str(tmp_path))
    monkeypatch.setattr(registry, "SHIPPED_DIR", tmp_path / "no-shipped-adapters")
    folder = registry.adapters_dir()
    folder.mkdir(parents=True)
    for i, name in enumerate(("first", "second")):
        record = registry.AdapterRecord(name=name, base="smollm2-135m", run_dir="r", path=str(folder / f"{name}.gguf"),
                                        created_at=f"2026-11-2{i}T00:00:00+00:00")
        (folder / f"{name}.json").write_text(record.model_dump_json())
    assert registry.active_model_spec() is None
    registry.activate("first")
    registry.activate("second")
    assert registry.active_adapter("smollm2-135m") == folder / "second.gguf"
    assert registry.active_adapter("gemma3-270m") is None
    with pytest.raises(ModelError, match="no live adapter was trained on gemma3-270m"):
        registry.open_with_adapters("local:gemma3-270m+adapter:active")
    assert registry.rollback() == "first"
    assert registry.active_model_spec() == f"local:smollm2-135m+adapter:{folder / 'first.gguf'}"
    assert [r.name for r in registry.list_adapters()] == ["first", "second"]
    assert registry.gate(0.6, 0.5) and registry.gate(0.5, 0.5) and registry.gate(0.1, None)
    assert not registry.gate(0.4, 0.5), "a worse adapter must not go live"
    with pytest.raises(Exception, match="no adapter named"):
        registry.activate("missing")


def test_the_shipped_adapter_is_live_until_the_user_chooses(tmp_path, monkeypatch):
    from quarry.finetune import registry

    monkeypatch.setenv("QUARRY_HOME", str(tmp_path / "home"))
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    monkeypatch.setattr(registry, "SHIPPED_DIR", shipped)
    record = registry.AdapterRecord(name=registry.SHIPPED_DEFAULT, base="smollm2-135m", run_dir="",
                                    path=f"{registry.SHIPPED_DEFAULT}.gguf", created_at="2026-11-25T00:00:00+00:00")
    (shipped / f"{registry.SHIPPED_DEFAULT}.json").write_text(record.model_dump_json())
    assert registry.active_name() == registry.SHIPPED_DEFAULT
    live = registry.get_adapter(registry.SHIPPED_DEFAULT)
    assert live.shipped and Path(live.path) == shipped / f"{registry.SHIPPED_DEFAULT}.gguf"
    assert registry.active_model_spec() == f"local:smollm2-135m+adapter:{live.path}"
    with pytest.raises(Exception, match="read-only"):
        registry.update_metrics(registry.SHIPPED_DEFAULT, {"x": 1})
    assert registry.rollback() is None
    assert registry.active_name() is None, "a rollback to the bare base model must stick"


def test_the_committed_adapter_carries_its_provenance_and_answers_through_llama_cpp(smollm2_gguf):
    """The shipped owned model: record complete, GGUF loads on the quantized base and makes a valid tool call."""
    from datetime import datetime, timezone

    from quarry.agent.loop import offered_tools
    from quarry.agent.prompts import opening
    from quarry.agent.tools.base import tool_specs
    from quarry.agent.tools.registry import all_tools, schema_description
    from quarry.finetune import registry
    from quarry.llm.specs import open_model

    record = registry.get_adapter(registry.SHIPPED_DEFAULT)
    assert record.shipped and Path(record.path).is_file()
    for key in ("command", "seed", "data_hash", "traces", "teacher"):
        assert record.provenance.get(key) not in (None, ""), key
    assert record.metrics.get("heldout_success") is not None
    model = open_model(registry.model_spec(record))
    # Served the tools it was trained with: the eight of its traces, not the people and message lookups added since.
    assert set(model.trained_tools) == set(all_tools()) - {"find_person", "find_message"}
    tools = tool_specs(offered_tools(model, all_tools()), compact=True)
    assert len(tools) == 8
    messages = opening("student", schema_description(), "When is the board dinner?",
                       datetime(2026, 11, 30, tzinfo=timezone.utc))
    reply = model.chat(messages, tools=tools, max_tokens=96)
    assert reply.tool_calls and reply.tool_calls[0].name in {spec["function"]["name"] for spec in tools}


def _tiny_causal_lm(kind: str):
    """A randomly initialised two-layer model of the given architecture (no weights needed)."""
    import torch
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    if kind == "gemma3":  # one sliding layer with a window shorter than a packed row
        config = Gemma3TextConfig(vocab_size=300, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                  num_attention_heads=2, num_key_value_heads=1, head_dim=32, sliding_window=24,
                                  layer_types=["sliding_attention", "full_attention"])
        return Gemma3ForCausalLM(config).eval()
    config = LlamaConfig(vocab_size=300, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1)
    return LlamaForCausalLM(config).eval()


@pytest.mark.parametrize("kind", ["llama", "gemma3"])
def test_rows_sharing_a_prefix_give_exactly_the_unpacked_loss(kind):
    """Packing with a shared prefix is an optimisation, not an approximation: same loss, same gradients."""
    import random

    import torch

    from quarry.finetune.dataset import MIN_SHARED_PREFIX, Example, PackedBatch, pack
    from quarry.finetune.objective import AssistantLoss, to_tensors

    rng = random.Random(3)
    prefix = [rng.randrange(5, 300) for _ in range(MIN_SHARED_PREFIX + 6)]
    examples = []
    for i in range(4):
        question = [rng.randrange(5, 300) for _ in range(rng.randrange(4, 12))]
        answer = [rng.randrange(5, 300) for _ in range(rng.randrange(3, 9))]
        ids = prefix + question + answer
        examples.append(Example(f"t{i}", "x", ids, [0] * (len(ids) - len(answer)) + [1] * len(answer)))
    rows = pack(examples, batch_tokens=256)
    assert len(rows) == 1 and rows[0].input_ids[: len(prefix)] == prefix
    assert len(rows[0].input_ids) == len(prefix) + sum(len(e.input_ids) - len(prefix) for e in examples)
    assert rows[0].example_tokens == sum(len(e.input_ids) for e in examples)

    model = AssistantLoss(_tiny_causal_lm(kind))

    def loss_and_grad(batches):
        model.zero_grad()
        total = sum(model(**to_tensors(b, torch.device("cpu")))[0] for b in batches)
        total.backward()
        grad = next(p for p in model.parameters() if p.grad is not None).grad.clone()
        return total.item(), grad

    alone = []
    for example in examples:
        row = PackedBatch()
        row.add(example)
        alone.append(row)
    packed_loss, packed_grad = loss_and_grad(rows)
    alone_loss, alone_grad = loss_and_grad(alone)
    with torch.no_grad():  # and the masks agree with the model's own (causal, sliding window) masking
        native = sum(torch.nn.functional.cross_entropy(
            model.model(input_ids=torch.tensor([e.input_ids])).logits[0], torch.tensor(e.targets),
            ignore_index=-100, reduction="sum").item() for e in examples)
    assert native == pytest.approx(alone_loss, rel=1e-5)
    assert packed_loss == pytest.approx(alone_loss, rel=1e-5)
    assert torch.allclose(packed_grad, alone_grad, atol=1e-5)
