"""Event titles as a person would say them ("class assembly", "Q3 review call"), never a sentence fragment.

A title comes from, in order: the short noun phrase leading up to the date ("Grading day will be Sunday..."),
the event noun with its modifiers ("a short phonics workshop for parents" -> "short phonics workshop"), the
subject line when it names the event better, or the words after the date ("Monday 12 April is an INSET day").
A lead that opens with a pronoun, a question word or a reply ("Would", "See you all", "When:") is no title.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

from quarry.extract.dates import ResolvedTime, find_dates
from quarry.extract.facts import SourceText

_EVENT_WORDS = (
    r"meeting|meetup|meet|call|sync|standup|stand-up|lunch|dinner|breakfast|brunch|coffee|drinks|party|game|match|"
    r"review|interview|appointment|workshop|conference|webinar|demo|presentation|session|offsite|off-site|retro|"
    r"kickoff|kick-off|celebration|practice|rehearsal|recital|concert|class|training|1:1|one-on-one|catch-up|"
    r"hangout|playdate|ceremony|wedding|birthday|bbq|barbecue|picnic|tournament|show(?!s? up)|reception|gathering|"
    r"check-in|huddle|walkthrough|briefing|town hall|all-hands|all hands|happy hour|potluck|night|visit|tour|"
    r"expo|fair|summit|festival|trip|flight|setup|set-up|launch|cleaning|checkup|check-up|tasting|screening|"
    r"clinic|social|cleanup|clean-up|maintenance|embargo|rematch|league|tryouts?|lesson|seminar|lecture|hearing|"
    r"open house|premiere|graduation|banquet|gala|fundraiser|retreat|assembly|evening|(?<!of )course|assessment|exam|"
    r"sprint|hackathon|rally|ride|race|fixture|round|agm|pickup|pick-up|drop-off|count|audit|consultation|"
    r"fitting|viewing|inspection|sale|market|quiz|handover|hand-over|housewarming|office hours|day"
)
EVENT_RE = re.compile(rf"\b(?:{_EVENT_WORDS})(?:s|es)?\b", re.IGNORECASE)
#: Event nouns that name an event only with a modifier ("grading day", "bake sale"), never alone.
_NEEDS_MODIFIER = {"day", "days", "sale", "sales", "count", "counts", "round", "rounds", "evening", "evenings",
                   "market", "markets", "night", "nights", "show", "shows"}

_SUBJECT_PREFIX = re.compile(r"^\s*(?:(?:re|fwd?|aw|wg|sv|tr)\s*:\s*)+", re.I)
_SUBJECT_LABEL = re.compile(r"^\s*(?:(?:updated\s+)?invitation|invite|reminder|accepted|declined|tentative|"
                            r"canceled|cancelled|updated|new event|confirmed|confirmation|fyi|heads[- ]up|"
                            r"\[[^\]]*\])\s*[:\-]?\s*", re.I)
_STOP = {
    "the", "a", "an", "our", "my", "your", "their", "his", "her", "this", "that", "for", "to", "of", "at", "on", "in",
    "is", "are", "will", "be", "we", "i", "you", "let's", "lets", "and", "with", "has", "have", "been", "was", "it",
    "so", "just", "next", "tomorrow", "today", "tonight", "about", "reminder", "re", "from", "all", "there", "s",
    "hi", "any", "can", "could", "would", "running", "having", "hold", "holding", "do", "doing", "book", "booked",
    "up", "as", "if", "what", "when", "after", "before", "since", "off", "or", "but", "then", "now", "also",
    "not", "each", "every", "big", "few", "final", "monday", "tuesday", "wednesday", "thursday", "friday",
    "saturday", "sunday", "morning", "afternoon", "evening", "night", "last", "same", "new",
    "per", "more", "working", "business",  # "per night", "a few more days", "the next working day": no events
}
_LEAD = re.compile(
    r"^(?:(?:hi|hello|hey)\b[^,:]*[,:]\s*)?(?:(?:reminder|heads-up|update|fyi|note|ps|bad news|good news)\s*[:,-]\s*)*"
    r"(?:(?:so|and|but|also|then|instead|ok|okay),?\s+)*"
    r"(?:(?:let's|lets|can we|could we|shall we|we'll|we will|i'll)\s+(?:have|do|hold|schedule|set up|book|meet for)?\s*)?"
    r"(?:(?:the|our|your|my|a|an|this|next)\s+)*", re.I,
)
_TRAIL = re.compile(r"(?:\s+(?:is|are|was|will be|starts?|runs?|begins?|takes place|happens|on|at|for|from|now|"
                    r"will|be|set|scheduled|planned|confirmed|moved|moving|to|still|kicks off|opens))+\s*[,:;-]*\s*$",
                    re.I)
#: Openers of a sentence that is about the writer or the reader, a question, or a reply: not an event's name.
_NOT_A_NAME = re.compile(
    r"^(?:i|we|you|he|she|they|it|that|this|there|here|i'm|i'll|i've|i'd|we're|we'll|we've|you're|you'll|it's|"
    r"that's|there's|thanks|thank|works|would|could|can|does|do|did|is|are|was|will|shall|should|when|where|what|"
    r"who|how|why|if|not|no|yes|yep|sure|ok|okay|great|perfect|sounds|see|just|any|so|and|but|also|sorry|please|"
    r"date|time|location|venue|starts?|ends?|mon|tue|wed|thu|fri|sat|sun|as|from|by|until|after|before|"
    r"let|let's|hope|looking|shout|send|bring|call me|ring|text|email|push|move|moving|reschedul\w*|postpone|shift|"
    r"bump|cancel\w*|hold|have|make|join|attend|come|go|skip|miss|of course|take|need|want|hi|hello|hey|dear)\b",
    re.I)
#: Words that open a sentence as a label but name no event ("Heads-up: we're moving...").
_NOT_A_LABEL = re.compile(r"^(?:heads[- ]up|reminder|update|fyi|note|n\.?b|p\.?s|good news|bad news|quick note|"
                          r"quick question|question|important|urgent|correction|change of plans?|news|also)$",
                          re.I)


#: "It's on Saturday", "we're at the leisure centre": a sentence that places the event its subject names.
_STATEMENT = re.compile(r"\b(?:it's|it is|it will be|that's|we're|we are|is|are|will be)\s+(?:on|at|this|next|now)\b",
                        re.I)


_URL = re.compile(r"\b(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)+/\S*")
#: Offering a time: "how about Tuesday at 6?", "does the 28th at 11am work?", "could we say 10am?".
_PROPOSAL = re.compile(r"\b(?:how about|what about|does .{0,50}\bwork|would .{0,50}\b(?:work|suit|do)|"
                       r"works? for (?:you|me)|could we|can we|shall we|let's|lets|are you free|is .{0,30}\bfree|"
                       r"pencil(?:led)? .{0,20}in)\b", re.I)


def proposes_a_time(sentence: str, when: ResolvedTime | None) -> bool:
    """A sentence offering a clock time for something ("ok if I drop it off tomorrow at 8?"): an event."""
    return when is not None and not when.all_day and (
        sentence.rstrip().endswith("?") or bool(_PROPOSAL.search(sentence)))


def clean_subject(subject: str) -> str:
    """The subject without Re:/Fwd: prefixes."""
    return _SUBJECT_PREFIX.sub("", subject or "").strip()


@lru_cache(maxsize=256)
def subject_title(subject: str, reference: datetime) -> str:
    """The subject as a title: no Re:/Fwd:, no "Invitation:" label, no "@ Tue 9 Mar 19:30" tail, no dates.

    Cached: every event candidate of a message asks for its subject's title."""
    text = _SUBJECT_LABEL.sub("", clean_subject(subject))
    text = re.sub(r"\s+@\s+.*$", "", text)
    text = re.sub(r"^(?:the|our|my|your|a|an)\s+", "", text, flags=re.I)
    text = re.sub(r"\s*\((?:[^)]*\d[^)]*)\)\s*", " ", text)
    for when in reversed(find_dates(text, reference)):
        text = text[: when.span[0]] + text[when.span[1]:]
    return " ".join(text.split()).strip(" ,.;:!?-()")


def _words_before(sentence: str, end: int, limit: int = 3) -> list[str]:
    """Up to `limit` content words right before position `end` (an event noun's modifiers)."""
    words = re.findall(r"[\w'&-]+", sentence[:end])
    picked: list[str] = []
    for word in reversed(words):
        if word.lower() in _STOP or word.isdigit() or len(picked) == limit:
            break
        picked.insert(0, word)
    return picked


def lead_title(sentence: str, when: ResolvedTime | None, cancel: re.Match | None = None) -> str:
    """The words before the date phrase (or a cancel cue), without greetings, openers and trailing verbs:
    "<title> is <date>", "<title> is cancelled"."""
    head = sentence[: when.span[0]] if when else sentence[: cancel.start()] if cancel else sentence
    head = re.sub(r"[#*_`]+", "", head)  # markdown emphasis and headings in notes
    return _TRAIL.sub("", _LEAD.sub("", head.strip())).strip(" ,.;:!?-()")


#: Words of notifications and receipts ("Estimated delivery", "Trigger: push", "Date paid"): no event's name.
_NOTIFICATION = re.compile(r"\b(?:deliver\w*|shipp?\w*|dispatch\w*|orders?|payments?|paid|receipts?|invoices?|"
                           r"trigger\w*|builds?|commits?|posted|created|updated|sent|received|estimated|window|"
                           r"tracking|balance|total|subtotal|refund\w*|charged|expires?|valid|opening hours|hours)\b",
                           re.I)


def names_something(phrase: str) -> bool:
    """A short phrase that can be an event's name: a few words, not opening with a pronoun, question or reply,
    not the words of a notification."""
    words = phrase.split()
    return (1 <= len(words) <= 6 and not _NOT_A_NAME.match(phrase) and not _NOTIFICATION.search(phrase)
            and (not phrase[:1].isdigit() or bool(EVENT_RE.match(phrase))))


def label(sentence: str) -> str | None:
    """ "Tech check: please come at noon" -> "Tech check": a short name before a colon opening the sentence."""
    match = re.match(r"\s*([^:,.!?]{2,40}):\s", sentence)
    name = match.group(1).strip(" *#-") if match else ""
    return name if name and names_something(name) and len(name.split()) <= 4 and not _NOT_A_LABEL.match(name) \
        else None


def _vocative(sentence: str, lead: str) -> bool:
    """ "Ananya and Karthik, still 20:30 for you": names the readers, not an event."""
    rest = sentence.split(lead, 1)[1] if lead and lead in sentence else ""
    return rest.lstrip().startswith(",") and not EVENT_RE.search(lead)


def noun_phrase(sentence: str, when: ResolvedTime | None = None) -> str | None:
    """The event noun with its modifiers ("short phonics workshop", "video call with Peg"), if the sentence has one;
    of several, the last one before the date, else the first after it (without a date: the last)."""
    phrases = []
    sentence = _URL.sub(lambda m: " " * len(m.group(0)), sentence)  # same length: `when.span` still lines up
    for match in EVENT_RE.finditer(sentence):
        modifiers = _words_before(sentence, match.start())
        if match.group(0).lower() in _NEEDS_MODIFIER and not modifiers:
            continue
        after = re.match(r"\s+with\s+((?:[A-Z][\w'&.-]*\s?){1,3})", sentence[match.end():])
        tail = f" with {after.group(1).strip()}" if after else ""
        phrases.append((match.start(), " ".join([*modifiers, match.group(0)]) + tail))
    if not phrases:
        return None
    if when is None:  # a name on its own ("Presentation night"): its head noun comes last
        return phrases[-1][1]
    before = [phrase for start, phrase in phrases if start < when.span[0]]
    return before[-1] if before else phrases[0][1]


def _after_date(sentence: str, when: ResolvedTime | None) -> str | None:
    """ "<date> is an INSET day" -> "INSET day"."""
    if when is None:
        return None
    match = re.match(r"[\s,]*(?:is|will be|was)\s+(?:an?|the|our)\s+([\w'&-]+(?:\s+[\w'&-]+){0,3})",
                     sentence[when.span[1]:], re.I)
    return match.group(1) if match and EVENT_RE.search(match.group(1)) else None


def event_title(sentence: str, src: SourceText, when: ResolvedTime | None = None,
                cancel: re.Match | None = None) -> str:
    """The best name for the event a sentence describes (see the module docstring for the order)."""
    subject = subject_title(src.subject, src.reference)
    lead = lead_title(sentence, when, cancel)
    lead_ok = names_something(lead) and len(lead.split()) <= 5 and not _vocative(sentence, lead)
    named = label(sentence)
    if named and (EVENT_RE.search(named) or not lead_ok):
        return named
    if lead_ok and EVENT_RE.search(lead):
        return noun_phrase(lead) or lead
    noun = noun_phrase(sentence, when) or _after_date(sentence, when)
    if subject and names_something(subject) and EVENT_RE.search(subject) and (
            noun is None or noun.split()[-1].lower() in subject.lower()):
        return subject
    return noun or (lead if lead_ok else None) or subject or lead or sentence[:60]


#: A reply agreeing to a time already offered ("Sunday at noon is perfect", "20:30 is fine"): not a new event.
_AGREES = re.compile(r"\b(?:is|are|'s|sounds?|works?|suits?)\s+(?:perfect|fine|great|good|ok|okay|brilliant|lovely|"
                     r"for (?:me|us)|well)\b|\bworks for (?:me|us)\b", re.I)


def is_eventish(sentence: str, src: SourceText, when: ResolvedTime | None) -> bool:
    """Does the sentence (or its subject) name an event, offer a time, or lead with a short name before a
    timed date? A reply's agreement to a time names nothing new."""
    names = noun_phrase(sentence) is not None
    if _AGREES.search(sentence) and not names and _SUBJECT_PREFIX.match(src.subject or ""):
        return False
    opens_with_date = when is not None and not sentence[: when.span[0]].strip(" -*•:")
    if names or ((_STATEMENT.search(sentence) or opens_with_date) and noun_phrase(src.subject) is not None):
        return True
    if proposes_a_time(sentence, when) or (when is not None and not when.all_day and label(sentence)):
        return True
    lead = lead_title(sentence, when)
    return when is not None and not when.all_day and names_something(lead) and lead[:1].isupper() and \
        not _vocative(sentence, lead)
