"""The documents folder, the user's own calendar, and the bytes of mail attachments.

PDFs (fpdf2) and ICS files (icalendar) carry fixed creation stamps so they are byte-identical on every run.
"""

from __future__ import annotations

import struct
import zlib
from datetime import datetime
from zoneinfo import ZoneInfo

from fpdf import FPDF
from icalendar import Calendar, Event

from corpusgen.model import BERLIN, NY, local

STAMP = datetime(2026, 8, 31, 12, 0, tzinfo=ZoneInfo("UTC"))

#: The user's own calendar (America/New_York): id, title, start, end, location. Some overlap planted events.
MY_CALENDAR = [
    ("cal-01", "Farmers market with Sam", "2026-09-19 08:00", "2026-09-19 09:00", "Grand Army Plaza"),
    ("cal-02", "Long run with Sam", "2026-09-20 09:30", "2026-09-20 10:30", "Prospect Park"),
    ("cal-03", "Vendor call with Ostara Logistics", "2026-09-22 10:00", "2026-09-22 11:00", "Phone"),
    ("cal-04", "Book club", "2026-10-08 18:30", "2026-10-08 20:30", "Community Bookstore"),
    ("cal-05", "Call with the accountant", "2026-10-09 16:30", "2026-10-09 17:30", "Phone"),
    ("cal-06", "Pottery class", "2026-10-11 12:00", "2026-10-11 14:00", "BKLYN Clay"),
    ("cal-07", "Haircut", "2026-10-16 17:00", "2026-10-16 18:00", "Atlantic Ave"),
    ("cal-08", "Yoga", "2026-10-17 10:30", "2026-10-17 11:45", "Park Slope Yoga"),
    ("cal-09", "Gym with Sam", "2026-10-21 08:00", "2026-10-21 09:00", "Crunch Fitness"),
    ("cal-10", "Interview panel", "2026-10-22 15:00", "2026-10-22 16:00", "Lumenfield office"),
    ("cal-11", "Ops weekly review", "2026-10-27 08:30", "2026-10-27 09:45", "Lumenfield office"),
    ("cal-12", "Sam's birthday dinner", "2026-11-19 19:00", "2026-11-19 21:30", "Lilia, Williamsburg"),
    ("cal-13", "Coffee with Priya", "2026-11-14 10:30", "2026-11-14 11:30", "Devoción"),
]


def _ics(events: list[tuple[str, str, datetime, datetime | None, str | None, bool]], method: str | None) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Quarry sample corpus//EN")
    cal.add("version", "2.0")
    if method:
        cal.add("method", method)
    for uid, title, start, end, location, all_day in events:
        ev = Event()
        ev.add("uid", uid)
        ev.add("dtstamp", STAMP)
        ev.add("summary", title)
        ev.add("dtstart", start.date() if all_day else start)
        if end is not None:
            ev.add("dtend", end.date() if all_day else end)
        if location:
            ev.add("location", location)
        cal.add_component(ev)
    cal.add_missing_timezones()
    return cal.to_ical()


def my_calendar() -> bytes:
    rows = [(f"{cid}@maya.brennan", title, local(s, NY), local(e, NY), loc, False)
            for cid, title, s, e, loc in MY_CALENDAR]
    return _ics(rows, None)


def _pdf(title: str, lines: list[str]) -> bytes:
    pdf = FPDF()
    pdf.set_creation_date(STAMP)
    pdf.set_title(title)
    pdf.set_author("Quarry sample corpus")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    for line in lines:
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _png(width: int = 16, height: int = 10) -> bytes:
    """A tiny green-and-white booth render, written by hand so it needs no imaging library."""
    rows = b"".join(b"\x00" + b"".join(b"\x2e\x8b\x57" if (x + y) % 4 else b"\xff\xff\xff" for x in range(width))
                    for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def attachments() -> dict[str, bytes]:
    review = local("2026-09-22 16:00", BERLIN)
    return {
        "KD-2026-114.pdf": _pdf("Kranich Design GmbH - Invoice KD-2026-114", [
            "Bill to: Lumenfield Labs, 55 Water St, Suite 412, Brooklyn NY 11201",
            "Item: Sensor v3 enclosure design, renderings and mould drawings",
            "Amount: EUR 18,400.00 (reverse charge)",
            "Payment due: 15 November 2026",
            "IBAN: DE00 1234 5678 9012 3456 78",
        ]),
        "budget-2027-draft.txt": (
            "Lumenfield Labs - 2027 budget draft (text export)\n\n1. Revenue\n   Hardware units: 4,200\n"
            "   Subscriptions: 1,150 farms\n\n2. Headcount\n   +1 firmware engineer (Q1)\n   +1 support (Q3)\n\n"
            "3. COGS\n   v3 enclosure at Kranich quote\n   Freight: 2% of revenue\n").encode(),
        "design-review.ics": _ics([("design-review-2026@kranich-design.de", "Sensor v3 design review", review,
                                    local("2026-09-22 17:00", BERLIN), "Zoom", False)], "REQUEST"),
        "booth-render.png": _png(),
    }


MEETING_NOTES = {
    "meeting-notes/2026-09-07-leadership-sync.md": """# Leadership sync, 2026-09-07

Attendees: Sofia, Raj, Dana, Maya

## Decisions
- Q4 offsite at Mohonk Mountain House, October 22-23. Maya books transport.
- Budget draft owner: Dana. Board gets the final version on November 3.

## Action items
- [ ] Maya: bus quotes for the offsite
- [ ] Dana: 2027 budget draft
- [ ] Raj: hiring plan for the firmware role
""",
    "meeting-notes/2026-10-05-product-review.md": """# Product review, 2026-10-05

Attendees: Raj, Ben, Chloe, Maya

- Firmware freeze held on October 2; two blocker fixes since.
- Kranich enclosure: design review went well, handoff planned for late October.
- Quiet hours for alerts: Chloe writes the spec.
- Webinar "Sensors in the Soil" planned for early November; Raj presents.
""",
    "meeting-notes/2026-10-19-ops-weekly.md": """# Ops weekly, 2026-10-19

- Demo units shipped to Berlin (FedEx, tracking in the ops sheet).
- SOC 2 package delivered on time.
- Berlin trip: Maya flies out November 2, back November 7.
- Open question: do we need a second booth staffer? Katrin thinks yes.
""",
    "meeting-notes/2026-11-04-club-board-prep.md": """# Gowanus Pickleball Club - board prep notes

Prepared by Maya (treasurer).

- Fall Classic cancelled (Pier 2 repairs); refunds of entry fees in progress.
- Social at Threes Brewing made a small surplus.
- Dues for spring to be discussed at the next board meeting.
""",
    "meeting-notes/2026-11-16-q1-planning.md": """# Q1 planning kickoff, 2026-11-16

Attendees: Sofia, Raj, Dana, Ben, Chloe, Maya, Katrin (remote)

## Themes
1. German market: follow up on GreenTech Expo leads (Gärtnerei Schulz, Stadtwerke München).
2. Support: hire in Q2.
3. Board dinner moved to November 19.

## Owners
- Katrin: lead list from the expo
- Chloe: case study with Brooklyn Grange
""",
}

TEXT_DOCS = {
    "packing-list-berlin.txt": "Berlin trip packing list\n\n- passport\n- EU plug adapters (3)\n- 2 demo units "
                               "(hand luggage)\n- booth banner\n- warm coat, it's November\n",
    "vendor-contacts.txt": "Vendors\n\nKranich Design GmbH - Jörg Müller - joerg.mueller@kranich-design.de\n"
                           "Hoshizora Denki - Tanaka Hiroshi - tanaka@hoshizora-denki.co.jp\n"
                           "Ostara Logistics - dispatch@ostara-logistics.com\n",
    "office-info.txt": "Lumenfield Labs office\n\n55 Water St, Suite 412, Brooklyn NY 11201\nGuest Wi-Fi: "
                       "lumenfield-guest\nBig conference room seats 12; small conference room seats 4.\n",
}

CLUB_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>Gowanus Pickleball Club - October news</title></head>
<body>
<h1>Gowanus Pickleball Club</h1>
<h2>October news</h2>
<p>The fall social at <b>Threes Brewing</b> is on Friday, October 16. Court cleanup day is Saturday, October 24.</p>
<p>League standings: we are 3-1 after the win against the Red Hook Dinks.</p>
<ul><li>Open play: Tuesdays and Thursdays at McCarren Park</li><li>Treasurer: Maya Brennan</li></ul>
</body></html>
"""


def documents() -> dict[str, bytes]:
    """Relative path under docs/ -> bytes."""
    docs: dict[str, bytes] = {path: text.encode() for path, text in {**MEETING_NOTES, **TEXT_DOCS}.items()}
    docs["club-newsletter-october.html"] = CLUB_HTML.encode()
    docs["gpc-fall-league-2026.pdf"] = _pdf("Gowanus Pickleball Club - Fall League 2026", [
        "League nights: Thursdays at 7pm, Red Hook courts.",
        "Opening match: September 10. Match vs. Red Hook Dinks: October 8.",
        "Playoffs: week of November 16.",
        "Rules: rally scoring to 11, win by 2. Players arrive 15 minutes early.",
        "Captain: Tom Reyes. Secretary: Nadia Haddad. Treasurer: Maya Brennan.",
    ])
    docs["board-dinner-invite.ics"] = _ics([
        ("board-dinner-2026@lumenfield.io", "Lumenfield board dinner", local("2026-11-19 19:30", NY),
         local("2026-11-19 22:00", NY), "Gramercy Tavern, 42 E 20th St", False),
        ("strategy-2026@lumenfield.io", "Half-day strategy session", local("2026-10-22 13:00", NY),
         local("2026-10-22 17:00", NY), "Big conference room", False),
    ], "REQUEST")
    return docs
