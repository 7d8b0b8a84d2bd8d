"""`quarry retrain` end to end on CPU: oracle traces -> a few real training steps -> GGUF adapter ->
held-out comparison in llama.cpp -> activation by the gate; the second pass continues from the first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def sample_store(tmp_path) -> Path:
    """The sample corpus ingested with its gold facts loaded (no fact extraction needed)."""
    from quarry.evals.gold import build_gold_store

    return build_gold_store(ROOT / "sample_corpus", tmp_path / "sample.duckdb")


def test_retrain_trains_compares_and_activates_only_when_not_worse(sample_store, tmp_path, monkeypatch, smollm2_gguf):
    from quarry.evals.answer_scoring import question_hash
    from quarry.finetune import registry
    from quarry.teach.retrain import RetrainConfig, retrain

    home = tmp_path / "home"
    home.mkdir()
    (home / "models").symlink_to(smollm2_gguf.parent)  # the pulled models, with a registry of its own
    monkeypatch.setenv("QUARRY_HOME", str(home))
    monkeypatch.setattr(registry, "SHIPPED_DIR", tmp_path / "no-shipped-adapters")
    # Two training steps leave the base model nearly untouched: it would spend six steps of 512 tokens on
    # a held-out question, so the comparison runs on one question with short limits (the same code path).
    config = RetrainConfig(db=sample_store, n=12, student="local:smollm2-135m", eval_limit=1, epochs=1,
                           max_steps=2, name="first", eval_max_steps=1, eval_max_tokens=64)
    asked: list[str] = []
    first = retrain(config, on_question=lambda spec, outcome: asked.append(outcome.question))
    assert first.training_traces >= 10 and first.training.steps == 2
    assert first.active is None and first.activated, "with nothing live, the first adapter goes live"
    assert registry.active_name() == "first"
    assert registry.get_adapter("first").metrics["heldout_n"] == 1
    # The held-out questions were never training questions: none of them is in the exported training file.
    trained = {question_hash(json.loads(line)["metadata"]["question"])
               for line in (first.run_dir / "traces.jsonl").read_text().splitlines()}
    assert first.eval_questions == 1 and len(asked) == 1 and len(trained) >= 10
    assert not {question_hash(q) for q in asked} & trained

    second = retrain(config.model_copy(update={"name": "second", "n": 0, "seed": 1, "max_steps": 1}))
    assert second.started_from == "first", "retraining continues from the live adapter's weights"
    assert second.active_name == "first" and second.active is not None
    assert second.activated == (second.candidate.accuracy >= second.active.accuracy)
    assert registry.active_name() == ("second" if second.activated else "first")
    with pytest.raises(Exception, match="not empty"):
        retrain(config.model_copy(update={"name": "second"}))
