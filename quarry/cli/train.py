"""`quarry train`, `quarry export` and `quarry retrain`: traces -> a LoRA adapter -> the registry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from quarry.cli.common import DbOption, JsonOption, console, err_console, print_json, resolve_db

if TYPE_CHECKING:
    from quarry.teach.retrain import RetrainResult


def train_command(
    traces: Annotated[list[Path], typer.Option("--traces", help="Trace JSONL file(s) from `quarry traces export` "
                                               "or `quarry traces generate --out`.")],
    out: Annotated[Path, typer.Option("--out", help="Run directory (config, metrics, checkpoints, loss.png).")],
    student: Annotated[str, typer.Option("--student", help="Student model spec or HF folder.")] = "local:smollm2-135m",
    rank: Annotated[int, typer.Option("--rank", min=1)] = 16,
    alpha: Annotated[float, typer.Option("--alpha")] = 32.0,
    lr: Annotated[float | None, typer.Option("--lr", help="Default: the LoRA rule for the student's size.",
                                             show_default=False)] = None,
    epochs: Annotated[int, typer.Option("--epochs", min=1)] = 2,
    max_steps: Annotated[int | None, typer.Option("--max-steps", show_default=False)] = None,
    batch_tokens: Annotated[int, typer.Option("--batch-tokens", help="Tokens per packed batch.")] = 2048,
    grad_accum: Annotated[int, typer.Option("--grad-accum", min=1)] = 1,
    eval_every: Annotated[int, typer.Option("--eval-every", min=1)] = 20,
    patience: Annotated[int, typer.Option("--patience", min=1)] = 3,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run in --out from its last checkpoint.")] = False,
) -> None:
    """Fine-tune a LoRA adapter on verified traces (CUDA bf16 if present, else CPU fp32).

    Example: quarry train --traces traces.jsonl --out runs/smol1 --student local:smollm2-135m --max-steps 200
    """
    from quarry.finetune.train import TrainConfig, train

    config = TrainConfig(student=student, traces=traces, out=out, rank=rank, alpha=alpha, lr=lr, epochs=epochs,
                         max_steps=max_steps, batch_tokens=batch_tokens, grad_accum=grad_accum,
                         eval_every=eval_every, patience=patience, seed=seed)
    bar, on_step = _training_bar()
    with bar:
        result = train(config, on_step, resume=resume)
    console.print(f"trained {result.steps}/{result.total_steps} steps on {result.device}: final loss "
                  f"{result.final_loss:.3f}, best eval loss {result.best_eval_loss} at step {result.best_step}, "
                  f"{result.tokens_per_s:,.0f} tok/s; run in {result.run_dir}")


def _training_bar() -> tuple[Progress, Callable[[Any], None]]:
    """A progress bar for training steps (loss, tokens/s, ETA) and the `on_step` callback that feeds it."""
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   console=err_console, transient=True)
    task = bar.add_task("training", total=None)

    def on_step(info: Any) -> None:
        bar.update(task, completed=info.step, total=info.total_steps,
                   description=f"loss {info.loss:.3f}  {info.tokens_per_s:,.0f} tok/s")

    return bar, on_step


def retrain_command(
    teacher: Annotated[str, typer.Option("--teacher", help="Who answers the new questions: 'oracle' (the "
                                         "known-correct trace, no model) or a model spec.")] = "oracle",
    n: Annotated[int, typer.Option("--n", min=0, help="New questions to synthesize and answer.")] = 200,
    from_feedback: Annotated[bool, typer.Option("--from-feedback/--no-feedback",
                                                help="Also train on chat traces marked /good.")] = True,
    student: Annotated[str | None, typer.Option("--student", help="Base model; default: the active adapter's "
                                                "base, else the configured default model.",
                                                show_default=False)] = None,
    from_scratch: Annotated[bool, typer.Option("--from-scratch", help="Start from fresh LoRA weights instead "
                                               "of the active adapter's.")] = False,
    questions: Annotated[Path | None, typer.Option("--questions", help="Held-out question file (default: "
                                                   "questions synthesized from the store, unseen in training).",
                                                   show_default=False)] = None,
    eval_limit: Annotated[int, typer.Option("--eval-limit", min=1, help="Held-out questions to compare on.")] = 20,
    epochs: Annotated[int, typer.Option("--epochs", min=1)] = 2,
    max_steps: Annotated[int | None, typer.Option("--max-steps", show_default=False)] = None,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    name: Annotated[str | None, typer.Option("--name", help="Adapter name (default: base + time).",
                                             show_default=False)] = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Retrain the owned model on new traces; the new adapter goes live only if it is not worse.

    Generates verified traces, trains (from the active adapter unless --from-scratch), exports and
    registers the adapter, answers the same held-out questions with it and with the active adapter,
    prints both, and activates the new one only if its task success is not lower.

    Example: quarry retrain --n 100 --max-steps 60 --questions sample_corpus/gold_questions.jsonl
    """
    from quarry.errors import StoreError
    from quarry.teach.retrain import RetrainConfig, retrain

    path = resolve_db(db)
    if not path.exists():
        raise StoreError(f"{path}: no Quarry store here (run `quarry ingest` first or pass --db)")
    config = RetrainConfig(db=path, teacher=teacher, n=n, from_feedback=from_feedback, student=student,
                           from_scratch=from_scratch, questions=questions, eval_limit=eval_limit, epochs=epochs,
                           max_steps=max_steps, seed=seed, name=name)
    bar, on_step = _training_bar()
    with bar:
        result = retrain(config, on_stage=None if json_out else err_console.print, on_step=on_step)
    if json_out:
        print_json(result.model_dump(mode="json"))
    else:
        _print_retrain(result)


def _print_retrain(result: RetrainResult) -> None:
    """The held-out comparison of the new and the active adapter, and whether the new one went live."""
    table = Table(title=f"held-out task success ({result.eval_questions} questions: {result.eval_source})")
    for column in ("adapter", "success", "tokens/question", "latency p50"):
        table.add_column(column)
    rows = [(f"{result.name} (new)", result.candidate)]
    if result.active is not None:
        rows.append((f"{result.active_name} (active)", result.active))
    for label, summary in rows:
        table.add_row(label, f"{summary.accuracy:.0%}", f"{summary.prompt_tokens_mean + summary.completion_tokens_mean:,.0f}",
                      f"{summary.latency_p50_s:.1f} s")
    console.print(table)
    console.print(f"trained on {result.training_traces} verified traces "
                  f"({result.generation.kept} new), {result.training.steps} steps, "
                  + (f"from {result.started_from}" if result.started_from else "from scratch"))
    console.print(f"{result.name} is now active" if result.activated
                  else f"{result.name} kept but NOT activated: it is worse than {result.active_name}")


def export_command(
    run: Annotated[Path, typer.Option("--run", help="Run directory written by `quarry train`.")],
    name: Annotated[str, typer.Option("--name", help="Adapter name in the registry.")],
    activate: Annotated[bool, typer.Option("--activate", help="Make it the live adapter right away.")] = False,
    json_out: JsonOption = False,
) -> None:
    """Export a run's best adapter as a GGUF LoRA file into the adapter registry.

    Example: quarry export --run runs/smol1 --name smol-2026-11 --activate
    """
    from quarry.finetune import registry

    record = registry.register(run, name)
    if activate:
        registry.activate(name)
    if json_out:
        print_json(record.model_dump())
        return
    console.print(f"exported {record.name} ({record.base}) to {record.path}" + (" and activated it" if activate else ""))


def register(app: typer.Typer) -> None:
    app.command("train")(train_command)
    app.command("export")(export_command)
    app.command("retrain")(retrain_command)
