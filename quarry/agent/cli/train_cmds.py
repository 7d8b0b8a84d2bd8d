"""`quarry train`, `quarry export` and the adapter registry commands under `quarry models`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from quarry.agent.cli.common import JsonOption, console, err_console, print_json


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
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   console=err_console, transient=True)
    task = bar.add_task("training", total=None)

    def on_step(info) -> None:
        bar.update(task, completed=info.step, total=info.total_steps,
                   description=f"loss {info.loss:.3f}  {info.tokens_per_s:,.0f} tok/s")

    with bar:
        result = train(config, on_step, resume=resume)
    console.print(f"trained {result.steps}/{result.total_steps} steps on {result.device}: final loss "
                  f"{result.final_loss:.3f}, best eval loss {result.best_eval_loss} at step {result.best_step}, "
                  f"{result.tokens_per_s:,.0f} tok/s; run in {result.run_dir}")


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


def adapters_command(json_out: JsonOption = False) -> None:
    """List exported adapters with base model, data hash, metrics and date (* = active).

    Example: quarry models adapters --json
    """
    from quarry.finetune import registry

    records, active = registry.list_adapters(), registry.active_name()
    if json_out:
        print_json({"active": active, "adapters": [r.model_dump() for r in records]})
        return
    table = Table(title="adapters")
    for column in ("", "name", "base", "data", "eval loss", "created"):
        table.add_column(column)
    for r in records:
        table.add_row("*" if r.name == active else "", r.name, r.base, (r.data_hash or "")[:12],
                      str(r.metrics.get("eval_loss", "")), r.created_at)
    console.print(table)


def activate_command(name: Annotated[str, typer.Argument(help="Adapter name from `quarry models adapters`.")]) -> None:
    """Make an adapter the live owned model (used by ask, chat and serve by default).

    Example: quarry models activate smol-2026-11
    """
    from quarry.finetune import registry

    record = registry.activate(name)
    console.print(f"active adapter: {record.name} on {record.base}")


def rollback_command() -> None:
    """Go back to the adapter that was active before the current one.

    Example: quarry models rollback
    """
    from quarry.finetune import registry

    previous = registry.rollback()
    console.print(f"active adapter: {previous}" if previous else "no adapter active: the bare base model is used")


def register(app: typer.Typer) -> None:
    from quarry.agent.cli.models_cmds import models_app

    app.command("train")(train_command)
    app.command("export")(export_command)
    models_app.command("adapters")(adapters_command)
    models_app.command("activate")(activate_command)
    models_app.command("rollback")(rollback_command)
