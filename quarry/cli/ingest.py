"""`quarry ingest` and `quarry stats`: load mail and documents into the store, and count what is there."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from quarry.cli.common import DbOption, JsonOption, console, err_console, print_json, resolve_db
from quarry.errors import InputError

if TYPE_CHECKING:
    from quarry.extract.pipeline import IngestSummary

_SHOWN_WARNINGS = 5
_EXTRACTORS = ("rules", "dateparser", "encoder", "llm", "auto", "none")


def _summary_table(summary: IngestSummary) -> Table:
    table = Table(title="ingest summary", show_header=False)
    rows = [
        ("sources read / unchanged", f"{summary.sources_read} / {summary.sources_unchanged}"),
        ("messages new / skipped", f"{summary.messages_new} / {summary.messages_skipped}"),
        ("threads (total)", str(summary.threads)),
        ("people (total)", str(summary.people)),
        ("documents new / skipped", f"{summary.documents_new} / {summary.documents_skipped}"),
        ("calendar events from .ics", str(summary.events_new)),
        ("quarantined", str(summary.quarantined)),
        ("files skipped (unsupported)", str(summary.files_skipped)),
        ("warnings", str(len(summary.warnings))),
        ("time", f"{summary.seconds:.1f} s"),
        ("messages/s", f"{summary.messages_per_second:,.0f}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def ingest_command(
    paths: Annotated[list[Path], typer.Argument(help="mbox files, Maildir folders, .eml files or folders, "
                                                "documents (.txt .md .html .pdf .ics).", show_default=False)],
    extractor: Annotated[str, typer.Option(
        "--extractor", help="Fact extractor: rules (no model), dateparser (the rules with dateparser's date search: "
        "a measured candidate), encoder (the rules' facts kept or dropped by heads trained on the train mailboxes' "
        "gold over MiniLM sentence embeddings), llm (--model), auto (llm if a model is configured, else rules), "
        "none.")] = "rules",
    model: Annotated[str | None, typer.Option("--model", help="Model spec for --extractor llm/auto, "
                                              "e.g. local:qwen2.5-coder-1.5b.", show_default=False)] = None,
    workers: Annotated[int | None, typer.Option("--workers", min=1, help="Parser processes (default: up to 2).",
                                                show_default=False)] = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Read mail and documents into the store; re-running adds only what is new.

    Example: quarry ingest ~/Mail/inbox.mbox ~/Maildir ~/notes --db quarry.duckdb
    """
    from quarry.extract.pipeline import ingest  # imported here: every other command starts faster
    from quarry.extract.post_ingest import extract_and_index

    if extractor not in _EXTRACTORS:
        raise InputError(f"--extractor must be one of {', '.join(_EXTRACTORS)}, not {extractor!r}")
    store = resolve_db(db)

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=err_console, transient=True, disable=json_out)
    task = bar.add_task("ingesting", total=None)

    def on_progress(done: int, total: int, seen: int) -> None:
        # Started on the first report, so an input error prints only its one line.
        if not bar.live.is_started:
            bar.start()
        bar.update(task, completed=done, total=total, description=f"ingesting ({seen:,} items)")

    try:
        summary = ingest(paths, store, workers=workers, progress=on_progress)
        bar.update(task, completed=0, total=None, description=f"extracting facts ({extractor})")
        facts = extract_and_index(store, extractor, model,
                                  lambda done, total: bar.update(task, completed=done, total=total))
    finally:
        if bar.live.is_started:
            bar.stop()
    if json_out:
        print_json(summary.model_dump() | {"messages_per_second": summary.messages_per_second,
                                           "facts": facts.model_dump() if facts else None})
        return
    console.print(_summary_table(summary))
    if facts:
        found = ", ".join(f"{n} {kind}" for kind, n in sorted(facts.facts.items())) or "no new facts"
        console.print(f"facts ({facts.extractor}): {found} from {facts.items} new items in {facts.seconds:.1f} s")
        for error in facts.errors:
            err_console.print(f"[yellow]warning[/] {error}", highlight=False)
    for warning in summary.warnings[:_SHOWN_WARNINGS]:
        err_console.print(f"[yellow]warning[/] {warning}", highlight=False, soft_wrap=True)
    if len(summary.warnings) > _SHOWN_WARNINGS:
        err_console.print(f"... and {len(summary.warnings) - _SHOWN_WARNINGS} more warnings (use --json for all)")


def stats_command(json_out: JsonOption = False, db: DbOption = None) -> None:
    """Row counts of every table in the store.

    Example: quarry stats --json
    """
    from quarry.extract.stats import store_counts

    counts = store_counts(resolve_db(db))
    if json_out:
        print_json(counts)
        return
    table = Table(title="store")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in counts.items():
        table.add_row(name, f"{count:,}")
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_command)
    app.command("stats")(stats_command)
