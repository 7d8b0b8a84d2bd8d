"""Evaluation results: one line per answered question, per-model summaries, and the report files.

Each run writes per-question JSONL, `report.json` (the summary that `quarry cost` reads) and a PNG
chart into one output directory; the classic-RAG baseline writes the same outcome lines.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from statistics import mean
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from quarry.config import quarry_home
from quarry.errors import InputError

Mode = Literal["structured", "classic"]
REPORT_NAME = "report.json"


class QuestionOutcome(BaseModel):
    """One question answered by one model: the per-question JSONL line."""

    id: str
    question: str
    answer_type: str
    model: str
    mode: Mode = "structured"
    answer: str = ""
    correct: bool = False
    tool_calls: int = 0
    tool_calls_valid: int = 0
    sql_calls: int = 0
    sql_ok: int = 0
    steps: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    retrieved_chars: int = 0
    latency_s: float = 0.0
    cost_usd: float = 0.0
    calendar_checked: bool | None = None
    error: str | None = None
    #: Grounding (agent.grounding): ids the model cited that no tool returned (cut from the answer), why its
    #: answer was replaced by the rows, and whether the answer given still fails the check (by construction: no).
    citations_cut: int = 0
    fallback: str | None = None
    ungrounded: bool = False


class ModelSummary(BaseModel):
    """Per-model figures; rates over tool/SQL calls are None when the model made no such call."""

    n: int
    accuracy: float
    tool_call_valid_rate: float | None
    sql_success_rate: float | None
    steps_mean: float
    prompt_tokens_mean: float
    completion_tokens_mean: float
    #: Characters the retrieval put before the model (tool results / chunks): the variable part of the prompt.
    retrieved_chars_mean: float = 0.0
    latency_p50_s: float
    latency_p95_s: float
    cost_per_question_usd: float
    citations_cut: int = 0
    fallbacks: int = 0
    ungrounded_answers: int = 0


class Split(BaseModel):
    """Which questions were evaluated and why others were not."""

    question_file: str
    questions_in_file: int
    limit: int | None
    evaluated: int
    excluded_in_training: list[str] = Field(default_factory=list)
    training_traces_checked: int = 0
    rule: str = "questions whose normalized-text hash matches a verified trace in the store are excluded"


class EvalReport(BaseModel):
    """What `quarry eval agent` produced; `report.json` in the output directory."""

    kind: str = "agent"
    created_at: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    db: str
    split: Split
    models: dict[str, ModelSummary]
    files: dict[str, str] = Field(default_factory=dict)
    chart: str | None = None
    out_dir: str


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def summarize(outcomes: list[QuestionOutcome]) -> ModelSummary:
    """The summary figures of one model's outcomes."""
    if not outcomes:
        raise InputError("no question was evaluated: nothing to summarize")
    latencies = [o.latency_s for o in outcomes]
    return ModelSummary(
        n=len(outcomes),
        accuracy=mean(o.correct for o in outcomes),
        tool_call_valid_rate=_rate(sum(o.tool_calls_valid for o in outcomes), sum(o.tool_calls for o in outcomes)),
        sql_success_rate=_rate(sum(o.sql_ok for o in outcomes), sum(o.sql_calls for o in outcomes)),
        steps_mean=mean(o.steps for o in outcomes),
        prompt_tokens_mean=mean(o.prompt_tokens for o in outcomes),
        completion_tokens_mean=mean(o.completion_tokens for o in outcomes),
        retrieved_chars_mean=mean(o.retrieved_chars for o in outcomes),
        latency_p50_s=_percentile(latencies, 50),
        latency_p95_s=_percentile(latencies, 95),
        cost_per_question_usd=mean(o.cost_usd for o in outcomes),
        citations_cut=sum(o.citations_cut for o in outcomes),
        fallbacks=sum(o.fallback is not None for o in outcomes),
        ungrounded_answers=sum(o.ungrounded for o in outcomes),
    )


# --- files ----------------------------------------------------------------------------------------


def default_out_dir() -> Path:
    return quarry_home() / "eval" / datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def slug(spec: str) -> str:
    """A file-name-safe form of a model spec."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", spec).strip("_") or "model"


def write_outcomes(path: Path, outcomes: list[QuestionOutcome]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for outcome in outcomes:
            handle.write(outcome.model_dump_json() + "\n")


def write_report(out_dir: Path, report: BaseModel) -> Path:
    path = out_dir / REPORT_NAME
    path.write_text(report.model_dump_json(indent=2), encoding="utf-8")
    return path


def latest_report(root: Path | None = None) -> Path:
    """The newest `report.json` under the evaluation directory (default `$QUARRY_HOME/eval`)."""
    folder = root or quarry_home() / "eval"
    reports = sorted(folder.glob(f"*/{REPORT_NAME}"), key=lambda p: p.stat().st_mtime)
    if not reports:
        raise InputError(f"{folder}: no evaluation report yet: run `quarry eval agent` first or pass --report")
    return reports[-1]


def load_report(path: Path) -> dict[str, Any]:
    """A report.json as data; a missing or broken file is an InputError naming it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read evaluation report: {exc}") from exc
    if not isinstance(data.get("models"), dict) and not isinstance(data.get("structured"), dict):
        raise InputError(f"{path}: not an evaluation report (no 'models' or 'structured' section)")
    return data
