"""The sample corpus: deterministic generation, its size, and gold files that agree with the mail and the schema."""

from __future__ import annotations

import email
import mailbox
import subprocess
import sys
from collections import Counter
from email.message import Message
from html.parser import HTMLParser
from pathlib import Path

import pytest

from quarry.errors import InputError
from quarry.evals.gold import answer_matches, load_gold_facts, load_questions, read_gold_facts
from quarry.extract.facts import evidence_occurs
from quarry.store.db import connect

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "sample_corpus"
GENERATE = CORPUS / "generate.py"
#: What generate.py writes (everything else in sample_corpus/ is the generator itself).
GENERATED = ("mail", "docs", "my_calendar.ics", "gold_facts.json", "gold_questions.jsonl")


def _generate(out: Path, *args: str) -> None:
    subprocess.run([sys.executable, str(GENERATE), "--out", str(out), *args], check=True, capture_output=True)


def _files(folder: Path) -> dict[str, bytes]:
    found = {}
    for name in GENERATED:
        base = folder / name
        paths = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        found.update({str(p.relative_to(folder)): p.read_bytes() for p in paths})
    return found


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("corpus-a")
    _generate(out)
    return out


def test_generation_is_deterministic_and_committed_copy_is_current(fresh, tmp_path):
    _generate(tmp_path)
    first, second = _files(fresh), _files(tmp_path)
    assert first and first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []
    committed = _files(CORPUS)
    stale = sorted(k for k in first if committed.get(k) != first[k])
    assert stale == [], f"sample_corpus/ is stale, rerun sample_corpus/generate.py: {stale[:5]}"


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def decoded_text(msg: Message) -> str:
    """Every text part decoded with its charset; HTML reduced to its text."""
    out = []
    for part in msg.walk():
        if part.get_content_maintype() != "text" or part.get_filename():
            continue
        raw = part.get_payload(decode=True) or b""
        text = raw.decode(part.get_content_charset() or "utf-8", errors="replace")
        if part.get_content_subtype() == "html":
            parser = _Text()
            parser.feed(text)
            text = "".join(parser.parts)
        out.append(text)
    return "\n".join(out)


def _messages() -> list[Message]:
    msgs: list[Message] = list(mailbox.mbox(str(CORPUS / "mail" / "inbox.mbox")))
    for path in sorted((CORPUS / "mail" / "eml").glob("*.eml")):
        msgs.append(email.message_from_bytes(path.read_bytes()))
    return msgs


def _thread_roots(msgs: list[Message]) -> set[str]:
    roots = set()
    for m in msgs:
        refs = (m["References"] or "").split()
        roots.add(refs[0] if refs else m["Message-ID"])
    return roots


def test_counts():
    mbox = list(mailbox.mbox(str(CORPUS / "mail" / "inbox.mbox")))
    assert len(mbox) >= 300
    msgs = _messages()
    assert len({m["Message-ID"] for m in msgs}) == len(msgs)
    assert len(_thread_roots(msgs)) >= 40
    docs = [p for p in (CORPUS / "docs").rglob("*") if p.is_file()]
    assert len(docs) >= 10
    assert {p.suffix for p in docs} >= {".md", ".pdf", ".ics", ".txt", ".html"}
    size = sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file())
    assert size < 3_000_000


def test_mailbox_has_the_hard_cases():
    msgs = _messages()
    offsets = {m["Date"][-5:] for m in msgs}
    assert {"-0400", "-0500", "+0200", "+0100"} <= offsets
    charsets = {c for m in msgs for c in m.get_charsets() if c}
    assert {"iso-8859-1", "windows-1252", "iso-2022-jp"} <= charsets
    types = Counter(part.get_content_type() for m in msgs for part in m.walk())
    assert types["multipart/alternative"] and types["text/calendar"] and types["image/png"]
    assert types["application/pdf"]
    assert any(m.get_content_type() == "text/html" for m in msgs)
    assert any("=?" in (m["Subject"] or "") for m in msgs)
    unthreaded_replies = [m for m in msgs if (m["Subject"] or "").startswith("Re:") and not m["In-Reply-To"]]
    assert unthreaded_replies
    names = {email.utils.parseaddr(m["From"])[1] for m in msgs if "Dana" in str(m["From"])}
    assert {"dana@lumenfield.io", "dana.okafor@gmail.com"} <= names


def test_every_gold_fact_quotes_its_message():
    gold = read_gold_facts(CORPUS / "gold_facts.json")
    texts = {m["Message-ID"].strip("<>"): decoded_text(m) for m in _messages()}
    facts = [*gold.events, *gold.deadlines, *gold.action_items]
    assert len({f.id for f in facts}) == len(facts)
    for fact in facts:
        assert fact.message_id in texts, fact.id
        assert evidence_occurs(fact.evidence, texts[fact.message_id]), f"{fact.id}: {fact.evidence!r}"
    for ev in gold.events:
        for entry in ev.history:
            assert evidence_occurs(entry.evidence, texts[entry.message_id]), f"{ev.id}: {entry.evidence!r}"
    assert {e.status for e in gold.events} == {"scheduled", "moved", "cancelled"}


def test_every_gold_sql_proves_its_answer():
    con = connect(":memory:")
    load_gold_facts(con, CORPUS / "gold_facts.json")
    questions = load_questions(CORPUS / "gold_questions.jsonl")
    assert len(questions) >= 150
    assert {q.answer_type for q in questions} == {"datetime", "text", "number", "list", "yesno", "calendar_add"}
    assert any(q.answer == "unknown" for q in questions)
    wrong = []
    for q in questions:
        if q.answer == "unknown":
            assert q.sql is None, q.id
            continue
        assert q.sql, q.id
        rows = con.execute(q.sql).fetchall()
        if not answer_matches(q, rows):
            wrong.append((q.id, q.answer, rows[:3]))
    assert wrong == []


def test_load_questions_names_the_bad_line(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"id": "a", "question": "q?", "answer": "x", "answer_type": "text"}\n'
                    '{"id": "b", "question": "q?", "answer": "x", "answer_type": "essay"}\n')
    with pytest.raises(InputError, match=r"q\.jsonl:2: .*answer_type"):
        load_questions(path)


@pytest.mark.parametrize("fmt", ["mbox", "maildir"])
def test_bulk_mailbox_parses(tmp_path, fmt):
    _generate(tmp_path, "--messages", "300", "--format", fmt, "--seed", "3")
    box = mailbox.mbox(str(tmp_path / "inbox.mbox")) if fmt == "mbox" else mailbox.Maildir(str(tmp_path))
    msgs = list(box)
    assert len(msgs) == 300
    assert len({m["Message-ID"] for m in msgs}) == 300
    assert sum(1 for m in msgs if m["In-Reply-To"]) > 50
