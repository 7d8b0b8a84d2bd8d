"""Calendar tools: list and check the user's calendar, add an event (only with the user's yes), export ICS."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from quarry.agent.tools.base import ToolContext, tool
from quarry.errors import InputError, ToolError
from quarry.store.calendar import CalendarEvent, add_event, conflicts, export_ics, list_events, parse_instant
from quarry.store.query import cell_text

_ISO = "ISO 8601 time with offset, e.g. 2026-03-14T10:00:00+00:00"


class RangeArgs(BaseModel):
    start: str = Field(description=f"Start of the range, {_ISO}")
    end: str = Field(description=f"End of the range, {_ISO}")


class AddArgs(BaseModel):
    title: str = Field(description="What the event is, e.g. 'Board dinner'")
    start: str = Field(description=f"When it starts, {_ISO}")
    end: str | None = Field(default=None, description="When it ends (default: one hour after start)")
    attendees: list[str] = Field(default_factory=list, description="Attendee email addresses")
    source_fact_id: str | None = Field(default=None, description="fact_id of the event fact this comes from, if any")


class ExportArgs(BaseModel):
    path: str = Field(description="Where to write the .ics file")


def _instant(text: str, what: str):
    try:
        return parse_instant(text, what)
    except InputError as exc:
        raise ToolError(str(exc)) from exc


def _lines(events: list[CalendarEvent]) -> str:
    rows = ["event_id | title | starts_at | ends_at | attendees | source_fact_id"]
    rows += [" | ".join(cell_text(v) for v in (e.event_id, e.title, e.starts_at, e.ends_at, e.attendees,
                                                e.source_fact_id)) for e in events]
    return "\n".join(rows)


@tool(RangeArgs)
def calendar_list(ctx: ToolContext, args: RangeArgs) -> str:
    """List the user's calendar events that overlap the range from start to end."""
    events = list_events(ctx.store.reader(), _instant(args.start, "start"), _instant(args.end, "end"))
    return _lines(events) if events else f"(no calendar events between {args.start} and {args.end})"


@tool(RangeArgs)
def calendar_conflicts(ctx: ToolContext, args: RangeArgs) -> str:
    """Check whether the user is free from start to end: lists the calendar events that overlap that slot."""
    start, end = _instant(args.start, "start"), _instant(args.end, "end")
    clashes = conflicts(ctx.store.reader(), start, end)
    if not clashes:
        return f"free: nothing on the calendar overlaps {start.isoformat()} to {end.isoformat()}"
    return f"busy: {len(clashes)} event(s) overlap\n" + _lines(clashes)


@tool(AddArgs, writes=True)
def calendar_add(ctx: ToolContext, args: AddArgs) -> str:
    """Add an event to the user's calendar. Only when the user asked for it; the user confirms every addition."""
    start = _instant(args.start, "start")
    end = _instant(args.end, "end") if args.end else None
    if end is not None and end < start:
        raise ToolError(f"end {end.isoformat()} is before start {start.isoformat()}")
    event = CalendarEvent(title=args.title, starts_at=start, ends_at=end, attendees=args.attendees,
                          source_fact_id=args.source_fact_id, origin="agent")
    clashes = conflicts(ctx.store.reader(), start, event.end)
    when = f"{start.isoformat()} to {event.end.isoformat()}"
    if not ctx.confirm(f"Add '{args.title}' to your calendar, {when}?"):
        return "the user declined: nothing was added to the calendar"
    with ctx.store.writer() as con:
        add_event(con, event)
    note = f"; it overlaps {', '.join(repr(c.title) for c in clashes)}" if clashes else ""
    return f"added '{args.title}' ({when}) as {event.event_id}{note}"


@tool(ExportArgs, writes=True)
def calendar_export(ctx: ToolContext, args: ExportArgs) -> str:
    """Export the whole calendar to an .ics file (after the user confirms)."""
    path = Path(args.path).expanduser()
    if path.suffix.lower() != ".ics":
        raise ToolError(f"{args.path}: the export path must end in .ics")
    if not ctx.confirm(f"Write your calendar to {path}?"):
        return "the user declined: no file was written"
    try:
        count = export_ics(ctx.store.reader(), path)
    except InputError as exc:
        raise ToolError(str(exc)) from exc
    return f"wrote {count} event(s) to {path}"
