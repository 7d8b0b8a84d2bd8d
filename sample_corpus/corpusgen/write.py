"""Write the sample corpus to a folder: mail, documents, calendar, gold facts and gold questions."""

from __future__ import annotations

import json
from pathlib import Path

from corpusgen.assemble import build_mailbox, gold_facts
from corpusgen.documents import attachments, documents, my_calendar
from corpusgen.mime import mbox_entry
from corpusgen.questions import build_questions


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def write_corpus(out: Path, seed: int = 7) -> dict[str, int]:
    """Generate everything under `out`; returns counts for the caller to print."""
    box = build_mailbox(attachments(), seed)
    mbox = out / "mail" / "inbox.mbox"
    _write(mbox, b"".join(mbox_entry(r.message, r.address, r.sent) for r in box.mbox()))
    for r in box.eml():
        _write(out / "mail" / "eml" / f"{r.sent:%Y%m%d-%H%M}-{r.msg.key}.eml", r.message.as_bytes())
    docs = documents()
    for rel, data in docs.items():
        _write(out / "docs" / rel, data)
    _write(out / "my_calendar.ics", my_calendar())
    facts = gold_facts(box)
    _write(out / "gold_facts.json", (json.dumps(facts, indent=2, ensure_ascii=False) + "\n").encode())
    questions = build_questions(facts)
    _write(out / "gold_questions.jsonl",
           "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in questions).encode())
    threads = {r.refs[0] if r.refs else r.message_id for r in box.rendered if r.msg.threaded}
    return {"messages": len(box.rendered), "mbox": len(box.mbox()), "eml": len(box.eml()),
            "threads": len(threads), "docs": len(docs), "events": len(facts["events"]),
            "deadlines": len(facts["deadlines"]), "action_items": len(facts["action_items"]),
            "questions": len(questions)}
