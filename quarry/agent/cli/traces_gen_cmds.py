"""`quarry traces generate`: synthesized questions answered by a teacher or the oracle, verified, stored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from quarry.agent.cli.common import DbOption, JsonOption, console, err_console, print_json, resolve_db

if TYPE_CHECKING:
    from quarry.agent.teacher import GenerationSummary


def generate(
    teacher: Annotated[str | None, typer.Option("--teacher", help="Model spec of the teacher, or 'oracle' "
                                                "(the known-correct trace from the template, no model). "
                                                "Default: the configured teacher.")] = None,
    n: Annotated[int | None, typer.Option("--n", min=0, help="How many questions to synthesize "
                                          "(default 50; 0 with --from-feedback).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed for choosing questions and wordings.")] = 0,
    paraphrase: Annotated[bool, typer.Option("--paraphrase", help="Reword each question with the teacher "
                                             "(the configured teacher when --teacher oracle).")] = False,
    from_feedback: Annotated[bool, typer.Option("--from-feedback", help="Promote chat traces marked /good to "
                                                "training data; /bad ones are excluded.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Also write the kept traces as training JSONL.")] = None,
    max_steps: Annotated[int, typer.Option("--max-steps", min=1,
                                           help="Tool steps per question for a real teacher.")] = 6,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Generate verified teacher traces from the facts in the store.

    Example: quarry traces generate --teacher oracle --n 200 --out traces.jsonl
    """
    from quarry.agent.teacher import generate_traces
    from quarry.config import load_settings
    from quarry.errors import StoreError
    from quarry.store.session import StoreSession

    spec = teacher or load_settings().teacher
    count = n if n is not None else (0 if from_feedback else 50)
    path = resolve_db(db)
    if not path.exists():
        raise StoreError(f"{path}: no Quarry store here (run `quarry ingest` first or pass --db)")
    store = StoreSession(path)
    try:
        with _ProgressBar(disabled=as_json) as report:
            summary = generate_traces(store, spec, count, seed, paraphrase=paraphrase, from_feedback=from_feedback,
                                      out=out, max_steps=max_steps, progress=report)
    finally:
        store.close()
    if as_json:
        print_json(summary.model_dump(mode="json"))
    else:
        if summary.synthesized:
            console.print(_summary_table(summary))
        for line in _summary_lines(summary, from_feedback):
            console.print(line, highlight=False)


class _ProgressBar:
    """A rich progress bar on stderr fed by generate_traces' progress callback (silent with --json).

    It appears with the first finished question, so an error while opening the model prints alone.
    """

    def __init__(self, disabled: bool):
        self.bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("eta"), TimeRemainingColumn(), console=err_console, disable=disabled,
        )
        self.task = self.bar.add_task("traces", total=None)
        self.outcomes: dict[str, int] = {}
        self.started = False

    def __enter__(self) -> Callable[[int, int, str], None]:
        return self.update

    def __exit__(self, *exc: object) -> None:
        if self.started:
            self.bar.stop()

    def update(self, done: int, total: int, outcome: str) -> None:
        if not self.started:
            self.bar.start()
            self.started = True
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        tally = " ".join(f"{k}={v}" for k, v in sorted(self.outcomes.items()))
        self.bar.update(self.task, completed=done, total=total, description=f"traces {tally}")


def _summary_table(summary: GenerationSummary) -> Table:
    table = Table(title=f"teacher {summary.teacher}: kept {summary.kept} of {summary.synthesized}")
    table.add_column("template")
    table.add_column("kept", justify="right")
    table.add_column("rejected", justify="right")
    for name, counts in sorted(summary.by_template.items()):
        table.add_row(name, str(counts["kept"]), str(counts["rejected"]))
    return table


def _summary_lines(summary: GenerationSummary, from_feedback: bool) -> list[str]:
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(summary.rejected.items())) or "none"
    lines = [
        f"rejected by reason: {reasons}",
        f"held-out questions dropped: {summary.heldout_dropped}; duplicates skipped: {summary.duplicates_skipped}; "
        f"paraphrased: {summary.paraphrased}",
        f"time: {summary.seconds} s ({summary.seconds_per_question} s/question)",
    ]
    if from_feedback:
        lines.append(f"from feedback: kept {summary.feedback_kept}, excluded {summary.feedback_excluded}")
    if summary.out:
        lines.append(f"wrote {summary.written} training records to {summary.out}")
    return lines


def register(app: typer.Typer) -> None:
    from quarry.agent.cli.ask_cmds import traces_app

    traces_app.command("generate")(generate)
