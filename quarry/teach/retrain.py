"""`quarry retrain`: new verified traces -> a new adapter -> held-out comparison -> live only if not worse.

One pass: generate traces from the store's facts (and promote chat traces marked /good), export every
verified trace as the training set, train from the active adapter's weights (or from scratch), export
and register the candidate, then answer the same held-out questions with the candidate and with the
active adapter. The candidate goes live only when its task success is not lower (registry.gate).

Held-out questions: a question file when given (gold questions of a known corpus), else questions
synthesized from the store with a different seed, minus every question already in the trace store,
so neither model has trained on them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, Field

from quarry.config import load_settings, quarry_home
from quarry.errors import InputError
from quarry.evals.answer_scoring import question_hash
from quarry.evals.evaluation import eval_context, run_structured, select_questions
from quarry.evals.gold import GoldQuestion
from quarry.evals.report import ModelSummary, QuestionOutcome, summarize
from quarry.finetune import registry
from quarry.finetune.registry import open_with_adapters
from quarry.finetune.student import student_name
from quarry.finetune.train import StepInfo, TrainConfig, TrainResult, train
from quarry.store.session import StoreSession
from quarry.store.traces import export_jsonl
from quarry.teach.synthesis import synthesize
from quarry.teach.teacher import GenerationSummary, generate_traces, stored_keys

#: Added to --seed for synthesizing held-out questions, so they differ from the training draw.
_EVAL_SEED_OFFSET = 7919


class RetrainConfig(BaseModel):
    db: Path
    teacher: str = "oracle"
    n: int = Field(200, ge=0)
    from_feedback: bool = True
    student: str | None = None
    from_scratch: bool = False
    questions: Path | None = None
    eval_limit: int = Field(20, ge=1)
    #: Agent limits for the held-out comparison (an untrained adapter may use every step at full length).
    eval_max_steps: int = Field(6, ge=1)
    eval_max_tokens: int = Field(512, ge=16)
    epochs: int = Field(2, ge=1)
    max_steps: int | None = None
    seed: int = 0
    name: str | None = None
    out: Path | None = None


class RetrainResult(BaseModel):
    name: str
    run_dir: Path
    generation: GenerationSummary
    training_traces: int
    training: TrainResult
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

    with eval_context(config.db) as ctx:
        return summarize(run_structured(spec, open_with_adapters(spec), questions, ctx, "student",
                                        config.eval_max_steps, config.eval_max_tokens, on_done=done))


def retrain(config: RetrainConfig, *, on_stage: Callable[[str], None] | None = None,
            on_step: Callable[[StepInfo], None] | None = None,
            on_question: Callable[[str, QuestionOutcome], None] | None = None) -> RetrainResult:
    """Run one retraining pass; see the module docstring for the steps."""
    def stage(text: str) -> None:
        if on_stage:
            on_stage(text)

    active_name = registry.active_name()
    active = registry.get_adapter(active_name) if active_name else None
    student = config.student or (f"local:{active.base}" if active else load_settings().default_model)
    name = config.name or _default_name(student)
    run_dir = config.out or quarry_home() / "runs" / name
    if run_dir.exists() and any(run_dir.iterdir()):
        raise InputError(f"{run_dir}: run directory is not empty; choose another --name or --out")
    run_dir.mkdir(parents=True, exist_ok=True)
    store = StoreSession(config.db)
    try:
        stage(f"generating up to {config.n} traces with teacher {config.teacher}")
        generation = generate_traces(store, config.teacher, config.n, config.seed, from_feedback=config.from_feedback)
        traces_file = run_dir / "traces.jsonl"
        count = export_jsonl(store.reader(), traces_file, verified_only=True)
        if count == 0:
            raise InputError(f"{config.db}: no verified traces to train on")
        questions, source = _heldout_questions(store, config)
    finally:
        store.close()
    if not questions:
        raise InputError("no held-out questions to compare the adapters on")
    same_base = active is not None and active.base == student_name(student)
    init = active.peft_dir if same_base and not config.from_scratch and active.peft_dir.is_dir() else None
    stage(f"training {student} on {count} verified traces " + (f"from {active_name}" if init else "from scratch"))
    trained = train(TrainConfig(student=student, traces=[traces_file], out=run_dir / "train", init_adapter=init,
                                epochs=config.epochs, max_steps=config.max_steps, seed=config.seed), on_step)
    record = registry.register(trained.run_dir, name)
    stage(f"comparing on {len(questions)} held-out questions")
    candidate = _evaluate(registry.model_spec(record), questions, config, on_question)
    current = _evaluate(registry.model_spec(active), questions, config, on_question) if active else None
    registry.update_metrics(name, {"heldout_success": candidate.accuracy, "heldout_n": candidate.n})
    activated = registry.gate(candidate.accuracy, current.accuracy if current else None)
    if activated:
        registry.activate(name)
    return RetrainResult(
        name=name, run_dir=run_dir, generation=generation, training_traces=count, training=trained,
        started_from=active_name if init else None, eval_questions=len(questions), eval_source=source,
        candidate=candidate, active_name=active_name, active=current, activated=activated,
    )
