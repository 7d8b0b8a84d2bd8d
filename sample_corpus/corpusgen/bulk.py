"""Large synthetic mailboxes for benchmarks, streamed to disk from string templates (no email package: speed).

The mix mirrors the sample corpus: threads with quoted replies, two sender time zones with their own Date
offsets, multipart/alternative and latin-1 quoted-printable bodies, and a date phrase in some messages.
`--out DIR` gets DIR/inbox.mbox (or the file itself if it ends in .mbox) or a Maildir at DIR (cur/new/tmp).
"""

from __future__ import annotations

import quopri
import random
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

FIRST = ["Anna", "Ben", "Chloe", "Dana", "Elif", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kai", "Lena", "Mia",
         "Noah", "Olga", "Paul", "Rosa", "Sven", "Tara", "Uwe", "Vera", "Wen", "Yusuf", "Zoë", "Jörg", "Léa"]
LAST = ["Adler", "Brooks", "Costa", "Diaz", "Engel", "Fischer", "Garcia", "Hoffmann", "Ito", "Jansen", "Kim",
        "Lopez", "Meyer", "Nguyen", "Okafor", "Patel", "Quinn", "Reyes", "Schulz", "Tanaka", "Weiß", "Müller"]
TOPICS = ["budget review", "sensor firmware", "booth logistics", "hiring plan", "pickleball league",
          "customer pilot", "Q1 roadmap", "invoice question", "design files", "support backlog", "office move"]
SENTENCES = [
    "Thanks for the update on the {t}.", "Can you take a look at the {t} before the weekend?",
    "I added my notes to the shared doc.", "Let's sync on the {t} next Tuesday at 10am.",
    "The numbers look fine to me.", "Please send the draft by Friday.", "We moved the {t} call to Thursday at 3pm.",
    "No rush, whenever you get to it.", "I'll be out of office on Monday.", "Looping in the team for visibility.",
    "The {t} is due November 3.", "Great work everyone, really.", "Could you double-check the totals?",
]
START = datetime(2026, 1, 1, 8, 0)
ZONES = (ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin"))


def _people(rng: random.Random, n: int = 240) -> list[tuple[str, str, ZoneInfo]]:
    out = []
    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        domain = ("lumenfield.io", "gmail.com", "kranich-design.de", "example.org")[i % 4]
        ascii_first = first.encode("ascii", "ignore").decode() or "x"
        out.append((f"{first} {last}", f"{ascii_first.lower()}.{i}@{domain}", ZONES[i % 2]))
    return out


def _header_name(name: str) -> str:
    try:
        name.encode("ascii")
        return f'"{name}"'
    except UnicodeEncodeError:
        return "=?utf-8?q?" + quopri.encodestring(name.encode(), header=True).decode().replace("=\n", "") + "?="


def _body(rng: random.Random, topic: str) -> str:
    return " ".join(rng.choice(SENTENCES).format(t=topic) for _ in range(rng.randint(2, 6)))


class BulkWriter:
    """Makes message i from a seeded generator; keeps only a short window of recent messages for replies."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.people = _people(self.rng)
        self.recent: list[tuple[str, str, str, str]] = []   # (message_id, references, subject, text)
        self.when = START

    def message(self, i: int) -> tuple[str, datetime, bytes]:
        rng = self.rng
        self.when += timedelta(seconds=rng.randint(30, 1800))
        name, addr, zone = rng.choice(self.people)
        to_name, to_addr, _ = rng.choice(self.people)
        sent = self.when.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone)
        mid = f"bench-{self.seed}-{i}@quarry.test"
        headers = [f"From: {_header_name(name)} <{addr}>", f"To: {_header_name(to_name)} <{to_addr}>",
                   f"Date: {format_datetime(sent)}", f"Message-ID: <{mid}>", "MIME-Version: 1.0"]
        topic = rng.choice(TOPICS)
        text = _body(rng, topic) + f"\n\n-- \n{name}\n"
        if self.recent and rng.random() < 0.45:
            pid, prefs, psubject, ptext = rng.choice(self.recent)
            refs = f"{prefs} <{pid}>".strip()
            headers += [f"In-Reply-To: <{pid}>", f"References: {refs}"]
            subject = psubject if psubject.startswith("Re: ") else f"Re: {psubject}"
            quoted = "\n".join("> " + line for line in ptext.splitlines()[:8])
            text += f"\nOn {format_datetime(sent)}, {to_name} wrote:\n{quoted}\n"
        else:
            refs, subject = "", f"{topic.capitalize()} #{i % 997}"
        headers.append(f"Subject: {subject}")
        self.recent = (self.recent + [(mid, refs, subject, text)])[-50:]
        return addr, sent, self._mime(headers, text, i).encode("utf-8")

    def _mime(self, headers: list[str], text: str, i: int) -> str:
        kind = i % 5
        if kind == 0:
            boundary = f"bench{self.seed}x{i}"
            html = "<html><body><p>" + text.replace("&", "&amp;").replace("<", "&lt;").replace("\n", "<br>") + "</p></body></html>"
            return ("\n".join(headers) + f'\nContent-Type: multipart/alternative; boundary="{boundary}"\n\n'
                    f"--{boundary}\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
                    f"{text}\n--{boundary}\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
                    f"{html}\n--{boundary}--\n")
        if kind == 1:
            qp = quopri.encodestring(text.encode("latin-1", "replace")).decode("ascii")
            return ("\n".join(headers) + "\nContent-Type: text/plain; charset=iso-8859-1\n"
                    f"Content-Transfer-Encoding: quoted-printable\n\n{qp}")
        return ("\n".join(headers) + "\nContent-Type: text/plain; charset=utf-8\n"
                f"Content-Transfer-Encoding: 8bit\n\n{text}")


def _escape_from(raw: bytes) -> bytes:
    if b"\nFrom " not in raw:
        return raw
    return raw.replace(b"\nFrom ", b"\n>From ")


def write_bulk(out: Path, n: int, fmt: str, seed: int = 7) -> int:
    """Stream n messages to `out` as an mbox or a Maildir; returns n."""
    writer = BulkWriter(seed)
    if fmt == "mbox":
        path = out if out.suffix == ".mbox" else out / "inbox.mbox"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb", buffering=1 << 20) as fh:
            for i in range(n):
                addr, sent, raw = writer.message(i)
                utc = sent.astimezone(ZoneInfo("UTC"))
                fh.write(f"From {addr} {utc:%a %b %d %H:%M:%S %Y}\n".encode() + _escape_from(raw).rstrip(b"\n") + b"\n\n")
        return n
    for sub in ("cur", "new", "tmp"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        _, sent, raw = writer.message(i)
        (out / "cur" / f"{int(sent.timestamp())}.{seed}_{i:07d}.quarry-bench:2,S").write_bytes(raw)
    return n
