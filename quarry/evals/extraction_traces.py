"""Training records for a LoRA extraction adapter, from the train mailboxes' gold facts.

Each train message the LLM extractor would be sent (it passes the prefilter, and is one part long) becomes one
chat: the extractor's own prompt (`extract.llm_extractor.build_messages`, so the adapter learns the text it
is served) and, as the reply, the message's gold facts in the extractor's JSON schema: events as created,
moved or cancelled by this message (the date words are the gold phrase, or the phrase in the change's
evidence that names its new time), deadlines and action items with their date words. A message with cues
and no gold fact teaches the empty answer. Entities and topics are left empty: the rules' header facts
supply people, and the scorer does not count them.
"""

from __future__ import annotations

import json
import tempfile
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from quarry.evals.corpora import Mailbox
from quarry.evals.fact_scoring import bare_id
from quarry.evals.family import mailbox_sources
from quarry.evals.gold import GoldEvent, GoldFacts, GoldTask, read_gold_facts
from quarry.extract.dates import find_dates, resolve
from quarry.extract.facts import SourceText, normalize
from quarry.extract.llm_extractor import (
    LLMAction,
    LLMDeadline,
    LLMEvent,
    LLMFacts,
    build_messages,
    split_body,
)
from quarry.extract.rules import has_cues

#: The schema's limits (LLMEvent and friends): longer gold values are cut, longer date words left out.
_EVIDENCE_CHARS, _WHEN_CHARS, _NAME_CHARS = 300, 60, 60
_STATUS = {"created": "scheduled", "moved": "moved", "cancelled": "cancelled"}


def _words(phrase: str | None, evidence: str, at: datetime | None, src: SourceText) -> str:
    """The date words the reply gives: words of the message that the extractor's own date check
    (`resolve`) reads as `at`; failing that, words that name `at`'s day, or the gold phrase as written.

    Candidates are the gold phrase, its parts (gold phrases join distant words with " ... "), and the
    date phrases found in the evidence, as written."""
    text = normalize(src.text())
    parts = [phrase, *phrase.split(" ... ")] if phrase else []
    found = [evidence[f.span[0]:f.span[1]] for f in find_dates(evidence, src.reference)]
    candidates = list(dict.fromkeys(w.strip() for w in (*parts, *found)
                                    if w and len(w.strip()) <= _WHEN_CHARS and normalize(w) in text))
    written = phrase if phrase in candidates else ""
    if at is None:
        return written
    read = [(words, r) for words in candidates if (r := resolve(words, src.reference)) is not None]
    exact = next((words for words, r in read if abs((r.start - at).total_seconds()) < 60), None)
    same_day = next((words for words, r in read if r.start.astimezone(at.tzinfo).date() == at.date()), None)
    return exact or same_day or written


def _clip(value: str | None, limit: int) -> str | None:
    return value[:limit] if value else None


def _event_replies(event: GoldEvent, src: SourceText) -> list[LLMEvent]:
    """What this message says about one gold event: its creation, a move or a cancellation."""
    here = bare_id(src.item_id)
    changes = [h for h in event.history if bare_id(h.message_id) == here]
    if not changes and bare_id(event.message_id) == here:
        return [LLMEvent(title=event.title[:80], when=_words(event.phrase, event.evidence, event.starts_at, src),
                         location=_clip(event.location, 80), status="scheduled",
                         evidence=event.evidence[:_EVIDENCE_CHARS])]
    return [LLMEvent(title=event.title[:80], location=_clip(event.location, 80), status=_STATUS[h.change],
                     when=_words(event.phrase if h.change == "created" else None, h.evidence,
                                 h.new_starts_at or h.old_starts_at, src),  # a cancellation names the old day
                     evidence=h.evidence[:_EVIDENCE_CHARS]) for h in changes]


def _due(task: GoldTask, src: SourceText) -> str:
    return _words(task.phrase, task.evidence, task.due_at, src)


def gold_reply(gold: GoldFacts, src: SourceText) -> LLMFacts:
    """The message's gold facts as the extractor's JSON answer."""
    here = bare_id(src.item_id)
    events = [r for e in gold.events for r in _event_replies(e, src)]
    deadlines = [LLMDeadline(task=t.task[:120], due=_due(t, src), owner=_clip(t.owner, _NAME_CHARS),
                             evidence=t.evidence[:_EVIDENCE_CHARS])
                 for t in gold.deadlines if bare_id(t.message_id) == here]
    actions = [LLMAction(task=t.task[:120], owner=_clip(t.owner, _NAME_CHARS), due=_due(t, src) or None,
                         evidence=t.evidence[:_EVIDENCE_CHARS])
               for t in gold.action_items if bare_id(t.message_id) == here]
    return LLMFacts(events=events[:6], deadlines=deadlines[:6], action_items=actions[:6])


def extraction_records(boxes: list[Mailbox], empty_per_fact: float = 1.0,
                       log: Callable[[str], None] = lambda _: None) -> list[dict]:
    """One training record per prefiltered, one-part message of `boxes` (trace format, template 'extract').

    Messages with no gold fact are kept up to `empty_per_fact` of the messages with facts, spread evenly
    (half the mail with cues holds no fact; all of it would mostly teach the empty answer)."""
    found: list[tuple[str, SourceText, LLMFacts]] = []
    with tempfile.TemporaryDirectory(prefix="quarry-extract-traces-") as tmp:
        for box in boxes:
            gold = read_gold_facts(box.gold_facts)
            found += [(box.name, src, gold_reply(gold, src)) for src in mailbox_sources(box, Path(tmp))
                      if has_cues(src) and len(split_body(src.body)) == 1]
    with_facts = sum(1 for *_, reply in found if _has_facts(reply))
    empty_total = len(found) - with_facts
    keep_every = max(1.0, empty_total / max(empty_per_fact * with_facts, 1e-9))
    records: list[dict] = []
    counts: dict[str, int] = defaultdict(int)
    empty_seen = 0
    for name, src, reply in found:
        if not _has_facts(reply):
            empty_seen += 1
            if int(empty_seen / keep_every) == int((empty_seen - 1) / keep_every):  # one in every keep_every
                continue
        messages = [*build_messages(src, src.body, 0, 1), {"role": "assistant", "content": reply.model_dump_json()}]
        records.append({"messages": messages, "metadata": {
            "trace_id": f"extract-{name}-{len(records)}", "template": "extract", "verified": True,
            "source": f"gold:{name}"}})
        counts[name] += 1
    log(f"{len(records)} records ({with_facts} with facts, {len(records) - with_facts} empty): {dict(counts)}")
    return records


def _has_facts(reply: LLMFacts) -> bool:
    return bool(reply.events or reply.deadlines or reply.action_items)


def write_records(records: list[dict], path: Path) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path
