"""The unplanted bulk of the mailbox: newsletters, notifications, receipts and everyday chatter.

Everything is drawn from a seeded random generator, so it is the same on every run. None of it carries a
gold fact; it is what a fact extractor has to read past.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from corpusgen.model import Msg, Thread

START = date(2026, 9, 1)
DAYS = 91  # through 2026-11-30

_BULK = (("Precedence", "bulk"), ("List-Unsubscribe", "<https://example.com/unsubscribe>"))

CHATTER = [
    ("Wi-Fi on the 4th floor", ("raj", "ben", "chloe"), [
        "Is anyone else getting dropped from the guest network? My laptop keeps reconnecting.",
        "Same here. I think the access point near the kitchen is overheating again.",
        "I'll open a ticket with the building. Use the wired port by the window meanwhile.",
    ]),
    ("Printer jam (again)", ("ben", "dana", "chloe"), [
        "The big printer is eating paper again. I put a sign on it.",
        "Thanks. I'll call the service company, we're still under contract.",
    ]),
    ("Lunch order", ("chloe", "raj", "dana", "ben"), [
        "Ordering from the Thai place, anyone want in? Reply with your dish.",
        "Pad see ew, mild please.",
        "Green curry for me, thanks!",
        "Nothing for me, I brought leftovers.",
    ]),
    ("Customer feedback from Ostara Farms", ("sofia", "chloe", "raj"), [
        "Ostara says the battery life is great but the app onboarding is confusing. Notes attached below.\n\n"
        "- pairing takes too many taps\n- units named by serial number only\n- alerts are too chatty at night",
        "Good notes. Pairing is already on the roadmap; naming is an easy win.",
        "Let's add quiet hours for alerts. I'll write it up.",
    ]),
    ("Blog post draft: why soil moisture matters", ("chloe", "sofia"), [
        "First draft of the blog post is in the shared folder. It's a bit long, happy to cut.",
        "Love the intro. Cut the second section by half and add a customer quote.",
    ]),
    ("Coffee machine", ("dana", "raj", "ben", "chloe"), [
        "Who descaled the coffee machine? It tastes like a new machine.",
        "That was me. You're welcome.",
    ]),
    ("Paddle recommendations?", ("marcus", "tom"), [
        "Thinking about upgrading my paddle. Anyone tried the carbon fiber ones?",
        "I like mine a lot, more spin and a bigger sweet spot. Happy to let you try it.",
        "Try before you buy, some of them are way too stiff.",
    ]),
    ("Court fees this season", ("nadia", "tom"), [
        "The parks department raised the permit fee a little. We can absorb it this season.",
        "Agreed, no need to change dues. Maya, does the budget look ok?",
        "Budget is fine, we have a small cushion from the summer social.",
    ]),
    ("Photos from last night", ("sam", "ellen"), [
        "Uploaded the photos to the shared album. The one of your mom laughing is the best.",
        "Oh I love these, thank you both!",
    ]),
    ("Dishwasher", ("sam",), [
        "The dishwasher is making the noise again. Should I call the landlord or try the filter first?",
        "Try the filter first, it fixed it last time.",
    ]),
    ("Gateway firmware 3.2 notes", ("raj", "ben"), [
        "Release notes for gateway firmware 3.2 are up. Main change is the new retry logic for weak links.",
        "Nice. The field units in Red Hook should like that.",
        "Also fixed the clock drift bug Ben found.",
    ]),
    ("Hiring pipeline", ("raj", "sofia"), [
        "We have six candidates for the firmware role, two strong. Sharing notes in the hiring doc.",
        "Thanks, I'll read them tonight.",
    ]),
    ("Recipe", ("ellen",), [
        "Here's the brisket recipe you asked for. The trick is low heat and patience.",
        "Thank you! Sam is already excited.",
    ]),
    ("Office plants", ("chloe", "dana"), [
        "The office plants are thriving since we put our own sensors in them. Very on brand.",
        "Ha, best demo we have.",
    ]),
    ("Berlin office keys", ("katrin",), [
        "The second key for the Berlin office is with the concierge downstairs, just ask for it.",
        "Perfect, thank you Katrin.",
    ]),
    ("Moodboard v2", ("lea", "joerg"), [
        "Here is moodboard v2 with the softer greens. Jörg prefers option B, I lean towards C.",
        "Option C for me as well. The matte finish looks great.",
    ]),
]

NEWSLETTER_TOPICS = [
    "Vertical farms bet on cheaper LEDs", "Soil sensors go mainstream", "The LoRaWAN coverage map, updated",
    "Greenhouse energy prices in Europe", "Drip irrigation startups raise again", "Agtech hiring slows",
    "What growers want from dashboards", "Five lessons from a failed hydroponics startup",
    "The quiet rise of rooftop farms", "Battery chemistry for field devices", "Climate risk and crop insurance",
    "Why growers distrust alerts", "Edge computing in the field", "Year-end agtech funding roundup",
]
DINK_TOPICS = [
    "Third-shot drop drills", "Choosing a paddle core", "Stacking explained", "Etiquette at open play",
    "How to beat bangers", "Footwork for the kitchen line", "Winter indoor courts near you",
]
REPOS = ["lumenfield/firmware", "lumenfield/dashboard", "lumenfield/gateway"]
PRS = [
    "Fix clock drift after deep sleep", "Add quiet hours for alerts", "Bump protobuf to 5.28",
    "Retry weak LoRa links with backoff", "Name units on pairing", "Dark mode for the dashboard",
    "CSV export for readings", "Remove legacy v1 API", "Battery estimate from voltage curve",
    "Localise dashboard into German",
]
COMMENTS = [
    "Looks good to me, one nit inline.", "Can we add a test for the edge case?", "Approved.",
    "This breaks the build on ARM, see the CI log.", "Rebased on main, please take another look.",
    "Merged. Thanks!",
]
PRODUCTS = [
    "USB-C multiport adapter", "Pickleball balls (12-pack)", "Label maker tape", "Ergonomic keyboard",
    "Knee sleeve", "Cable ties (100)", "Water bottle", "Grip tape",
]


def _moment(rng: random.Random, day: int, early: int = 7, late: int = 21) -> str:
    when = datetime.combine(START + timedelta(days=day), datetime.min.time())
    when += timedelta(hours=rng.randint(early, late), minutes=rng.randint(0, 59))
    return when.strftime("%Y-%m-%d %H:%M")


def _later(at: str, rng: random.Random) -> str:
    when = datetime.strptime(at, "%Y-%m-%d %H:%M") + timedelta(minutes=rng.randint(12, 600))
    return when.strftime("%Y-%m-%d %H:%M")


def newsletters(rng: random.Random) -> list[Thread]:
    out = []
    for week in range(13):
        day = week * 7 + 2
        topic = NEWSLETTER_TOPICS[week % len(NEWSLETTER_TOPICS)]
        body = (f"GREENHOUSE TECH WEEKLY, issue {112 + week}\n\n{topic}\n\nThis week: {topic.lower()}, plus "
                f"funding news and three jobs worth a look.\n\nRead online | Unsubscribe")
        out.append(Thread(f"GTW #{112 + week}: {topic}", [
            Msg(f"ghw-{week}", "ghw", ("maya",), _moment(rng, day, 6, 7), body=body, style="html", extra=_BULK)]))
        if week % 2 == 0:
            tip = DINK_TOPICS[(week // 2) % len(DINK_TOPICS)]
            out.append(Thread(f"The Dink Digest: {tip}", [
                Msg(f"dink-{week}", "dink", ("maya",), _moment(rng, day + 3, 8, 10), style="alt", extra=_BULK,
                    body=f"{tip}\n\nThis week's drill, a pro tip, and the best points of the month.\n\nUnsubscribe")]))
        out.append(Thread(f"Your weekly Linear digest", [
            Msg(f"lin-{week}", "linear", ("maya",), _moment(rng, day + 4, 9, 9), extra=_BULK, body=(
                f"Issues closed this week: {rng.randint(8, 30)}\nIssues opened: {rng.randint(5, 25)}\n"
                f"Cycle progress: {rng.randint(40, 95)}%\n\nView in Linear"))]))
    return out


def github(rng: random.Random) -> list[Thread]:
    out = []
    for n, title in enumerate(PRS):
        repo = REPOS[n % len(REPOS)]
        number = 200 + n * 7
        day = rng.randint(0, DAYS - 8)
        at = _moment(rng, day)
        msgs = [Msg(f"gh-{n}-0", "github", ("maya",), at, quote=None, sig=False,
                    body=f"{title} (#{number})\n\n{repo}: opened by a teammate.\n\nView it on GitHub.")]
        for c in range(rng.randint(2, 4)):
            at = _later(at, rng)
            msgs.append(Msg(f"gh-{n}-{c + 1}", "github", ("maya",), at, reply=msgs[-1].key, quote=None, sig=False,
                            body=f"{rng.choice(COMMENTS)}\n\nReply to this email directly or view it on GitHub."))
        out.append(Thread(f"[{repo}] {title} (PR #{number})", msgs))
    return out


def receipts(rng: random.Random) -> list[Thread]:
    out = []
    for n in range(18):
        product = PRODUCTS[n % len(PRODUCTS)]
        sender = "parcel" if n % 2 == 0 else "proflink"
        if sender == "parcel":
            subject, body = f"Your package is on its way: {product}", (
                f"Good news! Your order #{rng.randint(100000, 999999)} ({product}) has shipped.\n\nTrack your package.")
        else:
            subject, body = "You appeared in 9 searches this week", (
                f"You appeared in {rng.randint(3, 40)} searches this week.\n\nSee who's looking.")
        out.append(Thread(subject, [Msg(f"rc-{n}", sender, ("maya",), _moment(rng, rng.randint(0, DAYS - 1)),
                                        body=body, style="html", extra=_BULK)]))
    return out


def chatter(rng: random.Random, rounds: int = 4) -> list[Thread]:
    """The CHATTER conversations, each started a few times over the quarter by rotating people."""
    out = []
    for r in range(rounds):
        for n, (subject, people, lines) in enumerate(CHATTER):
            starter = people[(r + n) % len(people)]
            at = _moment(rng, rng.randint(0, DAYS - 2), 8, 19)
            key = f"ch-{r}-{n}"
            msgs = [Msg(f"{key}-0", starter, ("maya",), at, body=lines[0])]
            for i, line in enumerate(lines[1:], start=1):
                frm = "maya" if i % 2 else people[(r + n + i) % len(people)]
                to = (msgs[-1].frm,)
                at = _later(at, rng)
                quote = "outlook" if frm in ("nadia", "greg") else "gmail"
                msgs.append(Msg(f"{key}-{i}", frm, to, at, body=line, reply=msgs[-1].key, quote=quote,
                                threaded=not (r == 1 and i == 1 and n % 5 == 0)))
            title = subject if r == 0 else f"{subject} ({('again', 'round 3', 'one more time')[r - 1]})"
            out.append(Thread(title, msgs))
    return out


def threads(seed: int = 7) -> list[Thread]:
    rng = random.Random(seed)
    return [*newsletters(rng), *github(rng), *receipts(rng), *chatter(rng)]
