"""`quarry facts events|deadlines|actions|people|show`: extracted facts with their sources."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

import typer
from rich.table import Table

from quarry.cli.common import DbOption, JsonOption, console, print_json, resolve_db
from quarry.errors import InputError
from quarry.store.db import connect

facts_app = typer.Typer(help="Facts extracted from mail and documents, with their sources.\n\n"
                        "Example: quarry facts events --since 2026-10-01", no_args_is_help=True)


def _when(value: str | None, flag: str) -> datetime | None:
    """--since/--until: an ISO date or date-time; naive values are UTC."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InputError(f"{flag} {value!r}: not an ISO date such as 2026-10-21 or 2026-10-21T09:00") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


SinceOption = Annotated[str | None, typer.Option("--since", help="Only facts at or after this ISO date/time (UTC).")]
UntilOption = Annotated[str | None, typer.Option("--until", help="Only facts before this ISO date/time (UTC).")]
WhoOption = Annotated[str | None, typer.Option("--who", help="Only facts involving this person (email or name part).")]


def _show_rows(rows: list[dict], columns: list[str], title: str, json_out: bool) -> None:
    if json_out:
        print_json(rows)
        return
    table = Table(title=f"{title} ({len(rows)})")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row[c]) for c in columns))
    console.print(table)


def _listing(kind: str, columns: list[str], db, since, until, who, json_out) -> None:
    from quarry.extract.facts import list_facts

    con = connect(resolve_db(db), read_only=True)
    try:
        rows = list_facts(con, kind, since=_when(since, "--since"), until=_when(until, "--until"), who=who)
    finally:
        con.close()
    _show_rows(rows, columns, kind, json_out)


@facts_app.command("events")
def events(since: SinceOption = None, until: UntilOption = None, who: WhoOption = None,
           json_out: JsonOption = False, db: DbOption = None) -> None:
    """Events (meetings, games, dinners...) with time, status and source message.

    Example: quarry facts events --since 2026-10-01 --who bob@club.example
    """
    _listing("events", ["fact_id", "starts_at", "title", "location", "status", "source"], db, since, until, who,
             json_out)


@facts_app.command("deadlines")
def deadlines(since: SinceOption = None, until: UntilOption = None, who: WhoOption = None,
              json_out: JsonOption = False, db: DbOption = None) -> None:
    """Things due by a date, with owner and source message.

    Example: quarry facts deadlines --until 2026-11-01
    """
    _listing("deadlines", ["fact_id", "due_at", "task", "owner", "source"], db, since, until, who, json_out)


@facts_app.command("actions")
def actions(since: SinceOption = None, until: UntilOption = None, who: WhoOption = None,
            json_out: JsonOption = False, db: DbOption = None) -> None:
    """Action items (requests someone must act on), with owner, due date and source.

    Example: quarry facts actions --who bob --json
    """
    _listing("actions", ["fact_id", "due_at", "task", "owner", "status", "source"], db, since, until, who, json_out)


@facts_app.command("people")
def people(who: WhoOption = None, json_out: JsonOption = False, db: DbOption = None) -> None:
    """People seen in the mail, with message counts and how often the text names them.

    Example: quarry facts people --who ann
    """
    from quarry.extract.facts import list_people

    con = connect(resolve_db(db), read_only=True)
    try:
        rows = list_people(con, who)
    finally:
        con.close()
    _show_rows(rows, ["email", "name", "messages", "mentions"], "people", json_out)


@facts_app.command("show")
def show(fact_id: Annotated[str, typer.Argument(help="A fact id from one of the listings.")],
         json_out: JsonOption = False, db: DbOption = None) -> None:
    """One fact with its evidence in context (marked >>> <<<) and, for events, its change history.

    Example: quarry facts show ev_3f2a9c0d1e2b4a5c
    """
    from quarry.extract.facts import fact_detail

    con = connect(resolve_db(db), read_only=True)
    try:
        fact = fact_detail(con, fact_id)
    finally:
        con.close()
    if fact is None:
        raise InputError(f"{fact_id}: no fact with this id (see `quarry facts events`)")
    if json_out:
        print_json(fact)
        return
    skip = {"context", "history", "evidence"}
    for key, value in fact.items():
        if key not in skip and value not in (None, [], ""):
            console.print(f"[bold]{key}[/]: {value}", highlight=False, soft_wrap=True)
    console.print(f"[bold]evidence[/]: {fact['evidence']}", highlight=False, soft_wrap=True)
    if fact.get("context"):
        console.print(f"in context: {fact['context']}", highlight=False, markup=False, soft_wrap=True)
    for change in fact.get("history", []):
        console.print(f"  {change['change']} by {change['message_id']}: {change['old_starts_at']} -> "
                      f"{change['new_starts_at']}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.add_typer(facts_app, name="facts")
