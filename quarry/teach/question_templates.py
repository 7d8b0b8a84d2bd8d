"""The question templates: what each one asks of a store's facts and how it proves the answer.

Each template picks candidate facts with one SQL query (teach.template_candidates), and for each candidate
writes the question (in several wordings), the known answer in the gold-question format, the tool steps
that prove it (the SQL an agent should run), and the sentence an ideal final answer states. The proving SQL uses
only the documented views, so the oracle trace's tool calls pass the agent's SQL guard.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from quarry.store.query import instant_text
from quarry.teach.template_candidates import (
    CALENDAR_OVERLAPS,
    LATEST_FROM,
    MONTHS,
    NAMED_PEOPLE,
    NOT_ON_CALENDAR,
    ONE_ATTACHMENT,
    PHONES,
    UNIQUE_ACTIONS,
    UNIQUE_DEADLINES,
    UNIQUE_EVENTS,
    UNIQUE_SUBJECTS,
    UNKNOWN_ACCEPT,
    UNKNOWN_CANDIDATES,
    UNKNOWN_THINGS,
    WEEKS,
)

#: Assumed length of an event with no end time, for calendar overlaps.
DEFAULT_EVENT_LENGTH = timedelta(hours=1)


class ToolStep(BaseModel):
    """One tool call of the ideal trace: which tool, with which arguments."""

    tool: str
    arguments: dict[str, Any]


class Instance(BaseModel):
    """One fact turned into a question: the slots its wordings fill, the known answer, the proof."""

    slots: dict[str, str]
    answer: Any
    accept: list[str] = Field(default_factory=list)
    message_ids: list[str] = Field(default_factory=list)
    steps: list[ToolStep]
    statement: str  # what the final answer says, before citations


@dataclass(frozen=True)
class Template:
    """A question form: candidate facts (SQL over the store), wordings, and a builder per candidate row."""

    name: str
    answer_type: str
    wordings: tuple[str, ...]
    candidates: str
    build: Callable[[dict[str, Any]], Instance | None]
    params: tuple[Any, ...] = ()  # bound to the candidates query's '?' placeholders


# --- formatting helpers -------------------------------------------------------------------------


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def all_day_date(moment: datetime) -> date:
    """The calendar day of an all-day event stored as local midnight in UTC.

    Local midnight lies between 10:00 the day before (UTC+14) and 12:00 (UTC-12) in UTC, so half a
    day later is always on the local day, whatever the zone was.
    """
    return (moment + timedelta(hours=12)).date()


def say_when(moment: datetime, all_day: bool = False) -> str:
    """The form tool results show ('Thu 2026-11-26 20:00 UTC'): a student copies it instead of
    converting weekdays and month names, and the scorer reads it like any other date."""
    if all_day:
        return f"{all_day_date(moment):%a %Y-%m-%d} (all day, from {instant_text(moment)})"
    return instant_text(moment)


def day_text(day: date | datetime) -> str:
    return f"{day:%A %-d %B %Y}"


def the(title: str) -> str:
    """'Board dinner' -> 'the board dinner', as people ask; acronyms and numbers keep their case."""
    first, _, rest = title.partition(" ")
    if first[:1].isupper() and first[1:].isalpha() and first[1:].islower():
        first = first.lower()
    return f"the {first} {rest}".strip() if not first.lower() == "the" else f"{first.lower()} {rest}".strip()


def _plural(n: int, noun: str) -> str:
    """'1 event', '3 events', '2 entries'."""
    if n == 1:
        return f"1 {noun}"
    return f"{n} {noun[:-1]}ies" if noun.endswith("y") else f"{n} {noun}s"


def _there_are(n: int, noun: str) -> str:
    return f"There {'is' if n == 1 else 'are'} {_plural(n, noun)}"


def _find_event(title: str, columns: str) -> ToolStep:
    query = f"SELECT {columns} FROM events WHERE title ILIKE {sql_literal('%' + title + '%')}"
    return ToolStep(tool="sql", arguments={"query": query})


def _find(kind: str, name: str) -> ToolStep:
    """A fact looked up by its name with the `find` tool (the engine ranks the matches)."""
    return ToolStep(tool="find", arguments={"kind": kind, "text": name})


def _sources(row: dict[str, Any]) -> list[str]:
    """The message that stated the fact, then the one that last changed it."""
    ids = [row.get("message_id"), row.get("updated_by")]
    return list(dict.fromkeys(i for i in ids if i))


def _end_of(row: dict[str, Any]) -> datetime:
    return row["ends_at"] or row["starts_at"] + DEFAULT_EVENT_LENGTH


# --- builders -----------------------------------------------------------------------------------


def _event_when(row: dict[str, Any]) -> Instance | None:
    if row["status"] == "cancelled":
        return None
    start = row["starts_at"]
    answer = all_day_date(start).isoformat() if row["all_day"] else iso(start)
    return Instance(
        slots={"title": the(row["title"])},
        answer=answer,
        accept=[iso(start)] if row["all_day"] else [],  # the stored instant of local midnight
        message_ids=_sources(row),
        steps=[_find("event", row["title"])],
        statement=f"{the(row['title'])} is on {say_when(start, row['all_day'])}.",
    )


def _event_where(row: dict[str, Any]) -> Instance | None:
    if not row["location"]:
        return None
    return Instance(
        slots={"title": the(row["title"])},
        answer=row["location"],
        message_ids=_sources(row),
        steps=[_find("event", row["title"])],
        statement=f"{the(row['title'])} is at {row['location']}.",
    )


def _event_status(status: str) -> Callable[[dict[str, Any]], Instance]:
    """Builder for 'is X cancelled?' / 'has X moved?': yes exactly when the event has that status."""

    def build(row: dict[str, Any]) -> Instance:
        yes = row["status"] == status
        if yes:
            statement = f"Yes, {the(row['title'])} " + ("is cancelled" if status == "cancelled" else "has been moved")
            statement += "" if status == "cancelled" else f"; it is now on {say_when(row['starts_at'], row['all_day'])}"
        else:
            when = say_when(row["starts_at"], row["all_day"])
            statement = f"No, {the(row['title'])} is {row['status']}, on {when}"
        return Instance(
            slots={"title": the(row["title"])},
            answer="yes" if yes else "no",
            message_ids=_sources(row),
            steps=[_find("event", row["title"])],
            statement=statement + ".",
        )

    return build


def _free_at_event(row: dict[str, Any]) -> Instance:
    start, end = row["starts_at"], _end_of(row)
    free = row["clashes"] == 0
    when = say_when(start)
    return Instance(
        slots={"title": the(row["title"])},
        answer="yes" if free else "no",
        message_ids=_sources(row),
        steps=[
            _find_event(row["title"], "title, starts_at, ends_at, message_id"),
            ToolStep(tool="calendar_conflicts", arguments={"start": iso(start), "end": iso(end)}),
        ],
        statement=(
            f"Yes, you are free: nothing on your calendar overlaps {the(row['title'])}, {when}."
            if free
            else f"No, {the(row['title'])}, {when}, clashes with {_plural(row['clashes'], 'entry')} on your calendar."
        ),
    )


def _calendar_add(row: dict[str, Any]) -> Instance:
    start = row["starts_at"]
    arguments: dict[str, Any] = {"title": row["title"], "start": iso(start), "end": iso(_end_of(row))}
    if row["participants"]:
        arguments["attendees"] = list(row["participants"])
    arguments["source_fact_id"] = row["fact_id"]
    return Instance(
        slots={"title": the(row["title"])},
        answer={"title": row["title"], "starts_at": iso(start)},
        message_ids=_sources(row),
        steps=[
            _find_event(row["title"], "fact_id, title, starts_at, ends_at, location, participants, message_id"),
            ToolStep(tool="calendar_add", arguments=arguments),
        ],
        statement=f"Added {the(row['title'])} to your calendar on {say_when(start, row['all_day'])}.",
    )


def _action_owner(row: dict[str, Any]) -> Instance:
    accept = [v for v in (row["email"], row["display_name"]) if v and v.lower() != row["owner"].lower()]
    return Instance(
        slots={"task": row["task"]},
        answer=row["owner"],
        accept=accept,
        message_ids=_sources(row),
        steps=[_find("action_item", row["task"])],
        statement=f"The owner of \"{row['task']}\" is {row['owner']}.",
    )


def _deadline_when(row: dict[str, Any]) -> Instance:
    return Instance(
        slots={"task": row["task"]},
        answer=iso(row["due_at"]),
        message_ids=_sources(row),
        steps=[_find("deadline", row["task"])],
        statement=f"\"{row['task']}\" is due {say_when(row['due_at'])}.",
    )


def _week_query(columns: str, week: datetime) -> str:
    return (
        f"SELECT {columns} FROM events WHERE status <> 'cancelled' "
        f"AND starts_at >= TIMESTAMPTZ {sql_literal(iso(week))} "
        f"AND starts_at < TIMESTAMPTZ {sql_literal(iso(week + timedelta(days=7)))}"
    )


def _count_week(row: dict[str, Any]) -> Instance:
    week = row["week"]
    return Instance(
        slots={"day": day_text(week)},
        answer=str(row["n"]),
        message_ids=list(dict.fromkeys(m for m in row["message_ids"] if m)),
        steps=[ToolStep(tool="sql", arguments={"query": _week_query("count(*) AS n", week)})],
        statement=f"{_there_are(row['n'], 'event')} (not counting cancelled ones) in the week starting "
                  f"{day_text(week)}.",
    )


def _list_week(row: dict[str, Any]) -> Instance | None:
    titles = list(dict.fromkeys(row["titles"]))
    if not 1 <= len(titles) <= 6 or len(titles) != row["n"]:
        return None
    week = row["week"]
    query = _week_query("title, starts_at, location, message_id", week) + " ORDER BY starts_at"
    return Instance(
        slots={"day": day_text(week)},
        answer=titles,
        message_ids=list(dict.fromkeys(m for m in row["message_ids"] if m)),
        steps=[ToolStep(tool="sql", arguments={"query": query})],
        statement=f"The week starting {day_text(week)} has: " + "; ".join(titles) + ".",
    )


def _count_deadlines_month(row: dict[str, Any]) -> Instance:
    month = row["month"]
    nxt = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    query = (
        "SELECT count(*) AS n FROM deadlines "
        f"WHERE due_at >= TIMESTAMPTZ {sql_literal(iso(month))} AND due_at < TIMESTAMPTZ {sql_literal(iso(nxt))}"
    )
    return Instance(
        slots={"month": f"{month:%B %Y}"},
        answer=str(row["n"]),
        message_ids=list(dict.fromkeys(m for m in row["message_ids"] if m)),
        steps=[ToolStep(tool="sql", arguments={"query": query})],
        statement=f"{_there_are(row['n'], 'deadline')} in {month:%B %Y}.",
    )


def _person_detail(column: str, what: str) -> Callable[[dict[str, Any]], Instance]:
    """Builder for a person's address or phone, looked up by the name they sign with: find_person shows both (the
    phone from their signature, which read_message drops); the message it came from is the citation."""

    def build(row: dict[str, Any]) -> Instance:
        return Instance(
            slots={"name": row["display_name"]},
            answer=row[column],
            message_ids=[row["message_id"]],
            steps=[ToolStep(tool="find_person", arguments={"text": row["display_name"]})],
            statement=f"{row['display_name']}'s {what} is {row[column]}.",
        )

    return build


def _attachment_name(row: dict[str, Any]) -> Instance:
    """The message found by its subject and sender: find_message lists the files attached."""
    return Instance(
        slots={"sender": row["sender"], "subject": row["subject"]},
        answer=row["filename"],
        message_ids=[row["message_id"]],
        steps=[ToolStep(tool="find_message", arguments={"text": row["subject"], "sender": row["sender"]})],
        statement=f"The email \"{row['subject']}\" has {row['filename']} attached.",
    )


def _message_sender(row: dict[str, Any]) -> Instance:
    """Who sent the message with a subject: find_message shows the sender's name and address."""
    return Instance(
        slots={"subject": row["subject"]},
        answer=row["sender_name"],
        accept=[row["sender"]],
        message_ids=[row["message_id"]],
        steps=[ToolStep(tool="find_message", arguments={"text": row["subject"]})],
        statement=f"{row['sender_name']} sent the email \"{row['subject']}\".",
    )


def _latest_from(row: dict[str, Any]) -> Instance:
    """A person's newest message, by date: find_message with the person and no words lists newest first."""
    return Instance(
        slots={"name": row["sender_name"]},
        answer=row["subject"],
        message_ids=[row["message_id"]],
        steps=[ToolStep(tool="find_message", arguments={"sender": row["sender_name"]})],
        statement=f"The latest email from {row['sender_name']} is \"{row['subject']}\".",
    )


def _unknown(row: dict[str, Any]) -> Instance:
    """Look in the facts, then the full text, then decline: the order the teacher prompt teaches."""
    thing, head = row["thing"], row["head"]
    query = ("SELECT title, starts_at, location, message_id FROM events "
             f"WHERE title ILIKE {sql_literal('%' + head + '%')}")
    return Instance(
        slots={"thing": thing},
        answer="unknown",
        accept=list(UNKNOWN_ACCEPT),
        steps=[ToolStep(tool="sql", arguments={"query": query}), ToolStep(tool="search", arguments={"text": thing})],
        statement=f"The mailbox does not say: I found nothing about a {thing}.",
    )


TEMPLATES: tuple[Template, ...] = (
    Template("event_when", "datetime",
             ("When is {title}?", "What time does {title} start?", "When does {title} take place?",
              "What date and time is {title} scheduled for?"), UNIQUE_EVENTS, _event_when),
    Template("event_where", "text",
             ("Where is {title}?", "Where will {title} be held?", "What is the location of {title}?"),
             UNIQUE_EVENTS, _event_where),
    Template("action_owner", "text",
             ("Who is responsible for this task: {task}?", "Who owns the action item \"{task}\"?",
              "Which person has to take care of \"{task}\"?"), UNIQUE_ACTIONS, _action_owner),
    Template("deadline_when", "datetime",
             ("When is \"{task}\" due?", "What is the deadline for \"{task}\"?", "By when must \"{task}\" be done?"),
             UNIQUE_DEADLINES, _deadline_when),
    Template("count_events_week", "number",
             ("How many events (not counting cancelled ones) are scheduled in the week starting {day}?",
              "In the week beginning {day}, how many events are planned, excluding cancelled ones?"),
             WEEKS, _count_week),
    Template("count_deadlines_month", "number",
             ("How many deadlines fall in {month}?", "How many deadlines are there in {month}?"), MONTHS,
             _count_deadlines_month),
    Template("events_in_week", "list",
             ("Which events are scheduled in the week starting {day}?",
              "List the events planned for the week beginning {day} (not cancelled ones).",
              "What is on in the week starting {day}?"), WEEKS, _list_week),
    Template("event_cancelled", "yesno",
             ("Is {title} cancelled?", "Has {title} been called off?", "Was {title} cancelled?"),
             UNIQUE_EVENTS, _event_status("cancelled")),
    Template("event_moved", "yesno",
             ("Has {title} been moved?", "Was {title} rescheduled?", "Did {title} get moved to another time?"),
             UNIQUE_EVENTS, _event_status("moved")),
    Template("free_at_event", "yesno",
             ("Am I free at the time of {title}?", "Is my calendar clear during {title}?",
              "Am I free when {title} happens?"), CALENDAR_OVERLAPS, _free_at_event),
    Template("calendar_add", "calendar_add",
             ("Add {title} to my calendar.", "Please put {title} on my calendar.",
              "Can you add {title} to my calendar?"),
             NOT_ON_CALENDAR, _calendar_add),
    Template("person_email", "text",
             ("What is {name}'s email address?", "Which address does {name} write from?",
              "How do I email {name}?"), NAMED_PEOPLE, _person_detail("email", "email address")),
    Template("person_phone", "text",
             ("What is {name}'s phone number?", "Which number can I call {name} on?"), PHONES,
             _person_detail("phone", "phone number")),
    Template("attachment_name", "text",
             ("What file did {sender} attach to the email \"{subject}\"?",
              "What is attached to the email \"{subject}\" from {sender}?"), ONE_ATTACHMENT, _attachment_name),
    Template("message_sender", "text",
             ("Who sent the email \"{subject}\"?", "Who wrote the message with the subject \"{subject}\"?"),
             UNIQUE_SUBJECTS, _message_sender),
    Template("latest_from", "text",
             ("What is the subject of the latest email from {name}?",
              "What did {name} last write to me about?"), LATEST_FROM, _latest_from),
    Template("unknown", "text",
             ("When is the {thing}?", "Where is the {thing} taking place?", "Who is organizing the {thing}?"),
             UNKNOWN_CANDIDATES, _unknown, params=(list(UNKNOWN_THINGS),)),
)
