"""Fine-tuning on CPU with the smallest catalog model: loss masks, a few real training steps, resume."""

from __future__ import annotations

import json

import pytest

from quarry.finetune.dataset import DatasetConfig, tokenize_record
from quarry.finetune.train import TrainConfig, train
from tests.conftest import ft_trace, FT_EVENTS


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


def test_a_few_steps_lower_eval_loss_and_resume_keeps_the_step_count(ft_traces, tmp_path):
    out = tmp_path / "run"
    config = TrainConfig(student="local:smollm2-135m", traces=[ft_traces], out=out, max_steps=4,
                         batch_tokens=512, eval_every=2, seed=0, eval_templates=["who"])
    first = train(config)
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    evals = [m["eval_loss"] for m in metrics if m.get("eval_loss") is not None]
    assert first.steps == 4 and len(evals) >= 2
    assert evals[-1] < evals[0], f"eval loss did not fall: {evals}"
    assert (out / "loss.png").exists() and (out / "config.json").exists()
    resumed = train(config.model_copy(update={"max_steps": 6}), resume=True)
    assert resumed.steps == 6
