"""Event titles as a person would say them ("class assembly", "Q3 review call"), never a sentence fragment.

A title comes from, in order: the short noun phrase leading up to the date ("Grading day will be Sunday..."),
the event noun with its modifiers ("a short phonics workshop for parents" -> "short phonics workshop"), the
subject line when it names the event better, or the words after the date ("Monday 12 April is an INSET day").
A lead that opens with a pronoun, a question word or a reply ("Would", "See you all", "When:") is no title.
"""

from __future__ import annotations

import re

from quarry.extract.dates import ResolvedTime, find_dates
from quarry.extract.facts import SourceText

_EVENT_WORDS = (
    r"meeting|meetup|meet|call|sync|standup|stand-up|lunch|dinner|breakfast|brunch|coffee|drinks|party|game|match|"
    r"review|interview|appointment|workshop|conference|webinar|demo|presentation|session|offsite|off-site|retro|"
    r"kickoff|kick-off|celebration|practice|rehearsal|recital|concert|class|training|1:1|one-on-one|catch-up|"
    r"hangout|playdate|ceremony|wedding|birthday|bbq|barbecue|picnic|tournament|show|reception|gathering|"
    r"check-in|huddle|walkthrough|briefing|town hall|all-hands|all hands|happy hour|potluck|night|visit|tour|"
    r"expo|fair|summit|festival|trip|flight|setup|set-up|launch|cleaning|checkup|check-up|tasting|screening|"
    r"clinic|social|cleanup|clean-up|maintenance|embargo|rematch|league|tryouts?|lesson|seminar|lecture|hearing|"
    r"open house|premiere|graduation|banquet|gala|fundraiser|retreat|assembly|evening|course|assessment|exam|"
    r"sprint|hackathon|rally|ride|race|fixture|round|agm|pickup|pick-up|drop-off|count|audit|consultation|"
    r"fitting|viewing|inspection|sale|market|day"
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
    "saturday", "sunday", "morning", "afternoon", "evening", "night",
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
    r"date|time|where|location|venue|starts?|ends?|mon|tue|wed|thu|fri|sat|sun|as|from|by|until|after|before|"
    r"let|let's|hope|looking|shout|send|bring|call me|ring|text|email)\b", re.I)


#: "It's on Saturday", "we're at the leisure centre": a sentence that places the event its subject names.
_STATEMENT = re.compile(r"\b(?:it's|it is|it will be|that's|we're|we are|is|are|will be)\s+(?:on|at|this|next|now)\b",
                        re.I)


def clean_subject(subject: str) -> str:
    """The subject without Re:/Fwd: prefixes."""
    return _SUBJECT_PREFIX.sub("", subject or "").strip()


def subject_title(subject: str, src: SourceText) -> str:
    """The subject as a title: no Re:/Fwd:, no "Invitation:" label, no "@ Tue 9 Mar 19:30" tail, no dates."""
    text = _SUBJECT_LABEL.sub("", clean_subject(subject))
    text = re.sub(r"\s+@\s+.*$", "", text)
    text = re.sub(r"\s*\((?:[^)]*\d[^)]*)\)\s*", " ", text)
    return _without_dates(text, src).strip(" ,.;:!?-()")


def _without_dates(text: str, src: SourceText) -> str:
    for when in reversed(find_dates(text, src.reference)):
        text = text[: when.span[0]] + text[when.span[1]:]
    return " ".join(text.split()).strip(" ,.;:!?-")


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


def names_something(phrase: str) -> bool:
    """A short phrase that can be an event's name: a few words, not opening with a pronoun, question or reply."""
    words = phrase.split()
    return 1 <= len(words) <= 6 and not _NOT_A_NAME.match(phrase) and not phrase[:1].isdigit()


def noun_phrase(sentence: str) -> str | None:
    """The event noun with its modifiers ("short phonics workshop", "video call with Peg"), if the sentence has one."""
    for match in EVENT_RE.finditer(sentence):
        modifiers = _words_before(sentence, match.start())
        if match.group(0).lower() in _NEEDS_MODIFIER and not modifiers:
            continue
        after = re.match(r"\s+(?:with|for)\s+((?:[A-Z][\w'&.-]*\s?){1,3})", sentence[match.end():])
        tail = f" with {after.group(1).strip()}" if after and sentence[match.end():].lstrip().startswith("with") else ""
        return " ".join([*modifiers, match.group(0)]) + tail
    return None


def _after_date(sentence: str, when: ResolvedTime | None) -> str | None:
    """ "<date> is an INSET day" -> "INSET day"."""
    if when is None:
        return None
    match = re.match(r"[\s,]*(?:is|will be|was)\s+(?:an?|the|our)\s+([\w'&-]+(?:\s+[\w'&-]+){0,3})", sentence[when.span[1]:],
                     re.I)
    return match.group(1) if match and EVENT_RE.search(match.group(1)) else None


def event_title(sentence: str, src: SourceText, when: ResolvedTime | None = None, cancel: re.Match | None = None) -> str:
    """The best name for the event a sentence describes (see the module docstring for the order)."""
    subject = subject_title(src.subject, src)
    lead = lead_title(sentence, when, cancel)
    if names_something(lead) and len(lead.split()) <= 5:
        inner = noun_phrase(lead)
        return inner if inner and len(lead.split()) > 4 else lead
    noun = noun_phrase(sentence) or _after_date(sentence, when)
    if subject and names_something(subject) and (noun is None or noun.split()[-1].lower() in subject.lower()):
        return subject
    return noun or subject or lead or sentence[:60]


def is_eventish(sentence: str, src: SourceText, when: ResolvedTime | None) -> bool:
    """Does the sentence (or its subject) name an event, or lead with a short name before a timed date?"""
    if noun_phrase(sentence) or (noun_phrase(src.subject) and _STATEMENT.search(sentence)):
        return True
    lead = lead_title(sentence, when)
    return when is not None and not when.all_day and names_something(lead) and lead[:1].isupper()
