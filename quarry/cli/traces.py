"""`quarry traces list|show|export|generate`: stored agent runs, and new ones from synthesized questions
answered by a teacher or the oracle, verified, stored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from quarry.cli.common import DbOption, JsonOption, console, err_console, print_json, resolve_db
from quarry.store.db import connect
from quarry.store.traces import export_jsonl, get_trace, list_traces

if TYPE_CHECKING:
    from quarry.teach.teacher import GenerationSummary

traces_app = typer.Typer(
    help="Stored agent runs: list, show, export as training data.\n\nExample: quarry traces list --limit 5",
    no_args_is_help=True,
)


@traces_app.command("list")
def traces_list(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many, newest first.")] = 20,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """List stored agent runs, newest first.

    Example: quarry traces list --limit 5
    """
    from quarry.agent.display import traces_table

    con = connect(resolve_db(db), read_only=True)
    try:
        traces = list_traces(con, limit=limit)
    finally:
        con.close()
    if json_out:
        print_json([t.model_dump(mode="json", exclude={"messages", "tools"}) for t in traces])
    else:
        console.print(traces_table(traces))


@traces_app.command("show")
def traces_show(
    trace_id: Annotated[str, typer.Argument(help="A trace id or a unique prefix of one.")],
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Show one run: header, then every message and tool call.

    Example: quarry traces show 3f9c2a
    """
    from quarry.agent.display import render_trace

    con = connect(resolve_db(db), read_only=True)
    try:
        trace = get_trace(con, trace_id)
    finally:
        con.close()
    if json_out:
        print_json(trace.model_dump(mode="json"))
    else:
        console.print(render_trace(trace))


@traces_app.command("export")
def traces_export(
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write.", dir_okay=False)],
    fmt: Annotated[Literal["jsonl"], typer.Option("--format", help="Output format: one training record per line.")]
    = "jsonl",
    verified_only: Annotated[bool, typer.Option("--verified-only", help="Only verified runs.")] = False,
    feedback: Annotated[Literal["good", "bad"] | None,
                        typer.Option("--feedback", help="Only runs with this user feedback.")] = None,
    db: DbOption = None,
) -> None:
    """Export runs as chat fine-tuning JSONL: {"messages", "tools", "metadata"} per line.

    Example: quarry traces export --format jsonl --out traces.jsonl --verified-only
    """
    con = connect(resolve_db(db), read_only=True)
    try:
        count = export_jsonl(con, out, verified_only=verified_only, feedback=feedback)
    finally:
        con.close()
    err_console.print(f"exported {count} traces to {out}")




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
    from quarry.config import load_settings
    from quarry.errors import StoreError
    from quarry.store.session import StoreSession
    from quarry.teach.teacher import generate_traces

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
    traces_app.command("generate")(generate)
    app.add_typer(traces_app, name="traces")
