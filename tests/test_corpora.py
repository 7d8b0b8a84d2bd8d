"""The corpus family's split by mailbox: every member is complete, and no eval mailbox leaks into the code."""

import email
import json
import re
import shutil
from email.utils import getaddresses

import pytest

from quarry.evals.corpora import PROJECT_ROOT, mailboxes
from quarry.evals.gold import load_questions, read_gold_facts
from quarry.evals.mailbox_check import problems

#: The code that is tuned (extractors, rules, prompts, question templates) and its tests and benchmarks: nothing
#: of an eval mailbox may appear here. Train corpora are data, not code: a generic event name may occur in both
#: by chance (a generic tournament name occurs in the sample corpus and in an eval mailbox), which leaks nothing.
CODE = ["quarry", "bench", "scripts", "tests"]


def test_split_has_train_and_eval_members_each_complete():
    train, held = mailboxes("train"), mailboxes("eval")
    assert len(train) >= 5 and len(held) >= 3
    for box in train + held:
        gold = read_gold_facts(box.gold_facts)
        questions = load_questions(box.gold_questions)
        assert gold.events and questions, box.name
        assert any((box.root / "mail").rglob("*")), f"{box.name}: no mail"


def test_a_mailbox_listed_in_both_splits_is_refused(tmp_path):
    (tmp_path / "corpora").mkdir()
    split = tmp_path / "corpora" / "split.toml"
    split.write_text('[train]\na = "box"\n[eval]\nb = "box"\n')
    with pytest.raises(Exception, match="listed twice"):
        mailboxes(split_file=split)


def _eval_cast_and_titles() -> set[str]:
    """Full names, addresses, domains and multi-word event titles of every eval mailbox."""
    found: set[str] = set()
    for box in mailboxes("eval"):
        gold = read_gold_facts(box.gold_facts)
        found |= {gold.user.get("name", ""), gold.user.get("email", "")}
        found |= {e.title for e in gold.events if len(e.title.split()) >= 2}
        for path in (box.root / "mail").rglob("*.eml"):
            message = email.message_from_bytes(path.read_bytes())
            headers = [str(message.get(h, "")) for h in ("From", "To", "Cc")]
            for name, address in getaddresses(headers):
                if " " in name.strip():
                    found.add(name.strip())
                if "@" in address:
                    found |= {address, address.split("@")[1]}
    return {item.lower() for item in found if len(item) >= 4}


def test_no_eval_mailbox_cast_or_title_appears_in_the_code():
    needles = _eval_cast_and_titles()
    assert len(needles) > 20
    pattern = re.compile("|".join(rf"\b{re.escape(n)}\b" for n in sorted(needles, key=len, reverse=True)))
    leaks = []
    for folder in CODE:
        root = PROJECT_ROOT / folder
        for path in [root] if root.is_file() else sorted(root.rglob("*")):
            if path.is_file() and path.suffix in (".py", ".md", ".sql", ".json", ".jsonl", ".txt", ".toml") \
                    and "fixtures" not in path.parts:
                hit = pattern.search(path.read_text(encoding="utf-8", errors="replace").lower())
                if hit:
                    leaks.append(f"{path.relative_to(PROJECT_ROOT)}: {hit.group(0)!r}")
    assert leaks == []


def test_every_gold_fact_cites_a_real_message_with_its_evidence():
    assert {box.name: problems(box.root) for box in mailboxes()} == {box.name: [] for box in mailboxes()}


def test_the_mailbox_check_reports_a_made_up_evidence_sentence(tmp_path):
    box = mailboxes("train")[1].root
    copy = tmp_path / "box"
    shutil.copytree(box, copy)
    facts = json.loads((copy / "gold_facts.json").read_text(encoding="utf-8"))
    facts["events"][0]["evidence"] = "This sentence was never written by anyone."
    (copy / "gold_facts.json").write_text(json.dumps(facts), encoding="utf-8")
    found = problems(copy)
    assert len(found) == 1 and found[0].startswith(f"{facts['events'][0]['id']}: event evidence is not in message")
