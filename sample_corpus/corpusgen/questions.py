"""Gold questions, derived from the gold facts so every answer and its proving SQL come from one place.

Answers are computed in Python from the gold facts; the SQL is written independently over Quarry's schema,
and tests/test_corpus.py checks that the two agree on a store loaded with the gold facts.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from corpusgen.cast import PEOPLE
from corpusgen.questions_extra import extra_questions

_NAMES = {p.email: p.name for p in PEOPLE.values()}
WHEN = ("When is the {t}?", "What time is the {t}?", "When is the {t} scheduled for?",
        "What day and time is the {t}?", "Remind me when the {t} is.")
WHERE = ("Where is the {t}?", "Where will the {t} take place?", "What's the location of the {t}?")
WHO = ("Who is supposed to {t}?", "Who has to {t}?", "Whose job is it to {t}?", "Who was asked to {t}?")


def sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def keyword(text: str, others: list[str]) -> str:
    """The shortest word or word pair of `text` that no other title/task contains (for an ILIKE filter)."""
    words = re.findall(r"[\w'&:.-]+", text)
    candidates = [w for w in words if len(w) >= 4] + [" ".join(words[i:i + 2]) for i in range(len(words) - 1)]
    for cand in sorted(candidates, key=len, reverse=False):
        low = cand.lower()
        if sum(low in o.lower() for o in others) == 1:
            return cand
    return text


#: First words that are ordinary nouns, lowercased mid-sentence ("the board dinner"); others are names.
COMMON = {"board", "club", "court", "beginner", "first", "coffee", "dentist", "doubles", "dinner", "expo",
          "half-day", "interview", "league", "lunch", "pickleball", "rematch", "server", "site", "call", "demo",
          "flight", "press", "all-hands", "brunch", "final", "signed", "payment", "return", "v3"}


def phrase_of(title: str) -> str:
    first = title.split()[0]
    return first.lower() + title[len(first):] if first.lower() in COMMON else title


def human(value: str, all_day: bool = False) -> list[str]:
    dt = datetime.fromisoformat(value)
    day = f"{dt:%A}, {dt:%B} {dt.day}"
    if all_day:
        return [f"{dt:%B} {dt.day}", day, f"{day}, {dt.year}"]
    clock = f"{dt.hour % 12 or 12}:{dt:%M} {'AM' if dt.hour < 12 else 'PM'}"
    return [f"{day} at {clock}", f"{dt:%B} {dt.day} at {clock}"]


def local_date(value: str, zone: str) -> str:
    return datetime.fromisoformat(value).astimezone(ZoneInfo(zone)).date().isoformat()


def overlaps(start: str, end: str | None, cal: dict) -> bool:
    s = datetime.fromisoformat(start)
    e = datetime.fromisoformat(end) if end else s + timedelta(hours=1)
    return datetime.fromisoformat(cal["starts_at"]) < e and datetime.fromisoformat(cal["ends_at"]) > s


class Builder:
    """Collects question lines with sequential ids."""

    def __init__(self) -> None:
        self.lines: list[dict] = []

    def add(self, question: str, answer, answer_type: str, message_ids: list[str], sql: str | None,
            accept: list[str] | None = None) -> None:
        line = {"id": f"q{len(self.lines) + 1:03d}", "question": question, "answer": answer,
                "answer_type": answer_type, "accept": accept or [], "message_ids": message_ids}
        if sql is not None:
            line["sql"] = sql
        self.lines.append(line)


def _when(b: Builder, ev: dict, kw: str, n: int) -> None:
    t = phrase_of(ev["title"])
    q = (f"When was the {t} supposed to happen?" if ev["status"] == "cancelled"
         else WHEN[n % len(WHEN)].format(t=t))
    where = f"FROM events WHERE title ILIKE {sql_str('%' + kw + '%')}"
    ids = [ev["message_id"]] + ([ev["updated_by"]] if ev["updated_by"] else [])
    if ev["all_day"]:
        b.add(q, local_date(ev["starts_at"], ev["timezone"]), "text", ids,
              f"SELECT CAST(timezone('{ev['timezone']}', starts_at) AS DATE) AS day {where}", human(ev["starts_at"], True))
    else:
        b.add(q, ev["starts_at"], "datetime", ids, f"SELECT starts_at {where}", human(ev["starts_at"]))


def event_questions(b: Builder, facts: dict) -> None:
    events = facts["events"]
    titles = [e["title"] for e in events]
    for n, ev in enumerate(events):
        kw = keyword(ev["title"], titles)
        where = f"FROM events WHERE title ILIKE {sql_str('%' + kw + '%')}"
        t = phrase_of(ev["title"])
        _when(b, ev, kw, n)
        if ev["location"] and n % 3 != 2:
            b.add(WHERE[n % len(WHERE)].format(t=t), ev["location"], "text", [ev["message_id"]],
                  f"SELECT location {where}")
        if ev["status"] == "cancelled":
            b.add(f"Is the {t} still happening?", "no", "yesno", [ev["message_id"], ev["updated_by"]],
                  f"SELECT CASE WHEN status = 'cancelled' THEN 'no' ELSE 'yes' END AS happening {where}")
        elif ev["status"] == "moved":
            old = ev["history"][-1]["old_starts_at"]
            b.add(f"The {t} was rescheduled. What was the original time?", old, "datetime",
                  [ev["message_id"], ev["updated_by"]],
                  f"SELECT h.old_starts_at FROM event_history h JOIN events e USING (fact_id) "
                  f"WHERE e.title ILIKE {sql_str('%' + kw + '%')} AND h.change = 'moved'", human(old))
            b.add(f"Has the {t} been moved?", "yes", "yesno", [ev["updated_by"]],
                  f"SELECT CASE WHEN status = 'moved' THEN 'yes' ELSE 'no' END AS moved {where}")
        elif n % 4 == 0:
            b.add(f"Is the {t} still on?", "yes", "yesno", [ev["message_id"]],
                  f"SELECT CASE WHEN status = 'cancelled' THEN 'no' ELSE 'yes' END AS happening {where}")


def _owner_answer(email: str) -> tuple[str, list[str]]:
    name = _NAMES[email]
    return name, [email, name.split()[0]]


def task_questions(b: Builder, facts: dict) -> None:
    for table, rows in (("deadlines", facts["deadlines"]), ("action_items", facts["action_items"])):
        tasks = [r["task"] for r in rows]
        for n, row in enumerate(rows):
            kw = keyword(row["task"], tasks)
            where = f"FROM {table} WHERE task ILIKE {sql_str('%' + kw + '%')}"
            if row["due_at"]:
                q = (f"When is the {phrase_of(row['task'])} due?" if table == "deadlines"
                     else f"By when does {_NAMES[row['owner']].split()[0]} need to {row['task']}?")
                if row["all_day"]:
                    b.add(q, local_date(row["due_at"], row["timezone"]), "text", [row["message_id"]],
                          f"SELECT CAST(timezone('{row['timezone']}', due_at) AS DATE) AS due {where}",
                          human(row["due_at"], True))
                else:
                    b.add(q, row["due_at"], "datetime", [row["message_id"]], f"SELECT due_at {where}",
                          human(row["due_at"]))
            if row["owner"] and (table == "action_items" or n % 2 == 0):
                name, accept = _owner_answer(row["owner"])
                q = (WHO[n % len(WHO)].format(t=row["task"]) if table == "action_items"
                     else f"Who is responsible for the {phrase_of(row['task'])}?")
                b.add(q, name, "text", [row["message_id"]], f"SELECT owner {where}", accept)


def free_questions(b: Builder, facts: dict) -> None:
    """'Am I free then?' for every timed event that is still on: yes unless my calendar overlaps it."""
    events = [e for e in facts["events"] if not e["all_day"] and e["status"] != "cancelled"]
    titles = [e["title"] for e in facts["events"]]
    forms = ("Am I free for the {t}?", "Do I have anything on my calendar during the {t}?",
             "Can I make the {t}, or does it clash with my calendar?")
    for n, ev in enumerate(events):
        busy = [c for c in facts["calendar"] if overlaps(ev["starts_at"], ev["ends_at"], c)]
        if not busy and n % 2:
            continue
        kw = keyword(ev["title"], titles)
        form = forms[n % len(forms)]
        yes_free = "no" if busy else "yes"
        answer = ("yes" if busy else "no") if "anything on my calendar" in form else yes_free
        flip = "'no' ELSE 'yes'" if answer == yes_free else "'yes' ELSE 'no'"
        sql = (f"SELECT CASE WHEN count(c.event_id) > 0 THEN {flip} END AS answer FROM events e "
               f"LEFT JOIN calendar_events c ON c.starts_at < coalesce(e.ends_at, e.starts_at + INTERVAL 1 HOUR) "
               f"AND coalesce(c.ends_at, c.starts_at + INTERVAL 1 HOUR) > e.starts_at "
               f"WHERE e.title ILIKE {sql_str('%' + kw + '%')}")
        b.add(form.format(t=phrase_of(ev["title"])), answer, "yesno", [ev["updated_by"] or ev["message_id"]], sql)


def calendar_add_questions(b: Builder, facts: dict) -> None:
    keys = ("ev-board-dinner", "ev-social", "ev-thanksgiving", "ev-webinar", "ev-rematch", "ev-handoff",
            "ev-coffee-greg", "ev-dentist", "ev-schulz-demo")
    forms = ("Add the {t} to my calendar.", "Put the {t} on my calendar, please.", "Can you add the {t} to my calendar?")
    events = {e["id"]: e for e in facts["events"]}
    titles = [e["title"] for e in facts["events"]]
    for n, key in enumerate(keys):
        ev = events[key]
        kw = keyword(ev["title"], titles)
        b.add(forms[n % len(forms)].format(t=phrase_of(ev["title"])), {"title": ev["title"], "starts_at": ev["starts_at"]},
              "calendar_add", [ev["updated_by"] or ev["message_id"]],
              f"SELECT title, starts_at FROM events WHERE title ILIKE {sql_str('%' + kw + '%')}")


def build_questions(facts: dict) -> list[dict]:
    b = Builder()
    event_questions(b, facts)
    task_questions(b, facts)
    free_questions(b, facts)
    calendar_add_questions(b, facts)
    extra_questions(b, facts)
    return b.lines
