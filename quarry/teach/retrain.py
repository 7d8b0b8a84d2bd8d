"""`quarry retrain`: new training signal -> a new adapter -> held-out comparison -> live only if not worse.

Methods, in the order named (`--method sft+dpo`, ...): `sft` generates traces from the store's facts
(and promotes chat traces marked /good), exports every verified trace and fine-tunes on them; `rft` and
`dpo` run rounds of sampling the current policy on synthesized questions with a strict reward
(`teach.rounds`): rft fine-tunes on the right runs, dpo tunes on (right, wrong) pairs plus the chat
feedback pairs (`teach.feedback_pairs`). Training continues from the active adapter's weights (a GGUF-only
shipped adapter is converted), unless --from-scratch. The final adapter is exported and registered, then
the same held-out questions are answered with it and with the active adapter; it goes live only when its
task success is not lower (registry.gate).

Held-out questions: a question file when given (gold questions of a known corpus), else questions
synthesized from the store with a different seed, minus every question already in the trace store
(sampled runs are stored, so no round's questions are among them).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from quarry.config import load_settings, quarry_home
from quarry.errors import InputError
from quarry.evals.answer_scoring import question_hash
from quarry.evals.evaluation import eval_context, run_structured, select_questions
from quarry.evals.gold import GoldQuestion
from quarry.evals.report import ModelSummary, QuestionOutcome, summarize
from quarry.finetune import registry
from quarry.finetune.registry import AdapterRecord, open_with_adapters
from quarry.finetune.student import student_name
from quarry.finetune.train import TrainConfig, TrainResult, train
from quarry.store.session import StoreSession
from quarry.store.traces import export_jsonl
from quarry.teach.feedback_pairs import FeedbackPairs, feedback_pairs
from quarry.teach.rounds import Policy, RoundRecord, RoundsConfig, RoundSettings, run_rounds, serve_policy
from quarry.teach.sampling import Progress
from quarry.teach.synthesis import synthesize
from quarry.teach.teacher import (
    DEFAULT_HELDOUT,
    ORACLE,
    GenerationSummary,
    generate_traces,
    heldout_hashes,
    stored_keys,
)

#: Added to --seed for synthesizing held-out questions, so they differ from the training draw.
_EVAL_SEED_OFFSET = 7919

Method = Literal["sft", "rft", "dpo"]


def parse_methods(text: str) -> list[Method]:
    """'sft', 'rft+dpo', 'sft,dpo' -> the methods in order; an unknown or repeated one is an error."""
    names = [part.strip() for part in text.replace(",", "+").split("+") if part.strip()]
    unknown = [n for n in names if n not in ("sft", "rft", "dpo")]
    if unknown or not names or len(set(names)) != len(names):
        raise InputError(f"--method {text!r}: name sft, rft or dpo, each once, joined by '+' (e.g. rft+dpo)")
    if "sft" in names and names[0] != "sft":
        raise InputError(f"--method {text!r}: sft trains on teacher traces and comes first (e.g. sft+rft)")
    return names  # type: ignore[return-value]


class RetrainConfig(BaseModel):
    db: Path
    method: list[Method] = Field(default_factory=lambda: ["sft"])
    teacher: str = "oracle"
    n: int = Field(200, ge=0)
    from_feedback: bool = True
    student: str | None = None
    from_scratch: bool = False
    questions: Path | None = None
    eval_limit: int = Field(20, ge=1)
    #: Where the held-out comparison runs: another mailbox's store (with its --questions), else `db`.
    eval_db: Path | None = None
    #: Agent limits for the held-out comparison (an untrained adapter may use every step at full length).
    eval_max_steps: int = Field(6, ge=1)
    eval_max_tokens: int = Field(512, ge=16)
    epochs: int = Field(2, ge=1)
    max_steps: int | None = None
    seed: int = 0
    name: str | None = None
    out: Path | None = None
    #: rft/dpo rounds: how many, questions per round, how each question is sampled, DPO's beta and lr.
    rounds: RoundSettings = Field(default_factory=RoundSettings)


class RetrainResult(BaseModel):
    name: str
    run_dir: Path
    method: list[Method]
    generation: GenerationSummary | None
    training_traces: int
    training: TrainResult
    rounds: list[RoundRecord]
    feedback: FeedbackPairs | None
    started_from: str | None
    eval_questions: int
    eval_source: str
    candidate: ModelSummary
    active_name: str | None
    active: ModelSummary | None
    activated: bool


def _heldout_questions(store: StoreSession, config: RetrainConfig) -> tuple[list[GoldQuestion], str]:
    if config.questions is not None:
        questions, split = select_questions(config.questions, store, config.eval_limit)
        return questions, f"{config.questions} ({len(split.excluded_in_training)} excluded as seen in training)"
    training = {row[0] for row in store.reader().execute("SELECT question FROM traces WHERE verified").fetchall()}
    seen = {question_hash(q) for q in training}
    drawn = synthesize(store.reader(), config.eval_limit * 3, config.seed + _EVAL_SEED_OFFSET, seen, stored_keys(store))
    questions = [q.gold for q in drawn.questions][: config.eval_limit]
    return questions, "synthesized from the store's facts, none of them in the trace store"


def _default_name(student: str) -> str:
    return f"{student_name(student)}-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}"


def _evaluate(spec: str, questions: list[GoldQuestion], config: RetrainConfig,
              on_question: Callable[[str, QuestionOutcome], None] | None) -> ModelSummary:
    def done(outcome: QuestionOutcome) -> None:
        if on_question:
            on_question(spec, outcome)

    with eval_context(config.eval_db or config.db) as ctx:
        return summarize(run_structured(spec, open_with_adapters(spec), questions, ctx, "student",
                                        config.eval_max_steps, config.eval_max_tokens, on_done=done))


def _start(active: AdapterRecord | None, student: str, config: RetrainConfig) -> Policy:
    """Where training starts: the active adapter (trainable copy, else its GGUF) when it has this base."""
    if active is None or active.base != student_name(student) or config.from_scratch:
        return Policy(spec=student, weights=None)
    weights = active.peft_dir if active.peft_dir.is_dir() else Path(active.path)
    return Policy(spec=registry.model_spec(active), weights=weights)


def _sft(store: StoreSession, config: RetrainConfig, student: str, policy: Policy, run_dir: Path,
         stage: Callable[[str], None], on_step: Callable[[Any], None] | None
         ) -> tuple[GenerationSummary, int, TrainResult]:
    stage(f"generating up to {config.n} traces with teacher {config.teacher}")
    generation = generate_traces(store, config.teacher, config.n, config.seed, from_feedback=config.from_feedback)
    traces_file = run_dir / "traces.jsonl"
    count = export_jsonl(store.reader(), traces_file, verified_only=True)
    if count == 0:
        raise InputError(f"{config.db}: no verified traces to train on")
    stage(f"training {student} on {count} verified traces " + ("from the active adapter" if policy.weights
                                                                else "from scratch"))
    trained = train(TrainConfig(student=student, traces=[traces_file], out=run_dir / "train",
                                init_adapter=policy.weights, epochs=config.epochs, max_steps=config.max_steps,
                                seed=config.seed), on_step)
    return generation, count, trained


def _feedback(store: StoreSession, config: RetrainConfig, stage: Callable[[str], None]) -> FeedbackPairs:
    """Chat feedback as pairs; a lone /bad is answered by the teacher (the configured one for 'oracle')."""
    teacher = config.teacher if config.teacher != ORACLE else load_settings().teacher
    found = feedback_pairs(store, teacher) if config.from_feedback else FeedbackPairs()
    stage(found.summary())
    return found


def retrain(config: RetrainConfig, *, on_stage: Callable[[str], None] | None = None,
            on_step: Callable[[Any], None] | None = None,
            on_question: Callable[[str, QuestionOutcome], None] | None = None,
            on_sample: Progress | None = None) -> RetrainResult:
    """Run one retraining pass; see the module docstring for the steps."""
    def stage(text: str) -> None:
        if on_stage:
            on_stage(text)

    if config.eval_db is not None and config.questions is None:
        raise InputError(f"--eval-db {config.eval_db}: give that mailbox's gold questions with --questions")
    active_name = registry.active_name()
    active = registry.get_adapter(active_name) if active_name else None
    student = config.student or (f"local:{active.base}" if active else load_settings().default_model)
    name = config.name or _default_name(student)
    run_dir = config.out or quarry_home() / "runs" / name
    if run_dir.exists() and any(run_dir.iterdir()):
        raise InputError(f"{run_dir}: run directory is not empty; choose another --name or --out")
    run_dir.mkdir(parents=True, exist_ok=True)
    start = policy = _start(active, student, config)
    generation, count, trained, rounds, feedback = None, 0, None, [], None
    store = StoreSession(config.db)
    try:
        if "sft" in config.method:
            generation, count, trained = _sft(store, config, student, policy, run_dir, stage, on_step)
        methods = [m for m in config.method if m != "sft"]
        if methods:
            if trained is not None:
                policy = serve_policy(trained.run_dir, student, run_dir / "policy-sft.gguf")
            feedback = _feedback(store, config, stage) if "dpo" in methods else None
            rounds, policy = run_rounds(store, student, policy, _rounds_config(config, methods), run_dir,
                                        _heldout_hashes(config), feedback.pairs if feedback else [], stage, on_step,
                                        on_sample)
            trained = next((r for record in reversed(rounds) for r in reversed(record.trained.values())), trained)
        if trained is None:
            raise InputError(f"{len(rounds)} round(s) found no right run and no pair to learn from "
                             f"(reward {', '.join(f'{r.reward.reward:.0%}' for r in rounds)}); see {run_dir}")
        questions, source = _heldout_questions(store, config)
    finally:
        store.close()
    if not questions:
        raise InputError("no held-out questions to compare the adapters on")
    record = registry.register(trained.run_dir, name)
    stage(f"comparing on {len(questions)} held-out questions")
    candidate = _evaluate(registry.model_spec(record), questions, config, on_question)
    current = _evaluate(registry.model_spec(active), questions, config, on_question) if active else None
    registry.update_metrics(name, {"heldout_success": candidate.accuracy, "heldout_n": candidate.n,
                                   "method": "+".join(config.method)})
    activated = registry.gate(candidate.accuracy, current.accuracy if current else None)
    if activated:
        registry.activate(name)
    return RetrainResult(
        name=name, run_dir=run_dir, method=config.method, generation=generation, training_traces=count,
        training=trained, rounds=rounds, started_from=active_name if start.weights else None,
        feedback=feedback,
        eval_questions=len(questions), eval_source=source, candidate=candidate, active_name=active_name,
        active=current, activated=activated,
    )


def _rounds_config(config: RetrainConfig, methods: list[Method]) -> RoundsConfig:
    return RoundsConfig(**dict(config.rounds), methods=methods, epochs=config.epochs, max_steps=config.max_steps,
                        seed=config.seed)


def _heldout_hashes(config: RetrainConfig) -> set[str]:
    """Questions no round may sample: the shipped evaluation questions and the --questions file."""
    return heldout_hashes(DEFAULT_HELDOUT) | heldout_hashes(config.questions)
