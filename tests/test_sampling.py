"""Rejection sampling with the strict reward, and one rft+dpo round with real training steps on CPU.

The sampled policy here is a replayed conversation (a right, a wrong and a hedging answer to the same
synthesized question), so the reward, the kept runs and the pairs are known exactly; the training that
follows runs for real on the smallest student, from the suite's trained adapter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def sample_store(tmp_path) -> Path:
    from quarry.evals.gold import build_gold_store

    return build_gold_store(ROOT / "sample_corpus", tmp_path / "sample.duckdb")


def _when_question(store: Path):
    """A synthesized 'when' question whose oracle steps return the message id it cites."""
    from quarry.store.session import StoreSession
    from quarry.teach.synthesis import synthesize

    session = StoreSession(store)
    try:
        questions = synthesize(session.reader(), 40, seed=1).questions
    finally:
        session.close()
    return next(q for q in questions if q.gold.answer_type == "datetime" and q.gold.message_ids
                and not q.template.startswith("calendar"))


def _replay_three_runs(question, path: Path) -> str:
    """Right, wrong (a day later) and hedged (both days) answers, each after the question's own tool call."""
    from datetime import datetime, timedelta

    step = question.steps[0]
    cite = f"[msg:{question.gold.message_ids[0]}]"
    when = datetime.fromisoformat(str(question.gold.answer))
    later = (when + timedelta(days=1)).isoformat()
    turns = []
    for i, answer in enumerate([f"{question.statement} {cite}", f"It is on {later}. {cite}",
                                f"Either {when.isoformat()} or {later}. {cite}"]):
        call = {"id": f"c{i}", "type": "function", "function": {"name": step.tool, "arguments": json.dumps(step.arguments)}}
        turns += [{"role": "assistant", "content": None, "tool_calls": [call]}, {"role": "assistant", "content": answer}]
    path.write_text(json.dumps({"messages": turns}), encoding="utf-8")
    return f"replay:{path}"


def test_strict_reward_keeps_the_right_run_and_pairs_it_with_a_wrong_one(sample_store, tmp_path):
    from quarry.store.session import StoreSession
    from quarry.teach.sampling import SamplingConfig, distinct_right, sample_questions, sampled_pairs

    question = _when_question(sample_store)
    spec = _replay_three_runs(question, tmp_path / "three.json")
    store = StoreSession(sample_store)
    try:
        sampled, reward = sample_questions(store, spec, [question], SamplingConfig(samples=3))
        stored = store.reader().execute(
            "SELECT verified, metadata->>'reject_reason', metadata->>'source' FROM traces ORDER BY created_at").fetchall()
    finally:
        store.close()
    assert sampled[0].reasons[0] is None, sampled[0].traces[0].final_answer
    assert sampled[0].reasons[1:] == ["wrong_answer", "several_answers"]
    assert reward.runs == 3 and reward.right_runs == 1 and reward.reward == pytest.approx(1 / 3)
    assert reward.questions_solved == 1 and reward.citation_validity == 1.0
    assert reward.fallbacks == 2, "both wrong answers name a day no tool returned: rows were shown instead"
    assert reward.reasons == {"right": 1, "wrong_answer": 1, "several_answers": 1}
    assert [row[0] for row in stored] == [True, False, False] and {row[2] for row in stored} == {"rft"}
    assert [t.final_answer for t in distinct_right(sampled)] == [sampled[0].traces[0].final_answer]
    (pair,) = sampled_pairs(sampled, per_question=2)  # each run in one pair at most: one right run, one pair
    assert pair.chosen["metadata"]["verified"] is True and pair.rejected["metadata"]["verified"] is False
    assert pair.question == question.gold.question


def test_an_rft_and_dpo_round_trains_both_and_serves_the_result(sample_store, tmp_path, trained_run, monkeypatch):
    from types import SimpleNamespace

    from quarry.store.session import StoreSession
    from quarry.teach.rounds import Policy, RoundsConfig, run_rounds
    from quarry.teach.sampling import SamplingConfig

    question = _when_question(sample_store)
    spec = _replay_three_runs(question, tmp_path / "three.json")
    config = RoundsConfig(methods=["rft", "dpo"], rounds=1, questions=1, max_steps=1,
                          sampling=SamplingConfig(samples=3))
    stages: list[str] = []
    # The round draws its own questions; the replay answers whatever it is asked, so the draw is pinned.
    monkeypatch.setattr("quarry.teach.rounds.synthesize", lambda *args, **kwargs: SimpleNamespace(questions=[question]))
    store = StoreSession(sample_store)
    try:
        records, policy = run_rounds(store, "local:smollm2-135m", Policy(spec=spec, weights=trained_run[0] / "adapter"),
                                     config, tmp_path / "run", set(), [], stages.append)
    finally:
        store.close()
    (record,) = records
    assert record.reward.right_runs == 1 and record.rft_traces == 1 and record.pairs == {"sampled": 1}
    assert record.trained["rft"].steps == 1 and record.trained["dpo"].steps == 1
    round_dir = tmp_path / "run" / "round-1"
    assert json.loads((round_dir / "round.json").read_text())["reward"]["reward"] == pytest.approx(1 / 3)
    assert (round_dir / "reward.png").exists() and (tmp_path / "run" / "reward.png").exists()
    # The DPO run continued from the RFT run's weights, and its export is the policy the next round serves.
    dpo_config = json.loads((round_dir / "dpo" / "config.json").read_text())
    assert dpo_config["train"]["init_adapter"] == str(round_dir / "rft" / "adapter")
    assert policy.spec.endswith(str(round_dir / "policy-dpo.gguf")) and policy.weights == round_dir / "dpo" / "adapter"
    assert any("reward 33%" in s for s in stages)


def test_methods_are_named_once_each_and_sft_comes_first():
    from quarry.errors import InputError
    from quarry.teach.retrain import parse_methods

    assert parse_methods("sft") == ["sft"] and parse_methods("rft+dpo") == ["rft", "dpo"]
    assert parse_methods("sft, dpo") == ["sft", "dpo"]
    for bad in ("ppo", "rft+rft", "dpo+sft", ""):
        with pytest.raises(InputError, match="--method"):
            parse_methods(bad)
