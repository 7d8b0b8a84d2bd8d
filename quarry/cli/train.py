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
        rate = getattr(info, "tokens_per_s", None)
        extra = f"{rate:,.0f} tok/s" if rate is not None else f"margin {info.reward_margin:+.3f}"
        bar.update(task, completed=info.step, total=info.total_steps, description=f"loss {info.loss:.3f}  {extra}")

    return bar, on_step


_RETRAIN_HELP = {
    "method": "sft (teacher traces), rft (the student's own right runs), dpo (right-vs-wrong runs and "
              "/good-vs-/bad pairs), or a combination in order, e.g. sft+dpo or rft+dpo.",
    "teacher": "Who answers the new questions: 'oracle' (the known-correct trace, no model) or a model spec; "
               "for dpo it also answers a /bad that has no /good (the configured teacher when 'oracle').",
    "student": "Base model; default: the active adapter's base, else the configured default model.",
    "questions": "Held-out question file (default: questions synthesized from the store, unseen in training).",
    "eval_db": "Compare on another mailbox's store (one not trained on) with its --questions; default --db.",
    "beta": "dpo: strength of the pull towards the starting adapter (lower moves further).",
    "agent_max_steps": "Tool steps per question when a model answers (rft/dpo sampling and the held-out "
                       "comparison); lower for a quick check.",
    "agent_max_tokens": "Tokens per model reply in those runs.",
}


_AgentSteps = Annotated[int, typer.Option("--agent-max-steps", min=1, help=_RETRAIN_HELP["agent_max_steps"])]
_AgentTokens = Annotated[int, typer.Option("--agent-max-tokens", min=16, help=_RETRAIN_HELP["agent_max_tokens"])]


def _sampling_bar(bar: Progress) -> Callable[[int, int, str], None]:
    """A second bar on `bar` for sampling rounds (runs done, the last question's right runs)."""
    task = bar.add_task("sampling", total=None, visible=False)

    def on_sample(done: int, total: int, outcome: str) -> None:
        bar.update(task, completed=done, total=total, visible=done < total, description=f"sampling: {outcome}")

    return on_sample


def retrain_command(
    method: Annotated[str, typer.Option("--method", help=_RETRAIN_HELP["method"])] = "sft",
    teacher: Annotated[str, typer.Option("--teacher", help=_RETRAIN_HELP["teacher"])] = "oracle",
    n: Annotated[int, typer.Option("--n", min=0, help="New questions to synthesize and answer.")] = 200,
    from_feedback: Annotated[bool, typer.Option("--from-feedback/--no-feedback",
                                                help="Also learn from chat traces marked /good and /bad.")] = True,
    student: Annotated[str | None, typer.Option("--student", help=_RETRAIN_HELP["student"], show_default=False)] = None,
    from_scratch: Annotated[bool, typer.Option("--from-scratch", help="Fresh LoRA weights, not the active's.")] = False,
    questions: Annotated[Path | None, typer.Option("--questions", help=_RETRAIN_HELP["questions"],
                                                   show_default=False)] = None,
    eval_limit: Annotated[int, typer.Option("--eval-limit", min=1, help="Held-out questions to compare on.")] = 20,
    eval_db: Annotated[Path | None, typer.Option("--eval-db", help=_RETRAIN_HELP["eval_db"],
                                                 show_default=False)] = None,
    epochs: Annotated[int, typer.Option("--epochs", min=1)] = 2,
    max_steps: Annotated[int | None, typer.Option("--max-steps", show_default=False)] = None,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    name: Annotated[str | None, typer.Option("--name", help="Adapter name (default: base + time).")] = None,
    rounds: Annotated[int, typer.Option("--rounds", min=1, help="rft/dpo: sampling rounds.")] = 1,
    round_questions: Annotated[int, typer.Option("--round-questions", min=1, help="rft/dpo: questions a round.")] = 24,
    samples: Annotated[int, typer.Option("--samples", min=1, help="rft/dpo: runs per question.")] = 4,
    temperature: Annotated[float, typer.Option("--temperature", min=0.01, help="rft/dpo: sampling temperature.")] = 0.8,
    beta: Annotated[float, typer.Option("--beta", min=0.001, help=_RETRAIN_HELP["beta"])] = 0.1,
    dpo_lr: Annotated[float, typer.Option("--dpo-lr", min=1e-9, help="dpo: learning rate.")] = 1e-5,
    agent_max_steps: _AgentSteps = 6,
    agent_max_tokens: _AgentTokens = 512,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Retrain the owned model; the new adapter goes live only if it is not worse.

    sft generates verified traces and fine-tunes on them. rft and dpo run --rounds of sampling the current model
    --samples times on new synthesized questions, scored by the strict reward (right, grounded, cited, one answer);
    rft fine-tunes on the right runs, dpo on right-vs-wrong pairs and on the chat shell's /good and /bad. Training
    starts from the active adapter unless --from-scratch. The new adapter answers the same held-out questions as the
    active one and is activated only if its task success is not lower. Each round's folder holds round.json, its
    data and reward.png.

    Example: quarry retrain --method rft+dpo --rounds 2 --samples 4 --max-steps 20
    """
    from quarry.errors import StoreError
    from quarry.teach.retrain import RetrainConfig, parse_methods, retrain

    path = resolve_db(db)
    if not path.exists():
        raise StoreError(f"{path}: no Quarry store here (run `quarry ingest` first or pass --db)")
    config = RetrainConfig(db=path, method=parse_methods(method), teacher=teacher, n=n, from_feedback=from_feedback,
                           student=student, from_scratch=from_scratch, questions=questions, eval_limit=eval_limit,
                           eval_db=eval_db, epochs=epochs, max_steps=max_steps, seed=seed, name=name,
                           eval_max_steps=agent_max_steps, eval_max_tokens=agent_max_tokens,
                           rounds=_rounds(rounds, round_questions, beta, dpo_lr, samples, temperature,
                                          agent_max_steps, agent_max_tokens))
    bar, on_step = _training_bar()
    with bar:
        result = retrain(config, on_stage=None if json_out else err_console.print, on_step=on_step,
                         on_sample=_sampling_bar(bar))
    if json_out:
        print_json(result.model_dump(mode="json"))
    else:
        _print_retrain(result)


def _rounds(rounds: int, questions: int, beta: float, dpo_lr: float, samples: int, temperature: float,
            max_steps: int, max_tokens: int):
    """The rft/dpo rounds: --samples runs of the student per question, each as short as the agent limits say."""
    from quarry.teach.rounds import RoundSettings
    from quarry.teach.sampling import SamplingConfig

    sampling = SamplingConfig(samples=samples, temperature=temperature, max_steps=max_steps, max_tokens=max_tokens)
    return RoundSettings(rounds=rounds, questions=questions, beta=beta, dpo_lr=dpo_lr, sampling=sampling)


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
    if result.generation is not None:
        console.print(f"sft: trained on {result.training_traces} verified traces ({result.generation.kept} new)")
    for record in result.rounds:
        reward = record.reward
        validity = f"{reward.citation_validity:.0%}" if reward.citation_validity is not None else "n/a"
        trained = ", ".join(f"{m} {t.steps} steps" for m, t in record.trained.items()) or "nothing to train on"
        console.print(f"round {record.round}: reward {reward.reward:.0%} ({reward.right_runs}/{reward.runs} runs), "
                      f"answers {reward.mean_answer_chars:.0f} chars, citations valid {validity}, "
                      f"{record.rft_traces} right runs, pairs {record.pairs or 0}; {trained}")
    if result.feedback is not None:
        console.print(result.feedback.summary())
    console.print(f"{'+'.join(result.method)}: last training {result.training.steps} steps, "
                  + (f"from {result.started_from}" if result.started_from else "from scratch")
                  + f"; run in {result.run_dir}")
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
