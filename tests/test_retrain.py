"""`quarry retrain` end to end on CPU: oracle traces -> real training steps continuing from the live adapter ->
GGUF adapter -> held-out comparison of both in llama.cpp -> activation only when not worse.

The live adapter is the suite's one shared training run (`trained_run`), registered and activated here."""

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


def test_retrain_continues_from_the_live_adapter_and_activates_only_when_not_worse(
        sample_store, tmp_path, monkeypatch, smollm2_gguf, trained_run):
    from quarry.evals.answer_scoring import question_hash
    from quarry.finetune import registry
    from quarry.teach.retrain import RetrainConfig, retrain

    home = tmp_path / "home"
    home.mkdir()
    (home / "models").symlink_to(smollm2_gguf.parent)  # the pulled models, with a registry of its own
    monkeypatch.setenv("QUARRY_HOME", str(home))
    monkeypatch.setattr(registry, "SHIPPED_DIR", tmp_path / "no-shipped-adapters")
    registry.register(trained_run[0], "first")
    registry.activate("first")
    # A few training steps move the adapter little: either may use every agent step at full length, so the
    # comparison runs on one held-out question with short limits (the same code path).
    config = RetrainConfig(db=sample_store, n=12, student="local:smollm2-135m", eval_limit=1, epochs=1,
                           max_steps=1, name="second", eval_max_steps=1, eval_max_tokens=64)
    asked: list[tuple[str, str]] = []
    result = retrain(config, on_question=lambda spec, outcome: asked.append((spec, outcome.question)))

    assert result.training_traces >= 10 and result.training.steps == 1
    assert result.started_from == "first", "retraining continues from the live adapter's weights"
    assert result.active_name == "first" and result.active is not None and result.candidate.n == 1
    assert result.activated == (result.candidate.accuracy >= result.active.accuracy)
    assert registry.active_name() == ("second" if result.activated else "first")
    assert registry.get_adapter("second").metrics["heldout_n"] == 1
    # Both adapters answered the same held-out question, which is not in the exported training file.
    assert len(asked) == 2 and asked[0][1] == asked[1][1] and asked[0][0] != asked[1][0]
    trained = {question_hash(json.loads(line)["metadata"]["question"])
               for line in (result.run_dir / "traces.jsonl").read_text().splitlines()}
    assert len(trained) >= 10 and question_hash(asked[0][1]) not in trained
    with pytest.raises(Exception, match="not empty"):
        retrain(config)
