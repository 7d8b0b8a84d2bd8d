"""Preference tuning on CPU: GGUF adapters made trainable again, DPO steps on the smallest student, pair files."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from conftest import FT_EVENTS, ft_trace


def _pair(index: int, event: tuple) -> dict:
    """A right and a wrong answer to one question: the wrong one names another event's time."""
    chosen = ft_trace("when", index, event)
    rejected = copy.deepcopy(chosen)
    other = FT_EVENTS[(FT_EVENTS.index(event) + 1) % len(FT_EVENTS)]
    rejected["messages"][-1]["content"] = f"The {event[0]} is at {other[1]}. [msg:m{index}@x]"
    return {"question": chosen["messages"][1]["content"], "chosen": chosen, "rejected": rejected, "source": "sampled"}


@pytest.fixture
def pairs_file(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(_pair(i, e)) + "\n" for i, e in enumerate(FT_EVENTS)), encoding="utf-8")
    return path


def test_a_gguf_adapter_converts_back_to_the_peft_weights_it_was_exported_from(trained_run, tmp_path):
    from safetensors.numpy import load_file

    from quarry.finetune.export import adapter_source, export_gguf_lora, peft_from_gguf
    from quarry.finetune.student import StudentInfo

    run_dir = trained_run[0]
    info = StudentInfo.model_validate(json.loads((run_dir / "config.json").read_text())["student"])
    back = peft_from_gguf(export_gguf_lora(run_dir, tmp_path / "a.gguf"), info, tmp_path / "back")
    original = load_file(str(adapter_source(run_dir) / "adapter_model.safetensors"))
    restored = load_file(str(back / "adapter_model.safetensors"))
    assert set(restored) == set(original)
    for key, value in original.items():  # GGUF adapters are float16: equal to that precision, q/k rows in place
        np.testing.assert_allclose(restored[key], value, rtol=2e-3, atol=1e-5, err_msg=key)
    config = json.loads((back / "adapter_config.json").read_text())
    saved = json.loads((adapter_source(run_dir) / "adapter_config.json").read_text())
    assert config["r"] == saved["r"] and config["lora_alpha"] == saved["lora_alpha"]


def test_dpo_steps_make_the_student_prefer_the_right_answer_and_export(pairs_file, tmp_path, trained_run):
    from quarry.finetune.export import export_gguf_lora
    from quarry.finetune.preference import PreferenceConfig, train_preference

    steps = []
    # A learning rate far above the default, so one update on four pairs moves the margin measurably.
    config = PreferenceConfig(student="local:smollm2-135m", pairs=[pairs_file], out=tmp_path / "dpo",
                              init_adapter=trained_run[0] / "adapter", lr=2e-4, epochs=2, pairs_per_step=4,
                              eval_fraction=0.0)
    result = train_preference(config, steps.append)
    assert result.steps == 2 and len(steps) == 2
    assert steps[0].reward_margin == pytest.approx(0.0, abs=1e-4), "step 1 starts at the reference policy"
    assert steps[0].loss == pytest.approx(0.6931, abs=1e-3)  # log 2: no preference yet
    assert steps[1].reward_margin > 0.05 and steps[1].pair_accuracy == 1.0 and steps[1].loss < steps[0].loss
    run = json.loads((tmp_path / "dpo" / "config.json").read_text())
    assert run["method"] == "dpo" and run["dataset"]["train_pairs"] == 4 and run["dataset"]["sources"] == {"sampled": 4}
    assert (tmp_path / "dpo" / "loss.png").exists()
    assert export_gguf_lora(result.run_dir, tmp_path / "dpo.gguf").stat().st_size > 0


def test_a_bad_pairs_line_names_the_file_and_line(tmp_path):
    from quarry.errors import InputError
    from quarry.finetune.preference import read_pairs

    path = tmp_path / "pairs.jsonl"
    path.write_text(json.dumps(_pair(0, FT_EVENTS[0])) + "\n" + '{"question": "x"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"pairs.jsonl:2: not a preference pair"):
        read_pairs(path)


def test_held_out_pairs_are_whole_questions():
    from quarry.finetune.preference import PreferencePair, split_by_question

    pairs = [PreferencePair(question=f"q{i % 5}", chosen={}, rejected={}) for i in range(20)]
    train, held = split_by_question(pairs, 0.4, seed=3)
    assert held and train and not {pairs[i].question for i in train} & {pairs[i].question for i in held}
