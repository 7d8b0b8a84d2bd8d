"""`quarry sql` and `quarry calendar list|export|import|add`: the store's data, from the command line.

`quarry sql` goes through the same guard and hardened read-only connection as the agent's sql tool.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from quarry.cli.common import DbOption, JsonOption, console, print_json, resolve_db
from quarry.store.calendar import (
    CalendarEvent,
    add_event,
    conflicts,
    export_ics,
    import_ics,
    list_events,
    parse_instant,
)
from quarry.store.db import connect
from quarry.store.query import as_records, cell_text, cut_phrase, json_value, run_select

calendar_app = typer.Typer(
    help="The user's calendar: list, add, import and export ICS.\n\nExample: quarry calendar list --json",
    no_args_is_help=True,
)


def _table(columns: list[str], rows: list[list[str]]) -> Table:
    table = Table()
    for column in columns:
        table.add_column(column, overflow="fold")  # wrap, never elide: piped output must keep whole values
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))  # Text: mailbox data is never rich markup
    return table


def sql(
    query: Annotated[str, typer.Argument(help="One SELECT over the documented views.")],
    json_out: JsonOption = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Most rows to return.")] = 50,
    db: DbOption = None,
) -> None:
    """Run one read-only SELECT through the agent's SQL guard; a refused query exits 1 with the reason.

    Example: quarry sql "SELECT title, starts_at FROM events ORDER BY starts_at"
    """
    con = connect(resolve_db(db), read_only=True, hardened=True)
    try:
        result = run_select(con, query, limit=limit)
    finally:
        con.close()
    if json_out:
        print_json(as_records(result))
        return
    console.print(_table(result.columns, [[cell_text(v) for v in row] for row in result.rows]))
    note = f"; {cut_phrase(result.cut)} (raise --limit or filter)" if result.cut != 0 else ""
    typer.echo(f"{len(result.rows)} row(s){note}")


def _event_rows(events: list[CalendarEvent]) -> list[list[str]]:
    return [[cell_text(v) for v in (e.starts_at, e.ends_at, e.title, e.location, e.attendees, e.event_id)]
            for e in events]


@calendar_app.command("list")
def calendar_list(
    start: Annotated[str | None, typer.Option("--from", help="ISO start (default: no bound).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="ISO end (default: no bound).")] = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """List calendar events overlapping a range.

    Example: quarry calendar list --from 2026-03-01 --to 2026-04-01
    """
    lo = parse_instant(start, "--from") if start else None
    hi = parse_instant(end, "--to") if end else None
    con = connect(resolve_db(db), read_only=True)
    try:
        events = list_events(con, lo, hi)
    finally:
        con.close()
    if json_out:
        print_json([json_value(e.model_dump()) for e in events])
        return
    console.print(_table(["starts_at", "ends_at", "title", "location", "attendees", "event_id"], _event_rows(events)))


@calendar_app.command("export")
def calendar_export(
    out: Annotated[Path, typer.Argument(help="The .ics file to write.")],
    db: DbOption = None,
) -> None:
    """Write the whole calendar to an ICS file (times in UTC).

    Example: quarry calendar export ~/calendar.ics
    """
    con = connect(resolve_db(db), read_only=True)
    try:
        count = export_ics(con, out.expanduser())
    finally:
        con.close()
    typer.echo(f"wrote {count} event(s) to {out}")


@calendar_app.command("import")
def calendar_import(
    file: Annotated[Path, typer.Argument(help="An .ics file; events with a known UID are replaced.")],
    db: DbOption = None,
) -> None:
    """Add the events of an ICS file to the calendar, each linked to the event your mail names, if any.

    Example: quarry calendar import ~/Downloads/team.ics
    """
    from quarry.extract.calendar_links import link_calendar

    con = connect(resolve_db(db))
    try:
        count = import_ics(con, file.expanduser())
        linked = link_calendar(con)
    finally:
        con.close()
    linked_note = f"; {linked} linked to events from your mail" if linked else ""
    typer.echo(f"imported {count} event(s) from {file}{linked_note}")


@calendar_app.command("add")
def calendar_add(
    title: Annotated[str, typer.Argument(help="What the event is.")],
    start: Annotated[str, typer.Option("--start", help="ISO start, e.g. 2026-03-14T10:00:00+01:00.")],
    end: Annotated[str | None, typer.Option("--end", help="ISO end (default: one hour later).")] = None,
    attendee: Annotated[list[str] | None, typer.Option("--attendee", help="An attendee email (repeatable).")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Add without asking.")] = False,
    db: DbOption = None,
) -> None:
    """Add one event to the calendar, after a y/n question (or --yes); overlapping events are shown.

    Example: quarry calendar add "Board dinner" --start 2026-03-12T19:00:00Z --end 2026-03-12T21:00:00Z
    """
    event = CalendarEvent(title=title, starts_at=parse_instant(start, "--start"),
                          ends_at=parse_instant(end, "--end") if end else None, attendees=attendee or [])
    con = connect(resolve_db(db))
    try:
        clashes = conflicts(con, event.starts_at, event.end)
        for clash in clashes:
            typer.echo(f"overlaps: {clash.title} ({cell_text(clash.starts_at)} to {cell_text(clash.end)})")
        if not yes and not typer.confirm(f"Add '{title}' {cell_text(event.starts_at)} to {cell_text(event.end)}?"):
            typer.echo("not added")
            raise typer.Exit(1)
        add_event(con, event)
    finally:
        con.close()
    typer.echo(f"added {title} as {event.event_id}")


def register(app: typer.Typer) -> None:
    app.command("sql")(sql)
    app.add_typer(calendar_app, name="calendar")
