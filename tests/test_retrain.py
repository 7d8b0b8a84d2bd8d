"""`quarry retrain` end to end on CPU: oracle traces -> real training steps continuing from the live adapter ->
GGUF adapter -> held-out comparison of both in llama.cpp -> activation only when not worse; and chat feedback
given in a terminal -> preference pairs -> DPO steps from the shipped adapter.

The first test's live adapter is the suite's one shared training run (`trained_run`), registered and activated."""

from __future__ import annotations

import json
import os
import subprocess
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


#: The shipped SmolLM2 adapter: the smallest live model a one-step DPO retrain can start from.
SMOLLM2_ADAPTER = "quarry-smollm2-v2"
BOARD_SQL = "SELECT title, starts_at, location, message_id FROM events WHERE title ILIKE '%board dinner%'"
BOARD_ID = "20261001163000.a23b2813ba@lumenfield.io"


def test_chat_good_and_bad_become_pairs_of_the_next_dpo_retrain(sample_store, tmp_path, smollm2_gguf):
    """`/bad` then `/good` on two answers to one question, and a lone `/bad`, given in a real terminal; then
    `quarry retrain --method dpo` (live adapter: the shipped SmolLM2 one, its GGUF made trainable) counts and trains
    them."""
    import pexpect
    from test_chat import PROMPT, QUARRY, spawn_chat, tool_turn, write_replay

    home = tmp_path / "home"
    home.mkdir()
    (home / "models").symlink_to(smollm2_gguf.parent)
    env = {**os.environ, "QUARRY_HOME": str(home)}
    subprocess.run([QUARRY, "models", "activate", SMOLLM2_ADAPTER], env=env, check=True, capture_output=True)
    chat_model = write_replay(
        tmp_path / "chat.json",
        tool_turn("sql", {"query": BOARD_SQL}, "c1"), {"role": "assistant", "content": "It was last spring."},
        tool_turn("sql", {"query": BOARD_SQL}, "c2"),
        {"role": "assistant", "content": f"The board dinner is at Gramercy Tavern. [msg:{BOARD_ID}]"},
        tool_turn("sql", {"query": BOARD_SQL}, "c3"), {"role": "assistant", "content": "Somewhere in town."},
    )
    teacher = write_replay(tmp_path / "teacher.json", tool_turn("sql", {"query": BOARD_SQL}, "t1"),
                           {"role": "assistant", "content": f"At Gramercy Tavern, 42 E 20th St. [msg:{BOARD_ID}]"})
    chat = spawn_chat(sample_store, home, f"replay:{chat_model}")
    for question, verdict in [("Where is the board dinner?", "/bad"), ("Where is the board dinner?", "/good"),
                              ("Which venue hosts the Lumenfield board dinner?", "/bad")]:
        chat.expect(PROMPT)
        chat.sendline(question)
        chat.expect(PROMPT)
        chat.sendline(verdict)
        chat.expect("stored on trace")
    chat.expect(PROMPT)
    chat.sendline("/exit")
    chat.expect(pexpect.EOF)
    chat.close()

    done = subprocess.run(
        [QUARRY, "retrain", "--method", "dpo", "--teacher", f"replay:{teacher}", "--rounds", "1",
         "--round-questions", "1", "--samples", "1", "--max-steps", "1", "--eval-limit", "1", "--name", "fb",
         "--agent-max-steps", "1", "--agent-max-tokens", "64",  # the same code paths, short runs
         "--db", str(sample_store), "--json"],
        env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["feedback"] == {"good": 1, "bad": 2, "good_vs_bad": 1, "bad_vs_teacher": 1, "unpaired": {}}
    (round_one,) = result["rounds"]
    assert round_one["pairs"]["feedback"] == 1 and round_one["pairs"]["feedback_teacher"] == 1
    assert round_one["trained"]["dpo"]["steps"] == 1 and result["started_from"] == SMOLLM2_ADAPTER
    pairs = [json.loads(line) for line in (Path(result["run_dir"]) / "round-1" / "pairs.jsonl").read_text().splitlines()]
    feedback = {p["rejected"]["messages"][-1]["content"]: p for p in pairs if p["source"].startswith("feedback")}
    assert feedback["It was last spring."]["chosen"]["messages"][-1]["content"].startswith("The board dinner is at")
    lone = feedback["Somewhere in town."]
    asked = lone["chosen"]["messages"][1]["content"].splitlines()  # the dated user turn the model saw
    assert asked[0].startswith("Today is ") and asked[1:] == ["Which venue hosts the Lumenfield board dinner?"]
    assert lone["chosen"]["messages"][-1]["content"].startswith("At Gramercy Tavern")
