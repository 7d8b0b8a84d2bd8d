"""Rounds of learning from the student's own samples: sample, score, train, serve the result, repeat.

Each round draws new synthesized questions, samples the current policy k times per question with the
strict reward (`teach.sampling`), then trains on what the samples show, in the order the methods are
named: `rft` fine-tunes on the distinct right runs, `dpo` tunes on (right, wrong) pairs of a question
(round 1 adds the chat feedback pairs). Each training continues from the previous one's weights; the
result is exported to GGUF so the next round samples it through llama.cpp, as users are served.
A round is a folder: round.json (settings and figures), the traces and pairs it trained on, each
training's run directory, and reward.png over the rounds so far.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from quarry.errors import InputError
from quarry.evals.charts import reward_curve
from quarry.finetune.export import adapter_source, export_gguf_lora
from quarry.finetune.preference import (
    PreferenceConfig,
    PreferencePair,
    count_sources,
    train_preference,
    write_pairs,
)
from quarry.finetune.student import student_name
from quarry.finetune.train import TrainConfig, TrainResult, train
from quarry.store.session import StoreSession
from quarry.store.traces import write_jsonl
from quarry.teach.sampling import Progress, RoundReward, SamplingConfig, distinct_right, sample_questions, sampled_pairs
from quarry.teach.synthesis import synthesize

RoundMethod = Literal["rft", "dpo"]
#: Added to the seed per round, so rounds draw different questions.
_ROUND_SEED_STRIDE = 104729


class RoundSettings(BaseModel):
    """How rft/dpo rounds sample and tune; `quarry retrain` carries these as they are."""

    rounds: int = Field(1, ge=1)
    #: Synthesized questions per round.
    questions: int = Field(24, ge=1)
    sampling: SamplingConfig = Field(default_factory=SamplingConfig)
    beta: float = Field(0.1, gt=0)
    dpo_lr: float = Field(1e-5, gt=0)


class RoundsConfig(RoundSettings):
    methods: list[RoundMethod]
    epochs: int = Field(1, ge=1)
    max_steps: int | None = None
    seed: int = 0


class RoundRecord(BaseModel):
    """What one round sampled and trained."""

    round: int
    policy: str
    reward: RoundReward
    rft_traces: int = 0
    pairs: dict[str, int] = Field(default_factory=dict)
    trained: dict[str, TrainResult] = Field(default_factory=dict)
    run_dir: Path


class Policy(BaseModel):
    """The weights a round samples and trains from: how to serve them and where the trainable copy is."""

    spec: str
    weights: Path | None


def serve_policy(run_dir: Path, student: str, out: Path) -> Policy:
    """A trained run as a policy: its best adapter exported to GGUF for llama.cpp."""
    gguf = export_gguf_lora(run_dir, out)
    return Policy(spec=f"local:{student_name(student)}+adapter:{gguf}", weights=adapter_source(run_dir))


def _train_rft(traces: Path, student: str, policy: Policy, config: RoundsConfig, out: Path,
               on_step: Callable[[Any], None] | None) -> TrainResult:
    return train(TrainConfig(student=student, traces=[traces], out=out, init_adapter=policy.weights,
                             epochs=config.epochs, max_steps=config.max_steps, seed=config.seed,
                             eval_fraction=0.0), on_step)


def _train_dpo(pairs: Path, student: str, policy: Policy, config: RoundsConfig, out: Path,
               on_step: Callable[[Any], None] | None) -> TrainResult:
    return train_preference(PreferenceConfig(student=student, pairs=[pairs], out=out, init_adapter=policy.weights,
                                             beta=config.beta, lr=config.dpo_lr, epochs=config.epochs,
                                             max_steps=config.max_steps, seed=config.seed), on_step)


def _one_round(store: StoreSession, number: int, student: str, policy: Policy, config: RoundsConfig,
               heldout: set[str], feedback: list[PreferencePair], out: Path,
               on_stage: Callable[[str], None], on_step: Callable[[Any], None] | None,
               on_sample: Progress | None) -> tuple[RoundRecord, Policy]:
    seed = config.seed + number * _ROUND_SEED_STRIDE
    questions = synthesize(store.reader(), config.questions, seed, heldout).questions
    if not questions:
        raise InputError(f"{store.path}: no facts to synthesize questions from")
    on_stage(f"round {number}: sampling {policy.spec} {config.sampling.samples}x on {len(questions)} questions")
    sampling = config.sampling.model_copy(update={"seed": seed})
    sampled, reward = sample_questions(store, policy.spec, questions, sampling, on_sample)
    record = RoundRecord(round=number, policy=policy.spec, reward=reward, run_dir=out)
    on_stage(f"round {number}: reward {reward.reward:.0%} ({reward.right_runs}/{reward.runs} runs right, "
             f"{reward.questions_solved}/{reward.questions} questions solved)")
    for method in config.methods:
        if method == "rft":
            right = distinct_right(sampled)
            record.rft_traces = write_jsonl(right, out / "rft-traces.jsonl")
            if not right:
                continue
            record.trained["rft"] = _train_rft(out / "rft-traces.jsonl", student, policy, config, out / "rft", on_step)
        else:
            pairs = sampled_pairs(sampled, config.sampling.pairs_per_question) + (feedback if number == 1 else [])
            record.pairs = count_sources(pairs)
            if not pairs:
                continue
            write_pairs(pairs, out / "pairs.jsonl")
            record.trained["dpo"] = _train_dpo(out / "pairs.jsonl", student, policy, config, out / "dpo", on_step)
        policy = serve_policy(out / method, student, out / f"policy-{method}.gguf")
    return record, policy


def run_rounds(store: StoreSession, student: str, start: Policy, config: RoundsConfig, run_dir: Path,
               heldout: set[str], feedback: list[PreferencePair], on_stage: Callable[[str], None],
               on_step: Callable[[Any], None] | None = None,
               on_sample: Progress | None = None) -> tuple[list[RoundRecord], Policy]:
    """All rounds from `start`; returns their records and the final policy (== start if nothing trained)."""
    records: list[RoundRecord] = []
    policy = start
    for number in range(1, config.rounds + 1):
        out = run_dir / f"round-{number}"
        out.mkdir(parents=True, exist_ok=True)
        record, policy = _one_round(store, number, student, policy, config, heldout, feedback, out, on_stage, on_step,
                                    on_sample)
        records.append(record)
        (out / "round.json").write_text(json.dumps({"config": config.model_dump(mode="json"),
                                                     **record.model_dump(mode="json")}, indent=2), encoding="utf-8")
        curve = reward_curve([{"round": r.round, **r.reward.model_dump()} for r in records], out / "reward.png")
        shutil.copyfile(curve, run_dir / "reward.png")  # the run's curve: the latest round's, which has every round
    return records, policy
