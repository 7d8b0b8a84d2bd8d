"""PNG charts of evaluation results (matplotlib, headless): what a person looks at instead of tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402

#: (summary field, panel title) of the model comparison chart.
_MODEL_PANELS = (
    ("accuracy", "accuracy"),
    ("prompt_tokens_mean", "prompt tokens / question"),
    ("latency_p50_s", "latency p50 (s)"),
    ("cost_per_question_usd", "cost / question (USD)"),
)


def _bars(ax: Any, labels: list[str], values: list[float], title: str, colors: list[str] | None = None) -> None:
    bars = ax.bar(range(len(values)), values, color=colors)
    ax.set_title(title, fontsize=10)
    ax.set_ylim(0, 1.05 if title == "accuracy" else max([*values, 0.0]) * 1.15 or 1.0)
    ax.set_xticks(range(len(labels)), labels, rotation=20, ha="right", fontsize=8)
    for bar, value in zip(bars, values, strict=True):
        ax.annotate(_label(value, title), (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=8)


def _label(value: float, title: str) -> str:
    """Accuracy as a percentage, counts with thousands separators, the rest with three digits."""
    if title == "accuracy":
        return f"{value:.0%}"
    return f"{value:,.0f}" if value >= 1000 else f"{value:.3g}"


def _save(fig: Any, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _short(spec: str) -> str:
    return spec if len(spec) <= 28 else "…" + spec[-27:]


def model_comparison(summaries: dict[str, Any], out: Path) -> Path:
    """One panel per figure (accuracy, tokens, latency, cost), one bar per model."""
    labels = [_short(spec) for spec in summaries]
    fig, axes = plt.subplots(1, len(_MODEL_PANELS), figsize=(4 * len(_MODEL_PANELS), 4))
    for ax, (field, title) in zip(axes, _MODEL_PANELS, strict=True):
        _bars(ax, labels, [float(getattr(s, field)) for s in summaries.values()], title)
    fig.suptitle("Quarry agent evaluation", fontsize=12)
    return _save(fig, out)


def rag_vs_structured(structured: Any, classic: Any, model: str, out: Path) -> Path:
    """Structured retrieval vs classic RAG with the same model: accuracy, tokens sent, characters retrieved,
    latency p50/p95."""
    labels, colors = ["structured", "classic RAG"], ["#2a7ab0", "#c9753d"]
    panels = (("accuracy", "accuracy"), ("prompt_tokens_mean", "prompt tokens / question"),
              ("retrieved_chars_mean", "retrieved characters / question"),
              ("latency_p50_s", "latency p50 (s)"), ("latency_p95_s", "latency p95 (s)"))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.8 * len(panels), 4))
    for ax, (field, title) in zip(axes, panels, strict=True):
        _bars(ax, labels, [float(getattr(structured, field)), float(getattr(classic, field))], title, colors)
    fig.suptitle(f"Structured retrieval vs classic embedding RAG — {model}", fontsize=12)
    return _save(fig, out)


def reward_curve(rounds: list[dict[str, Any]], out: Path) -> Path:
    """Per sampling round: the reward (right runs / runs) and citation validity, and beside them the mean
    answer length, so a policy that earns reward by writing longer answers shows up."""
    xs = [r["round"] for r in rounds]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
    left.plot(xs, [r["reward"] for r in rounds], "o-", label="reward (right runs)")
    left.plot(xs, [r["citation_validity"] if r["citation_validity"] is not None else float("nan") for r in rounds],
              "s--", label="citation validity")
    left.set_ylim(0, 1.05)
    left.set_xlabel("round")
    left.legend(fontsize=8)
    right.plot(xs, [r["mean_answer_chars"] for r in rounds], "o-", color="#c9753d")
    right.set_title("mean answer length (characters)", fontsize=10)
    right.set_xlabel("round")
    for ax in (left, right):
        ax.set_xticks(xs)
    fig.suptitle("Rejection-sampling rounds", fontsize=12)
    return _save(fig, out)
