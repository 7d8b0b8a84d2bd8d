"""`quarry eval rag-vs-structured`: one model, the same questions, the agent's structured retrieval
against classic embedding RAG over chunks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, Field

from quarry.agent.prompts import Profile
from quarry.evals.evaluation import ModelOpener, eval_context, held_out_questions, run_structured
from quarry.evals.report import (
    ModelSummary,
    QuestionOutcome,
    Split,
    default_out_dir,
    slug,
    summarize,
    write_outcomes,
    write_report,
)
from quarry.llm.specs import open_model


class RagComparison(BaseModel):
    """`quarry eval rag-vs-structured`: the same model and questions, two ways of retrieving."""

    kind: str = "rag-vs-structured"
    model: str
    structured: ModelSummary
    classic: ModelSummary
    token_ratio: float | None
    retrieved_ratio: float | None = None
    latency_ratio: float | None
    accuracy_delta: float
    top_k: int
    split: Split
    db: str
    files: dict[str, str] = Field(default_factory=dict)
    chart: str | None = None
    out_dir: str


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def compare_rag_structured(spec: str, question_file: Path, db: Path, *, limit: int | None = None,
                           out_dir: Path | None = None, top_k: int = 5, profile: Profile | None = None,
                           max_steps: int = 6, max_tokens: int = 512,
                           on_done: Callable[[QuestionOutcome], None] | None = None,
                           opener: ModelOpener = open_model) -> RagComparison:
    """Run one model over the questions with the agent (structured) and with classic embedding RAG."""
    from quarry.evals.charts import rag_vs_structured
    from quarry.evals.rag_baseline import ClassicRag

    out = out_dir or default_out_dir()
    questions, split = held_out_questions(question_file, db, limit)
    model = opener(spec)
    with eval_context(db) as ctx:
        rag = ClassicRag(ctx.store, top_k=top_k, max_tokens=max_tokens)
        rag.index()
        # One approach after the other, not interleaved: each keeps its prompt prefix in the model's cache,
        # as it would in use (interleaving made every agent question re-read the system prompt).
        structured = run_structured(spec, model, questions, ctx, profile, max_steps, max_tokens, on_done)
        classic = []
        for question in questions:
            classic.append(rag.answer(question, model, spec, ctx.now))
            if on_done:
                on_done(classic[-1])
    files = {mode: str(out / f"{slug(spec)}.{mode}.jsonl") for mode in ("structured", "classic")}
    write_outcomes(Path(files["structured"]), structured)
    write_outcomes(Path(files["classic"]), classic)
    s, c = summarize(structured), summarize(classic)
    comparison = RagComparison(
        model=spec, structured=s, classic=c, token_ratio=_ratio(s.prompt_tokens_mean, c.prompt_tokens_mean),
        retrieved_ratio=_ratio(s.retrieved_chars_mean, c.retrieved_chars_mean),
        latency_ratio=_ratio(s.latency_p50_s, c.latency_p50_s), accuracy_delta=s.accuracy - c.accuracy,
        top_k=top_k, split=split, db=str(db), files=files, out_dir=str(out),
    )
    comparison.chart = str(rag_vs_structured(s, c, spec, out / "rag_vs_structured.png"))
    write_report(out, comparison)
    return comparison
