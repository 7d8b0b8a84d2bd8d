"""Trace storage: every agent run as one row of `traces`, in OpenAI chat format.

A trace is the training and evaluation record of one run: the full conversation (system, user,
assistant `tool_calls`, `tool` results), the tool schemas offered, cost figures, the final answer
and its citations, and two judgements added later (`verified` by execution, `feedback` by the user).
`to_training_record` is the one place that decides the exported JSONL shape.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import duckdb
from pydantic import BaseModel, ConfigDict, Field

from quarry.errors import InputError, StoreError

Feedback = Literal["good", "bad"]

_COLUMNS = (
    "trace_id", "created_at", "model", "question", "messages", "tools", "final_answer", "citations",
    "prompt_tokens", "completion_tokens", "latency_s", "verified", "feedback", "metadata",
)
_JSON_COLUMNS = ("messages", "tools", "metadata")


def new_trace_id() -> str:
    return uuid.uuid4().hex


class TraceMetadata(BaseModel):
    """What a run records beside its conversation: the loop writes the run's settings, a teacher adds its
    verdict and the known answer, the export adds the row's columns, and training reads it back.

    Unknown keys are kept (a trace file from another version still loads and exports unchanged).
    """

    model_config = ConfigDict(extra="allow")

    # Written by the agent loop (and the session or evaluation that started the run).
    profile: str | None = None
    max_steps: int | None = None
    now: str | None = None
    step_usage: list[dict[str, int | float]] = Field(default_factory=list)  # tokens and latency_s per model call
    student_system_prompt: str | None = None
    student_tools: list[dict[str, Any]] | None = None
    forced: bool = False
    unknown_citations: list[str] = Field(default_factory=list)
    fallback: str | None = None  # why the answer is a rendering of the rows, not the model's (agent.grounding)
    unfound: list[str] = Field(default_factory=list)  # the model's dates/times/numbers no tool result held
    model_spec: str | None = None
    evaluation: bool = False
    # Written by teacher runs (`quarry traces generate`) and feedback promotion.
    source: str | None = None
    template: str | None = None
    teacher: str | None = None
    verified: bool | None = None
    reject_reason: str | None = None
    question_id: str | None = None
    question_hash: str | None = None
    original_question: str | None = None
    paraphrased: bool | None = None
    dedupe_key: str | None = None
    answer_type: str | None = None
    known_answer: Any = None
    accept: list[Any] | None = None
    message_ids: list[str] | None = None
    # Written by the export (`to_training_record`).
    trace_id: str | None = None

    def stored(self) -> dict[str, Any]:
        """The JSON form kept in the store and in exports: fields still at their defaults are left out."""
        return self.model_dump(mode="json", exclude_defaults=True)


class Trace(BaseModel):
    """One agent run as stored; `messages`/`tools` are OpenAI chat-format dicts."""

    trace_id: str = Field(default_factory=new_trace_id)
    created_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
    model: str
    question: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] = Field(default_factory=list)
    final_answer: str | None = None
    citations: list[str] = Field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    verified: bool | None = None
    feedback: Feedback | None = None
    metadata: TraceMetadata = Field(default_factory=TraceMetadata)

    def tool_call_count(self) -> int:
        return sum(len(m.get("tool_calls") or []) for m in self.messages if m.get("role") == "assistant")


def insert_trace(con: duckdb.DuckDBPyConnection, trace: Trace) -> str:
    """Store one trace (a writer connection); returns its id."""
    row = trace.model_dump(mode="python")
    row["metadata"] = trace.metadata.stored()
    for column in _JSON_COLUMNS:
        row[column] = json.dumps(row[column], ensure_ascii=False, default=str)
    placeholders = ", ".join("?" for _ in _COLUMNS)
    con.execute(f"INSERT INTO traces ({', '.join(_COLUMNS)}) VALUES ({placeholders})", [row[c] for c in _COLUMNS])
    return trace.trace_id


def _from_row(row: tuple[Any, ...]) -> Trace:
    data = dict(zip(_COLUMNS, row, strict=True))
    for column in _JSON_COLUMNS:
        data[column] = json.loads(data[column]) if data[column] else ({} if column == "metadata" else [])
    data["citations"] = data["citations"] or []
    return Trace.model_validate(data)


def list_traces(
    con: duckdb.DuckDBPyConnection,
    *,
    limit: int | None = 20,
    verified_only: bool = False,
    feedback: Feedback | None = None,
) -> list[Trace]:
    """Traces, newest first, optionally only verified ones or only those with a given feedback."""
    where, params = ["true"], []
    if verified_only:
        where.append("verified")
    if feedback:
        where.append("feedback = ?")
        params.append(feedback)
    sql = f"SELECT {', '.join(_COLUMNS)} FROM traces WHERE {' AND '.join(where)} ORDER BY created_at DESC, trace_id"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [_from_row(r) for r in con.execute(sql, params).fetchall()]


def resolve_trace_id(con: duckdb.DuckDBPyConnection, trace_id: str) -> str:
    """The full id for an id or a unique prefix of one (as `traces list` shows them)."""
    rows = con.execute(
        "SELECT trace_id FROM traces WHERE starts_with(trace_id, ?) ORDER BY trace_id LIMIT 2", [trace_id]
    ).fetchall()
    if not rows:
        raise StoreError(f"no trace with id {trace_id!r}")
    if len(rows) > 1 and rows[0][0] != trace_id:
        raise StoreError(f"trace id prefix {trace_id!r} is ambiguous: give more characters")
    return rows[0][0]


def get_trace(con: duckdb.DuckDBPyConnection, trace_id: str) -> Trace:
    """One trace by id or unique id prefix."""
    full = resolve_trace_id(con, trace_id)
    row = con.execute(f"SELECT {', '.join(_COLUMNS)} FROM traces WHERE trace_id = ?", [full]).fetchone()
    return _from_row(row)


def set_feedback(con: duckdb.DuckDBPyConnection, trace_id: str, feedback: Feedback | None) -> str:
    """Record the user's judgement of a run (`good`, `bad`, or None to clear); returns the full id."""
    if feedback not in ("good", "bad", None):
        raise InputError(f"feedback must be 'good' or 'bad', not {feedback!r}")
    full = resolve_trace_id(con, trace_id)
    con.execute("UPDATE traces SET feedback = ? WHERE trace_id = ?", [feedback, full])
    return full


def set_verified(con: duckdb.DuckDBPyConnection, trace_id: str, verified: bool | None) -> str:
    """Record whether executing/checking the run confirmed its answer; returns the full id."""
    full = resolve_trace_id(con, trace_id)
    con.execute("UPDATE traces SET verified = ? WHERE trace_id = ?", [verified, full])
    return full


def to_training_record(trace: Trace) -> dict[str, Any]:
    """The exported shape: `messages` + `tools` (OpenAI fine-tuning / chat SFT) + `metadata`."""
    metadata = {
        "trace_id": trace.trace_id,
        "model": trace.model,
        "question": trace.question,
        "verified": trace.verified,
        "feedback": trace.feedback,
        "created_at": trace.created_at.isoformat(),
        "final_answer": trace.final_answer,
        "citations": trace.citations,
        "prompt_tokens": trace.prompt_tokens,
        "completion_tokens": trace.completion_tokens,
        "latency_s": trace.latency_s,
        **trace.metadata.stored(),
    }
    return {"messages": trace.messages, "tools": trace.tools, "metadata": metadata}


def write_jsonl(traces: Iterable[Trace], out: Path) -> int:
    """Write one training record per line; returns how many were written."""
    count = 0
    try:
        with out.open("w", encoding="utf-8") as handle:
            for trace in traces:
                handle.write(json.dumps(to_training_record(trace), ensure_ascii=False, default=str) + "\n")
                count += 1
    except OSError as exc:
        raise InputError(f"{out}: cannot write export: {exc.strerror}") from exc
    return count


def export_jsonl(
    con: duckdb.DuckDBPyConnection, out: Path, *, verified_only: bool = False, feedback: Feedback | None = None
) -> int:
    """Export the selected traces, oldest first, as JSONL training records; returns the count."""
    traces = list_traces(con, limit=None, verified_only=verified_only, feedback=feedback)
    return write_jsonl(reversed(traces), out)
