"""Check one corpus-family mailbox for the mistakes a hand-written gold file tends to have.

Every gold fact must point at a message that exists, its evidence must be a substring of that message's
text as Quarry reads it (whitespace folded), and every question's message ids must exist. Run it on a
mailbox folder: `python -m quarry.evals.mailbox_check corpora/train/school`; it prints one line per
problem and exits 1 if there is any.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from quarry.evals.fact_scoring import bare_id
from quarry.evals.gold import load_questions, read_gold_facts
from quarry.extract.mailreaders import discover, iter_mbox, read_mail_file
from quarry.extract.mime import parse_mail


def _folded(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _mail(root: Path) -> dict[str, str]:
    """Message id (bare) -> subject + body + attachment text, folded; files found as `quarry ingest` finds them."""
    inputs = discover([root / "mail"])
    raws = [raw for path in inputs.mboxes for _, _, raw in iter_mbox(path)]
    raws += [read_mail_file(path) for path, _ in inputs.mail_files]
    texts: dict[str, str] = {}
    for raw in raws:
        mail = parse_mail(raw.data, raw.source_path, raw.locator)
        parts = [mail.subject or "", mail.body_text, *(a.text or "" for a in mail.attachments)]
        texts[bare_id(mail.message_id)] = _folded("\n".join(parts))
    return texts


def problems(root: Path) -> list[str]:
    """Every problem found in the mailbox at `root`, one line each."""
    found: list[str] = []
    texts = _mail(root)
    gold = read_gold_facts(root / "gold_facts.json")
    facts = [("event", e.id, e.message_id, e.evidence) for e in gold.events]
    facts += [(kind, t.id, t.message_id, t.evidence) for kind, items in
              (("deadline", gold.deadlines), ("action item", gold.action_items)) for t in items]
    facts += [("history", e.id, h.message_id, h.evidence) for e in gold.events for h in e.history]
    for kind, fact_id, message_id, evidence in facts:
        text = texts.get(bare_id(message_id))
        if text is None:
            found.append(f"{fact_id}: {kind} cites message {message_id}, which is not in mail/")
        elif _folded(evidence) not in text:
            found.append(f"{fact_id}: {kind} evidence is not in message {message_id}: {evidence[:60]!r}")
    for event in gold.events:
        if event.updated_by and bare_id(event.updated_by) not in texts:
            found.append(f"{event.id}: updated_by {event.updated_by} is not in mail/")
    for question in load_questions(root / "gold_questions.jsonl"):
        found += [f"{question.id}: message {m} is not in mail/" for m in question.message_ids
                  if bare_id(m) not in texts]
    return found


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    bad = 0
    for folder in args:
        for line in problems(Path(folder)):
            print(f"{folder}: {line}")
            bad += 1
    print(f"{len(args)} mailbox(es), {bad} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
