"""The small vocabulary the story is written in: people, messages and the facts planted in them.

Times in the story are wall-clock strings ("2026-10-08 19:00", or "2026-10-08" for a whole day) on the
clock of the person who wrote them; `local()` turns them into aware datetimes in that person's zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

NY = "America/New_York"
BERLIN = "Europe/Berlin"
TOKYO = "Asia/Tokyo"


@dataclass(frozen=True)
class Person:
    key: str
    name: str
    email: str
    zone: str = NY
    sig: str = ""
    charset: str = "utf-8"


@dataclass(frozen=True)
class Ev:
    """An event planted in a message. `start` is on the sender's clock unless `zone` says otherwise."""

    key: str
    title: str
    evidence: str
    phrase: str
    start: str
    end: str | None = None
    location: str | None = None
    all_day: bool = False


@dataclass(frozen=True)
class Move:
    """A later message moving an event planted earlier."""

    key: str
    evidence: str
    phrase: str
    start: str
    end: str | None = None


@dataclass(frozen=True)
class Cancel:
    key: str
    evidence: str


@dataclass(frozen=True)
class Due:
    key: str
    task: str
    evidence: str
    phrase: str
    due: str
    owner: str | None = None


@dataclass(frozen=True)
class Todo:
    key: str
    task: str
    owner: str
    evidence: str
    phrase: str | None = None
    due: str | None = None


Fact = Ev | Move | Cancel | Due | Todo


@dataclass
class Msg:
    """One message of a thread. `reply` names the parent's key; `subject` None means "Re: <root subject>"."""

    key: str
    frm: str
    to: tuple[str, ...]
    at: str
    body: str
    subject: str | None = None
    reply: str | None = None
    cc: tuple[str, ...] = ()
    style: str = "plain"            # plain | alt | html
    quote: str | None = "gmail"     # gmail | outlook | None (replies only)
    threaded: bool = True           # False: a reply without In-Reply-To/References
    charset: str | None = None      # None: the sender's charset
    attach: tuple[str, ...] = ()    # attachment names from mime.ATTACHMENTS
    facts: tuple[Fact, ...] = ()
    sig: bool = True
    from_addr: str | None = None    # another address of the same person
    extra: tuple[tuple[str, str], ...] = ()  # additional headers (List-Unsubscribe, Precedence...)


@dataclass
class Thread:
    subject: str
    messages: list[Msg] = field(default_factory=list)


def local(text: str, zone: str) -> datetime:
    """'2026-10-08 19:00' or '2026-10-08' on the clock of `zone`, as an aware datetime."""
    fmt = "%Y-%m-%d %H:%M" if " " in text else "%Y-%m-%d"
    return datetime.strptime(text, fmt).replace(tzinfo=ZoneInfo(zone))


def iso(text: str, zone: str) -> str:
    return local(text, zone).isoformat()
