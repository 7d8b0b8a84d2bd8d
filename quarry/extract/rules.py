"""The rules extractor: no model, just date parsing plus cue patterns. Fast, offline, the baseline.

Each sentence of the cleaned body is scanned for date phrases (extract.dates) and cue words:
meeting words make an event, "due"/"deadline"/"by <date>" a deadline, requests ("can you",
"please") an action item, and move/cancel words mark an event as moved or cancelled so the stage
can update the event it refers to. People in the headers become person entities, the subject a topic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta

from quarry.extract.dates import ResolvedTime, find_dates, is_evening, meant_zone, mentions_date
from quarry.extract.facts import (
    ActionItem,
    Deadline,
    Entity,
    Event,
    Fact,
    SourceText,
    Topic,
)
from quarry.extract.distractors import is_promotion, is_scam
from quarry.extract.titles import EVENT_RE, clean_subject, event_title, is_eventish, subject_title

VERSION = "rules-1"

CANCEL_RE = re.compile(
    r"\b(?:cancel(?:l?ed|ling|s)?|called off|calling off|is off|won't happen|not happening|scrapp?(?:ed)?)\b", re.I
)
MOVE_RE = re.compile(
    r"\b(?:moved?|moving|reschedul\w*|push(?:ed|ing)?|postpon\w*|shift(?:ed|ing)?|bump(?:ed|ing)?|"
    r"instead|new (?:time|date|day|appointment|slot)|changed? to)\b", re.I
)
DEADLINE_RE = re.compile(
    r"\b(?:due|deadline|no later than|at the latest|closes?|closing|ends|expires?|cut-?off|freeze|goes out|last day|"
    r"must be (?:in|returned|paid|received|submitted))\b", re.I
)
BY_DATE_RE = re.compile(r"\b(?:by|before|until)\s*$", re.I)
REQUEST_RE = re.compile(
    r"\b(?:please|pls|can you|could you|would you|will you|need you to|don't forget to|do not forget to|"
    r"remember to|make sure (?:to|you)|action item|todo|to-do|i need|any chance)\b", re.I
)
_BOUNDARY = re.compile(r"(?<=[.!?])\s+|\s*\n\s*")
_ABBREVIATION = re.compile(r"\b(?:dr|mr|mrs|ms|st|vs|jr|sr|prof|inc|ave|approx|no|e\.g|i\.e|[A-Z])\.$", re.I)
_RELOCATION = re.compile(
    r"\b(?:(?:has |have |is |are |we've |we have )?(?:moved|moving|relocat\w*)\s+(?:[\w'’-]+\s+){0,4}?(?:over\s+)?to|"
    r"(?:will )?now (?:be )?(?:at|in)|instead at|new venue(?: is)?:?|venue (?:is now|has changed to|change:?))\s+"
    r"(?:the\s+)?(?P<place>[A-Z][\w'&.-]*(?:\s+(?:[A-Z][\w'&.-]*|of|on|and|de|la|du))*)")
_LOCATION = re.compile(r"\b(?:at|in|@)\s+(?:the\s+)?((?:[A-Z][\w'&.-]*)(?:\s+(?:[A-Z][\w'&.-]*|of|on|and))*)")
_REQUEST_TASK = re.compile(
    r"(?:please|pls|can you|could you|would you|will you|need you to|don't forget to|do not forget to|"
    r"remember to|make sure (?:to|you)|i need you to|i need|any chance (?:that )?(?:you could|you can|of))\s+"
    r"(?P<task>.+)", re.I
)
#: Courtesy phrases that look like requests but ask for nothing to be done.
_COURTESY = re.compile(r"^(?:find attached|see attached|let me know|feel free|don't hesitate|do not hesitate|"
                       r"take another look|reply|note that|be aware|do not reply|don't reply|be advised|click|visit|"
                       r"go to|allow|e-?mail us|contact us|call us|view|log ?in|sign in|unsubscribe)\b", re.I)
_DUE_TASK = re.compile(
    r"(?P<task>.+?)\s+(?:is|are)?\s*(?:due|needs? to be (?:done|in|submitted|sent)|closes|ends|expires?|goes out)\b",
    re.I,
)


def has_cues(src: SourceText) -> bool:
    """The prefilter: only a message naming a date/time or asking for something can hold an event, deadline or task."""
    text = f"{src.subject}\n{src.body}"
    return mentions_date(text) or bool(REQUEST_RE.search(text) or DEADLINE_RE.search(text) or CANCEL_RE.search(text))


def sentences(text: str) -> Iterator[str]:
    """Sentences and lines of a body, trimmed; "Dr." or "vs." do not end a sentence."""
    start = 0
    for boundary in _BOUNDARY.finditer(text):
        if "\n" not in boundary.group(0) and _ABBREVIATION.search(text[start:boundary.start()]):
            continue
        if text[start:boundary.start()].strip():
            yield text[start:boundary.start()].strip()
        start = boundary.end()
    if text[start:].strip():
        yield text[start:].strip()


#: A line of minutes giving someone a task: "Claire to ask Crumb & Co ...", "- Marek to order two cash tins".
_MINUTED = re.compile(r"^\s*[-*•]?\s*(?:action:?\s*)?(?P<name>[A-Z][\w'-]+)\s+to\s+(?P<task>[a-z].{5,})$")
_WILLING = re.compile(r"^(?:be (?:happy|able|willing|so kind as) to|mind|kindly)\s+", re.I)
#: Senders and recipients that are a role or a machine, not a person: their mail goes to everyone.
_ROLE_ADDRESS = re.compile(r"^(?:no-?reply|do-?not-?reply|office|info|news|newsletter|admin|notifications?|hello|"
                           r"team|support|bookings?|enquiries|contact|mail|mailer|bounce|parents|all|everyone|"
                           r"members|list|announce\w*|updates?|alerts?)\b", re.I)


def is_bulk(src: SourceText) -> bool:
    """Mail to many or from a role address (a school letter, a newsletter, a notification): its "please" asks
    everyone, so it sets deadlines, not anyone's action items."""
    sender = (src.sender.email if src.sender else "").split("@")[0]
    recipients = [p.email.split("@")[0] for p in src.recipients]
    return len(recipients) >= 3 or bool(_ROLE_ADDRESS.match(sender)) or any(_ROLE_ADDRESS.match(r) for r in recipients)


def _person_named(first: str, src: SourceText) -> str | None:
    """The address of the sender or a recipient whose first name is `first`."""
    for person in src.people():
        if (person.name or "").split(" ")[0].lower() == first.lower():
            return person.email
    return None


def relocation(sentence: str) -> str | None:
    """The new place of a venue change ("we've moved it to the Riverside Park pavilion"), if the sentence is one."""
    match = _RELOCATION.search(sentence)
    if match is None or re.fullmatch(r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)\w*|[A-Z][a-z]+day", match.group("place")):
        return None
    return match.group("place").strip(" .")


def _ahead(when: ResolvedTime, src: SourceText) -> bool:
    """An event still to come when the message was written ("came in at 11pm last night" is not one)."""
    end = when.start + timedelta(days=1) if when.all_day else when.start
    return end > src.reference


def _location(sentence: str, phrase: str) -> str | None:
    rest = sentence.replace(phrase, " ")
    match = _LOCATION.search(rest)
    if match is None or re.fullmatch(r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)\w*|EOD|COB|Noon", match.group(1)):
        return None
    return match.group(1).strip(" .")


def _due_by(sentence: str, when: ResolvedTime | None) -> bool:
    """The date is introduced by "by", "before" or "until": something is due then."""
    return when is not None and bool(BY_DATE_RE.search(sentence[: when.span[0]]))


def _strip_date(text: str, when: ResolvedTime | None) -> str:
    if when is not None:  # the date and the preposition that introduced it ("let me know by Friday whether")
        text = re.sub(rf"(?:\b(?:by|before|until|on|at|no later than)\s+)?{re.escape(when.phrase)}", " ", text,
                      flags=re.I)
    text = re.sub(r"\b(?:by|before|until|on|at|no later than)\s*[,.!?]*\s*$", "", text.strip(), flags=re.I)
    return " ".join(text.split()).strip(" ,.;:!?-")


def _with_subject(task: str, src: SourceText) -> str:
    """A task of one or two words ("Payment", "Your items") says more with the subject it belongs to."""
    subject = clean_subject(src.subject)
    if len(task.split()) > 2 or not subject:
        return task or subject
    return f"{task} ({subject})" if task else subject


def _addressed(sentence: str, src: SourceText) -> str | None:
    """The recipient a sentence opens by name ("Maya, your slides are due..."), if any."""
    for person in src.recipients:
        first = (person.name or "").split(" ")[0]
        if first and re.match(rf"\s*(?:hi\s+|hey\s+)?{re.escape(first)}\b\s*,", sentence, re.I):
            return person.email
    return None


def _owner(sentence: str, src: SourceText) -> str | None:
    """Who a request is addressed to: a recipient named at the start of the sentence, else the sole recipient."""
    for person in src.recipients:
        first = (person.name or "").split(" ")[0]
        if first and re.match(rf"\s*(?:hi\s+|hey\s+)?{re.escape(first)}\b", sentence, re.I):
            return person.email
    return src.recipients[0].email if len(src.recipients) == 1 else None


def _details_folded(facts: list[Fact], src: SourceText) -> list[Fact]:
    """A later sentence on the day of an event already named in the message, naming no event of its own ("Doors
    open at 8:30"), is a detail of it: its time fills an all-day event, and it is no event by itself."""
    zone = src.reference.tzinfo
    kept: list[Fact] = []
    named: list[Event] = []
    for fact in facts:
        if isinstance(fact, Event) and fact.status == "scheduled" and fact.starts_at is not None:
            day = fact.starts_at.astimezone(zone).date()
            same = next((e for e in named if e.starts_at.astimezone(zone).date() == day), None)
            if same is not None and not EVENT_RE.search(fact.evidence):
                if same.all_day and not fact.all_day:
                    kept[kept.index(same)] = named[named.index(same)] = same.model_copy(
                        update={"starts_at": fact.starts_at, "ends_at": fact.ends_at, "all_day": False})
                continue
            named.append(fact)
        kept.append(fact)
    return kept


#: A confirmation's own fields, each on a line: "Date: Tuesday, 07.04.2026", "Time: 09:20", "When: Fri 3 May 10am".
_FIELD = re.compile(
    r"^[ \t]*(?P<key>date|day|when|datum|time|start(?: time)?|starts|uhrzeit)[ \t]*:[ \t]*(?P<value>\S.*)$", re.I | re.M)
_DAY_FIELDS = {"date", "day", "when", "datum"}
#: "Booking confirmed:", "Terminbestätigung:", "Reservation -": the label of a confirmation's subject, not its name.
_CONFIRMATION = re.compile(r"^[\w ]{0,30}?\b(?:confirm\w*|\w*bestätigung|booked|reserv\w*)\s*[:\-–]\s*", re.I)
_FIELD_SPAN = 240


def _form_fields(body: str, reference: datetime) -> tuple[ResolvedTime, str] | None:
    """The timed appointment a booking or appointment confirmation states in field lines, and those lines as
    evidence: the sentence scan sees "Date: ..." and "Time: ..." apart and finds a day without a time."""
    fields = list(_FIELD.finditer(body))
    day = next((f for f in fields if f.group("key").lower() in _DAY_FIELDS), None)
    if day is None:
        return None
    clock = next((f for f in fields if f.start() > day.start() and f.group("key").lower() not in _DAY_FIELDS
                  and f.start() - day.end() < _FIELD_SPAN), None)
    found = find_dates(f"{day.group('value')} {clock.group('value') if clock else ''}", reference)
    if not found or found[0].all_day:
        return None
    return found[0], body[day.start():(clock or day).end()].strip()


class RulesExtractor:
    """Extractor interface: `name`, `model`, `version`, `extract(src) -> list[Fact]`."""

    name = "rules"
    model: str | None = None
    version = VERSION
    #: The date finder (a subclass swaps it to measure another: extract.temporal).
    find_dates = staticmethod(find_dates)

    def extract(self, src: SourceText) -> list[Fact]:
        facts: list[Fact] = []
        base = {"extractor": self.name, "model": None, "extractor_version": self.version, **src.provenance()}
        last_day: date | None = None
        scam = is_scam(src)
        evening = is_evening(src.subject)
        for sentence in sentences("" if scam else src.body):
            found = self.find_dates(sentence, src.reference, default_day=last_day, evening=evening)
            if not is_promotion(sentence):
                facts.extend(self._sentence_facts(sentence, found, src, base))
            if found:
                last_day = found[-1].start.astimezone(src.reference.tzinfo).date()
        form = None if scam else _form_fields(src.body, src.reference)
        if form is not None and _ahead(form[0], src):
            facts.insert(0, self._form_event(*form, src, base))
        facts = _details_folded(facts, src)
        facts.extend(self._header_facts(src, base))
        return facts

    def extract_many(self, sources: Iterable[SourceText]) -> Iterator[tuple[SourceText, list[Fact], str | None]]:
        for src in sources:
            yield src, self.extract(src), None

    def _sentence_facts(self, sentence: str, found: list[ResolvedTime], src: SourceText, base: dict) -> list[Fact]:
        """A request wins over everything (with its due date); then cancel, move, deadline, event cues."""
        when = found[0] if found else None
        minuted = _MINUTED.match(sentence)
        owner = _person_named(minuted.group("name"), src) if minuted else None
        if owner:
            return self._request(sentence, when, src, base, (minuted.group("task"), owner))
        if REQUEST_RE.search(sentence) or (when is not None and _addressed(sentence, src)):
            by_date = _due_by(sentence, when)
            invite = when is not None and _ahead(when, src) and not by_date and is_eventish(sentence, src, when)
            extra = [self._event(sentence, when, src, base, "scheduled", 0.6)] if invite else []
            if is_bulk(src) and not _addressed(sentence, src):  # a letter to everyone asks no one in particular
                return [*([self._deadline(sentence, when, src, base)] if by_date else []), *extra]
            return [*self._request(sentence, when, src, base), *extra]
        if CANCEL_RE.search(sentence):
            # Without an event word it may still cancel a stored event; unmatched, the stage drops it.
            named = EVENT_RE.search(sentence) or EVENT_RE.search(src.subject)
            return [self._event(sentence, when, src, base, "cancelled", 0.7 if named else 0.4)]
        place = relocation(sentence)
        if place and (when is None or not MOVE_RE.search(sentence[: when.span[0]])):
            event = self._event(sentence, when, src, base, "moved", 0.45)  # below STANDALONE: needs a target
            return [event.model_copy(update={"location": place})]
        if when is None:
            return []
        if MOVE_RE.search(sentence):
            return [self._event(sentence, found[-1], src, base, "moved", 0.7)]
        if DEADLINE_RE.search(sentence) or _due_by(sentence, when) or re.search(r"\b(?:eod|cob)\b", when.phrase, re.I):
            return [self._deadline(sentence, when, src, base)]
        if _ahead(when, src) and is_eventish(sentence, src, when):
            return [self._event(sentence, when, src, base, "scheduled", 0.8 if EVENT_RE.search(sentence) else 0.5)]
        return []

    def _event(self, sentence, when, src, base, status, confidence) -> Event:
        return Event(
            title=event_title(sentence, src, when, CANCEL_RE.search(sentence)),
            starts_at=when.start if when else None, ends_at=when.end if when else None,
            all_day=when.all_day if when else False, location=_location(sentence, when.phrase) if when else None,
            participants=[p.email for p in src.people()],
            status=status, phrase=when.phrase if when else None, thread_id=src.thread_id,
            timezone=meant_zone(when, src.reference), evidence=sentence, confidence=confidence, **base,
        )

    def _form_event(self, when: ResolvedTime, evidence: str, src: SourceText, base: dict) -> Event:
        """A confirmed booking or appointment, named by its subject without the confirmation label."""
        title = _CONFIRMATION.sub("", subject_title(src.subject, src.reference)) or "appointment"
        return Event(title=title, starts_at=when.start, ends_at=when.end, participants=[p.email for p in src.people()],
                     status="scheduled", phrase=when.phrase, thread_id=src.thread_id,
                     timezone=meant_zone(when, src.reference), evidence=evidence, confidence=0.8, **base)

    def _deadline(self, sentence: str, when: ResolvedTime, src: SourceText, base: dict) -> Deadline:
        due = _DUE_TASK.match(sentence)
        task = re.sub(r"^(?:the|reminder:?|fyi:?)\s+", "", _strip_date(due.group("task") if due else sentence, when),
                      flags=re.I)
        return Deadline(task=_with_subject(task, src), due_at=when.start, owner=_owner(sentence, src),
                        phrase=when.phrase, timezone=meant_zone(when, src.reference), evidence=sentence,
                        confidence=0.7, **base)

    def _request(self, sentence: str, when: ResolvedTime | None, src: SourceText, base: dict,
                 minuted: tuple[str, str] | None = None) -> list[Fact]:
        """An action item: the words after the request cue, owned by the addressee; or the (task, owner) a line of
        minutes names ("Claire to ask the bakery by Monday")."""
        match = _REQUEST_TASK.search(sentence)
        owner = minuted[1] if minuted else _owner(sentence, src)
        if minuted is not None:
            task = minuted[0]
        elif match is not None:
            task = _WILLING.sub("", match.group("task"))
        elif _addressed(sentence, src):  # "Maya, your slides are due Friday."
            rest = sentence.split(",", 1)[1].strip()
            due = _DUE_TASK.match(rest)
            task = due.group("task") if due else rest
        else:
            return []
        task = _strip_date(task, when)
        # "let me know by Friday whether ..." asks for something; a bare "let me know" is courtesy.
        if len(task.split()) < 2 or (_COURTESY.match(task) and not _due_by(sentence, when)):
            return []
        return [ActionItem(owner=owner, task=task, due_at=when.start if when else None,
                           phrase=when.phrase if when else None, timezone=meant_zone(when, src.reference),
                           evidence=sentence, confidence=0.6, **base)]

    def _header_facts(self, src: SourceText, base: dict) -> list[Fact]:
        facts: list[Fact] = []
        people = src.people()
        for person in people:
            if person.name:
                facts.append(Entity(name=person.name, kind="person", evidence=person.name, confidence=0.9, **base))
        subject = clean_subject(src.subject)
        if subject:
            facts.append(Topic(name=subject, evidence=subject, confidence=0.5, **base))
        return facts
