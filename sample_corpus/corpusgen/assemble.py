"""Build every story and noise message, and derive the gold facts from the planted ones.

A planted fact's evidence must occur in its own message's text: a story typo fails the build here,
not later in a test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from corpusgen import noise, story_life, story_work
from corpusgen.cast import CLUB, COMPANY, PEOPLE, USER
from corpusgen.documents import MY_CALENDAR
from corpusgen.mime import Rendered, build
from corpusgen.model import NY, Cancel, Due, Ev, Move, Thread, Todo, iso, local

#: Messages written as standalone .eml files (mail/eml/) instead of into the mbox.
EML_KEYS = ("dr-3", "inv-1", "tk-1", "ls-1", "fl-1", "md-1")


@dataclass
class Mailbox:
    rendered: list[Rendered]          # chronological
    planted: list[Thread]

    def mbox(self) -> list[Rendered]:
        return [r for r in self.rendered if r.msg.key not in EML_KEYS]

    def eml(self) -> list[Rendered]:
        return [r for r in self.rendered if r.msg.key in EML_KEYS]


def build_mailbox(attachments: dict[str, bytes], seed: int = 7) -> Mailbox:
    planted = [*story_work.threads(), *story_life.threads()]
    out: dict[str, Rendered] = {}
    for thread in [*planted, *noise.threads(seed)]:
        for n, msg in enumerate(thread.messages):
            if msg.key in out:
                raise ValueError(f"duplicate message key {msg.key!r}")
            parent = out[msg.reply] if msg.reply else None
            subject = msg.subject or (thread.subject if n == 0 else f"Re: {thread.subject}")
            out[msg.key] = build(msg, subject, parent, attachments)
    ordered = sorted(out.values(), key=lambda r: (r.sent, r.msg.key))
    return Mailbox(ordered, planted)


def _owner(key: str | None) -> str | None:
    return PEOPLE[key].email if key else None


def _check(r: Rendered, evidence: str, phrase: str | None) -> None:
    if evidence not in r.text:
        raise ValueError(f"{r.msg.key}: evidence not in message text: {evidence!r}")
    if phrase and phrase not in evidence:
        raise ValueError(f"{r.msg.key}: phrase {phrase!r} not in evidence {evidence!r}")


def _event(fact: Ev, r: Rendered, zone: str) -> dict:
    return {
        "id": f"ev-{fact.key}", "message_id": r.message_id, "title": fact.title, "evidence": fact.evidence,
        "phrase": fact.phrase, "starts_at": iso(fact.start, zone), "ends_at": iso(fact.end, zone) if fact.end else None,
        "all_day": fact.all_day, "location": fact.location, "owner": None, "status": "scheduled",
        "timezone": zone, "updated_by": None,
        "history": [{"change": "created", "message_id": r.message_id, "old_starts_at": None,
                     "new_starts_at": iso(fact.start, zone), "evidence": fact.evidence}],
    }


def _move(event: dict, fact: Move, r: Rendered, zone: str) -> None:
    old = event["starts_at"]
    new = local(fact.start, zone)
    if event["ends_at"] and not fact.end:
        length = datetime.fromisoformat(event["ends_at"]) - datetime.fromisoformat(old)
        event["ends_at"] = (new + length).isoformat()
    elif fact.end:
        event["ends_at"] = iso(fact.end, zone)
    event.update(starts_at=new.isoformat(), status="moved", updated_by=r.message_id)
    event["history"].append({"change": "moved", "message_id": r.message_id, "old_starts_at": old,
                             "new_starts_at": new.isoformat(), "evidence": fact.evidence})


def _cancel(event: dict, fact: Cancel, r: Rendered) -> None:
    event.update(status="cancelled", updated_by=r.message_id)
    event["history"].append({"change": "cancelled", "message_id": r.message_id, "old_starts_at": event["starts_at"],
                             "new_starts_at": None, "evidence": fact.evidence})


def _task(kind: str, fact: Due | Todo, r: Rendered, zone: str) -> dict:
    due = getattr(fact, "due", None)
    row = {"id": f"{kind}-{fact.key}", "message_id": r.message_id, "task": fact.task, "evidence": fact.evidence,
           "phrase": fact.phrase, "due_at": iso(due, zone) if due else None,
           "all_day": bool(due) and " " not in due, "owner": _owner(fact.owner), "timezone": zone}
    if kind == "ai":
        row["status"] = "open"
    return row


def gold_facts(box: Mailbox) -> dict:
    by_key = {r.msg.key: r for r in box.rendered}
    events: dict[str, dict] = {}
    deadlines: list[dict] = []
    actions: list[dict] = []
    for thread in box.planted:
        for msg in thread.messages:
            r = by_key[msg.key]
            zone = PEOPLE[msg.frm].zone
            for fact in msg.facts:
                _check(r, fact.evidence, getattr(fact, "phrase", None))
                if isinstance(fact, Ev):
                    events[fact.key] = _event(fact, r, zone)
                elif isinstance(fact, Move):
                    _move(events[fact.key], fact, r, zone)
                elif isinstance(fact, Cancel):
                    _cancel(events[fact.key], fact, r)
                elif isinstance(fact, Due):
                    deadlines.append(_task("dl", fact, r, zone))
                else:
                    actions.append(_task("ai", fact, r, zone))
    user = PEOPLE[USER]
    return {
        "user": {"name": user.name, "email": user.email, "timezone": NY, "organisation": COMPANY,
                 "title": "Head of Operations", "club": f"{CLUB} (treasurer)"},
        "timezone_note": ("Times are ISO 8601 with the UTC offset of the sender's zone (America/New_York or "
                          "Europe/Berlin). Berlin leaves summer time on 2026-10-25, New York on 2026-11-01. "
                          "Date-only values (all_day true) are local midnight; an all-day event's ends_at is the "
                          "midnight after its last day. Owners are canonical (work) email addresses."),
        "events": sorted(events.values(), key=lambda e: e["id"]),
        "deadlines": deadlines,
        "action_items": actions,
        "calendar": [{"id": cid, "title": title, "starts_at": iso(s, NY), "ends_at": iso(e, NY), "location": loc}
                     for cid, title, s, e, loc in MY_CALENDAR],
    }
