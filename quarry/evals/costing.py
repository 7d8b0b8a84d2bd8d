"""Monthly cost per model and the break-even point of training an owned student.

Fed only with measurements: tokens per question from an evaluation report, the price table
(`quarry.llm.accounting`, config `prices`, or flags), and the training time recorded in a training
run directory (`metrics.jsonl`: tokens / tokens_per_s of the last step) times a GPU-hour price.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from quarry.config import Prices, load_settings, quarry_home
from quarry.errors import InputError
from quarry.llm.accounting import price_for


class ModelCost(BaseModel):
    """What one model costs a month at the given question volume."""

    model: str
    role: str
    prompt_tokens_per_question: float
    completion_tokens_per_question: float
    input_usd_per_mtok: float
    output_usd_per_mtok: float
    usd_per_question: float
    usd_per_month: float


class CostReport(BaseModel):
    questions_per_month: int
    report: str
    models: list[ModelCost]
    training_seconds: float | None
    training_source: str | None
    gpu_hour_usd: float
    training_cost_usd: float | None
    monthly_saving_usd: float | None
    months_to_break_even: float | None


def parse_price(text: str) -> Prices:
    """'IN/OUT' or 'BOTH' in USD per million tokens, e.g. '0.15/0.60'."""
    try:
        parts = [float(p) for p in text.split("/")]
    except ValueError:
        parts = []
    if len(parts) not in (1, 2) or any(p < 0 for p in parts):
        raise InputError(f"price {text!r}: give USD per million tokens as IN/OUT (e.g. 0.15/0.60) or one number")
    return Prices(input_per_mtok=parts[0], output_per_mtok=parts[-1])


def measured_tokens(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per model summary from an `eval agent` report, or the structured side of a rag-vs-structured one."""
    if isinstance(report.get("models"), dict):
        return report["models"]
    return {report["model"]: report["structured"]}


def training_seconds(run_dir: Path) -> float:
    """Optimizer time of a training run: tokens / tokens_per_s of its last metrics record."""
    path = run_dir / "metrics.jsonl"
    try:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        last = json.loads(lines[-1])
        return float(last["tokens"]) / float(last["tokens_per_s"])
    except (OSError, IndexError, KeyError, ValueError, ZeroDivisionError) as exc:
        raise InputError(f"{path}: no usable training metrics ({exc.__class__.__name__}: {exc})") from exc


def latest_run_dir() -> Path | None:
    """The newest training run under `$QUARRY_HOME/runs`, if any."""
    runs = sorted((quarry_home() / "runs").glob("*/metrics.jsonl"), key=lambda p: p.stat().st_mtime)
    return runs[-1].parent if runs else None


def _model_cost(spec: str, role: str, figures: dict[str, Any], price: Prices, per_month: int) -> ModelCost:
    prompt, completion = float(figures["prompt_tokens_mean"]), float(figures["completion_tokens_mean"])
    per_question = (prompt * price.input_per_mtok + completion * price.output_per_mtok) / 1e6
    return ModelCost(model=spec, role=role, prompt_tokens_per_question=prompt,
                     completion_tokens_per_question=completion, input_usd_per_mtok=price.input_per_mtok,
                     output_usd_per_mtok=price.output_per_mtok, usd_per_question=per_question,
                     usd_per_month=per_question * per_month)


def _roles(models: list[str], teacher: str | None, student: str | None) -> tuple[str | None, str | None]:
    """Teacher: the flag, else the configured teacher if measured, else the first model; student: the flag,
    else the first other model."""
    teacher = teacher or (load_settings().teacher if load_settings().teacher in models else models[0])
    student = student or next((m for m in models if m != teacher), None)
    for spec in (teacher, student):
        if spec is not None and spec not in models:
            raise InputError(f"model {spec!r} is not in the report; it measured: {', '.join(models)}")
    return teacher, student


def cost_report(report_path: Path, questions_per_month: int, *, teacher: str | None = None,
                student: str | None = None, teacher_price: Prices | None = None,
                student_price: Prices | None = None, gpu_hour_usd: float | None = None,
                run_dir: Path | None = None) -> CostReport:
    """Monthly cost of every measured model, training cost and months to break even (teacher -> student)."""
    from quarry.evals.report import load_report

    if questions_per_month < 0:
        raise InputError("--questions-per-month must be zero or more")
    figures = measured_tokens(load_report(report_path))
    teacher, student = _roles(list(figures), teacher, student)
    overrides = {teacher: teacher_price, student: student_price}
    costs = [
        _model_cost(spec, "teacher" if spec == teacher else "student" if spec == student else "other", data,
                    overrides.get(spec) or price_for(spec), questions_per_month)
        for spec, data in figures.items()
    ]
    gpu = load_settings().gpu_hour_usd if gpu_hour_usd is None else gpu_hour_usd
    run = run_dir or latest_run_dir()
    seconds = training_seconds(run) if run else None
    training = seconds / 3600 * gpu if seconds is not None else None
    by_role = {c.role: c for c in costs}
    saving = (by_role["teacher"].usd_per_month - by_role["student"].usd_per_month) if "student" in by_role else None
    months = training / saving if training is not None and saving and saving > 0 else None
    return CostReport(questions_per_month=questions_per_month, report=str(report_path), models=costs,
                      training_seconds=seconds, training_source=str(run) if run else None, gpu_hour_usd=gpu,
                      training_cost_usd=training, monthly_saving_usd=saving, months_to_break_even=months)
