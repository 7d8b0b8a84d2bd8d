"""Teacher traces: templates prove their answers, oracle traces are valid and verified, bad traces are
rejected, duplicates and held-out questions never come out, the CLI runs end to end, and a real
teacher (the small local model) goes through the same path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from quarry.agent.tools.base import ToolContext, run_tool
from quarry.evals.answer_scoring import match_calendar_add, question_hash, score_answer
from quarry.store.db import connect
from quarry.store.session import StoreSession
from quarry.store.traces import insert_trace, list_traces
from quarry.teach.synthesis import synthesize, template_names
from quarry.teach.teacher import ORACLE, generate_traces, keeps_facts, oracle_trace, rejection_reason

QUARRY = Path(sys.executable).with_name("quarry")

MESSAGES = [  # id, subject, body
    ("m1@club.example", "Pickleball Saturday", "Pickleball game on Saturday 10 Oct at 17:00 at Riverside Courts."),
    ("m2@work.example", "Board dinner", "Board dinner Thursday 8 Oct 23:00 at Luigi's. Dana sends the budget draft."),
    ("m3@work.example", "Re: Board dinner", "We moved the board dinner by an hour."),
    ("m4@work.example", "Design review", "Design review Friday 9 Oct 14:00. Expense reports due on the 15th."),
    ("m5@work.example", "Re: Design review", "The design review is cancelled."),
    ("m6@work.example", "Offsite", "The quarterly offsite is on 20 Oct at the Lake House; Ben books the venue."),
    ("m7@work.example", "Sprint demo", "Sprint demo Monday 12 Oct 15:00. Renew the parking permit by the 30th."),
]
EVENTS = [  # fact_id, title, starts, ends, all_day, location, status, message, updated_by, participants
    ("e1", "Pickleball game", "2026-10-10 17:00", "2026-10-10 19:00", False, "Riverside Courts", "scheduled",
     "m1@club.example", None, None),
    ("e2", "Board dinner", "2026-10-08 23:00", None, False, "Luigi's", "moved", "m2@work.example",
     "m3@work.example", None),
    ("e3", "Design review", "2026-10-09 14:00", "2026-10-09 15:00", False, None, "cancelled", "m4@work.example",
     "m5@work.example", None),
    ("e4", "Quarterly offsite", "2026-10-20 00:00", None, True, "Lake House", "scheduled", "m6@work.example",
     None, None),
    ("e5", "Sprint demo", "2026-10-12 15:00", "2026-10-12 16:00", False, None, "scheduled", "m7@work.example",
     None, ["ana@example.com"]),
]


@pytest.fixture
def store_path(tmp_path) -> Path:
    """A real store with known facts: a moved, a cancelled and an all-day event, owners, deadlines,
    and a calendar entry that clashes with the sprint demo."""
    path = tmp_path / "teacher.duckdb"
    con = connect(path)
    for message_id, subject, body in MESSAGES:
        con.execute(
            "INSERT INTO messages (message_id, thread_id, source_id, sent_at, sender, subject, body_text, body_clean,"
            " content_hash) VALUES (?, ?, 'src', TIMESTAMPTZ '2026-10-01 09:00:00+00', 'x@example.com', ?, ?, ?, ?)",
            [message_id, message_id, subject, body, body, message_id],
        )
    for fact_id, title, starts, ends, all_day, location, status, message_id, updated_by, people in EVENTS:
        con.execute(
            "INSERT INTO events (fact_id, title, starts_at, ends_at, all_day, location, status, message_id, updated_by,"
            " participants, evidence, extractor, extractor_version) VALUES (?, ?, ?::TIMESTAMPTZ, ?::TIMESTAMPTZ, ?, ?,"
            " ?, ?, ?, ?, 'evidence', 'test', '1')",
            [fact_id, title, starts + "+00", ends and ends + "+00", all_day, location, status, message_id,
             updated_by, people],
        )
    con.execute("UPDATE messages SET sender = 'ben@example.com', sender_name = 'Ben Ortiz', body_text = body_text"
                " || chr(10) || chr(10) || 'Ben Ortiz' || chr(10) || 'Venue lead, +1 415 555 0142'"
                " WHERE message_id = 'm6@work.example'")  # a signature: the phone is only there
    con.execute("INSERT INTO people (email, display_name) VALUES ('dana@example.com', 'Dana Whitfield'),"
                " ('ben@example.com', 'Ben Ortiz')")
    con.execute("INSERT INTO message_people VALUES ('m2@work.example', 'dana@example.com', 'to'),"
                " ('m6@work.example', 'ben@example.com', 'from')")
    con.execute("INSERT INTO attachments VALUES ('m6@work.example#2', 'm6@work.example', 'offsite-agenda.pdf',"
                " 'application/pdf', 1024, NULL)")
    con.execute("INSERT INTO action_items (fact_id, owner, task, message_id, evidence, extractor, extractor_version)"
                " VALUES ('a1', 'dana@example.com', 'send the budget draft', 'm2@work.example', 'e', 'test', '1'),"
                " ('a2', 'Ben Ortiz', 'book the venue', 'm6@work.example', 'e', 'test', '1')")
    con.execute("INSERT INTO deadlines (fact_id, task, due_at, message_id, evidence, extractor, extractor_version)"
                " VALUES ('d1', 'submit expense report', TIMESTAMPTZ '2026-10-15 17:00:00+00', 'm4@work.example', 'e',"
                " 'test', '1'), ('d2', 'renew parking permit', TIMESTAMPTZ '2026-10-30 12:00:00+00', 'm7@work.example',"
                " 'e', 'test', '1')")
    con.execute("INSERT INTO calendar_events (event_id, title, starts_at, ends_at) VALUES"
                " ('c1', 'Team standup', TIMESTAMPTZ '2026-10-12 15:30:00+00', TIMESTAMPTZ '2026-10-12 15:45:00+00')")
    con.close()
    return path


@pytest.fixture
def store(store_path):
    session = StoreSession(store_path)
    yield session
    session.close()


def _all_tools():
    from quarry.agent.tools.registry import all_tools

    return all_tools()


def _by_template(questions):
    found: dict[str, list] = {}
    for q in questions:
        found.setdefault(q.template, []).append(q)
    return found


# --- templates ----------------------------------------------------------------------------------


def test_every_template_yields_questions_with_the_facts_answers(store):
    questions = synthesize(store.reader(), 500, seed=1).questions
    found = _by_template(questions)
    assert set(found) == set(template_names())
    # Week of 5 October: board dinner and pickleball; the cancelled design review does not count.
    assert {q.gold.answer for q in found["count_events_week"] if "5 October 2026" in q.gold.question} == {"2"}
    free = {q.gold.question: q.gold.answer for q in found["free_at_event"]}
    assert any("the sprint demo" in k and v == "no" for k, v in free.items())  # the standup clashes
    assert any("the pickleball game" in k and v == "yes" for k, v in free.items())
    owners = {q.gold.answer: q.gold.accept for q in found["action_owner"]}
    assert owners["dana@example.com"] == ["Dana Whitfield"] and owners["Ben Ortiz"] == ["ben@example.com"]
    assert {q.gold.answer for q in found["event_cancelled"] if "design review" in q.gold.question} == {"yes"}
    assert {q.gold.answer for q in found["event_moved"] if "board dinner" in q.gold.question} == {"yes"}
    weeks = [set(q.gold.answer) for q in found["events_in_week"]]
    assert {"Board dinner", "Pickleball game"} in weeks and all("Design review" not in w for w in weeks)
    emails = {q.gold.question: q.gold.answer for q in found["person_email"]}
    assert emails["What is Dana Whitfield's email address?"] == "dana@example.com"
    assert {(q.gold.answer, tuple(q.gold.message_ids)) for q in found["attachment_name"]} == {
        ("offsite-agenda.pdf", ("m6@work.example",))}
    assert {(q.gold.answer, tuple(q.gold.message_ids)) for q in found["person_phone"]} == {
        ("+1 415 555 0142", ("m6@work.example",))}
    assert {q.gold.answer for q in found["message_sender"]} == {"Ben Ortiz"}  # the only named sender
    assert {(q.gold.question, q.gold.answer) for q in found["latest_from"]} >= {
        ("What is the subject of the latest email from Ben Ortiz?", "Offsite")}


def test_template_lookups_run_through_their_tools_give_the_known_answer(store):
    tools = _all_tools()
    ctx = ToolContext(store=store, now=datetime(2026, 10, 1, tzinfo=timezone.utc))
    questions = synthesize(store.reader(), 500, seed=2).questions
    checked = 0
    for q in questions:
        results = []
        for step in q.steps:
            if step.tool not in ("sql", "find", "find_person", "find_message", "read_message"):
                continue
            result = run_tool(tools, step.tool, step.arguments, ctx)
            assert result.ok, (q.template, step.arguments, result.content)
            results.append(result.content)
        text = "\n".join(results)
        if q.template == "unknown":
            assert "(no rows)" in text and all(m not in text for m, _, _ in MESSAGES), text
        elif q.gold.answer_type in ("datetime", "text", "number", "list"):
            assert score_answer(text, q.gold), (q.template, q.gold.question, q.gold.answer, text)
            checked += 1
    assert checked >= 10


def test_templates_on_the_sample_corpus_gold_facts(tmp_path):
    from quarry.evals.gold import build_gold_store

    corpus = Path(__file__).resolve().parents[1] / "sample_corpus"
    session = StoreSession(build_gold_store(corpus, tmp_path / "gold.duckdb"))  # mail (people, files) + gold facts
    summary = generate_traces(session, ORACLE, 70, seed=11, heldout=corpus / "gold_questions.jsonl")
    assert summary.kept == summary.synthesized == 70 and set(summary.by_template) == set(template_names())
    eval_hashes = {question_hash(line["question"]) for line in map(json.loads, (corpus / "gold_questions.jsonl")
                                                                   .read_text().splitlines()) if line}
    assert not eval_hashes & {question_hash(t.question) for t in list_traces(session.reader(), limit=None)}
    session.close()


# --- oracle traces ------------------------------------------------------------------------------


def test_oracle_traces_are_valid_chat_executed_and_verified(store, store_path, tmp_path, openai_conversation_check):
    out = tmp_path / "oracle.jsonl"
    summary = generate_traces(store, ORACLE, 60, seed=3, heldout=None, out=out)
    assert summary.synthesized > 20 and summary.kept == summary.synthesized, summary.rejected
    assert set(summary.by_template) == set(template_names())
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == summary.kept == summary.written
    for record in records:
        openai_conversation_check(record["messages"], record["tools"])
        meta = record["metadata"]
        assert meta["teacher"] == ORACLE and meta["verified"] is True and meta["template"] in template_names()
        assert meta["student_system_prompt"].startswith("You answer questions about the user's mailbox")
        tool_results = [m["content"] for m in record["messages"] if m["role"] == "tool"]
        assert tool_results and not any(r.startswith("error:") for r in tool_results)
        final = record["messages"][-1]
        assert final["role"] == "assistant" and final["content"] == meta["final_answer"]
        assert all(f"[msg:{m}]" in final["content"] for m in meta["message_ids"])
    adds = [r for r in records if r["metadata"]["template"] == "calendar_add"]
    assert adds and all("calendar_add" in json.dumps(r["messages"]) for r in adds)
    # The additions ran on a scratch copy: the user's calendar still has only its own entry.
    titles = store.reader().execute("SELECT title FROM calendar_events").fetchall()
    assert titles == [("Team standup",)]
    stored = list_traces(store.reader(), limit=None, verified_only=True)
    assert len(stored) == summary.kept


def test_oracle_run_is_deterministic_for_a_seed(store_path, tmp_path):
    def run(name: str) -> list[dict]:
        copy = tmp_path / name
        copy.write_bytes(store_path.read_bytes())
        session = StoreSession(copy)
        generate_traces(session, ORACLE, 15, seed=9, heldout=None, out=tmp_path / f"{name}.jsonl")
        session.close()
        records = [json.loads(line) for line in (tmp_path / f"{name}.jsonl").read_text().splitlines()]
        # Tool results are left out: a calendar addition gets a fresh event id each time.
        return [[m for m in r["messages"] if m["role"] != "tool"] for r in records]

    assert run("a.duckdb") == run("b.duckdb")


# --- verification -------------------------------------------------------------------------------


def _oracle_for(store, template: str):
    question = _by_template(synthesize(store.reader(), 500, seed=4).questions)[template][0]
    ctx = ToolContext(store=store, confirm=lambda _: True, now=datetime(2026, 10, 1, tzinfo=timezone.utc))
    from quarry.agent.tools.registry import schema_description

    return question, oracle_trace(question, _all_tools(), ctx, schema_description())


def test_verification_rejects_a_wrong_answer(store):
    question, trace = _oracle_for(store, "event_when")
    assert rejection_reason(trace.messages, trace.final_answer, question.gold, grounded=True) is None
    wrong = "It is on Tuesday 3 November 2026 at 09:00 UTC [msg:m1@club.example]."
    assert rejection_reason(trace.messages, wrong, question.gold) == "wrong_answer"


def test_verification_rejects_a_failing_tool_call_and_accepts_a_repair(store):
    question, trace = _oracle_for(store, "event_where")
    tools = _all_tools()
    ctx = ToolContext(store=store)
    wrong_kind = {"kind": "venue", "text": "quarterly offsite"}
    bad = run_tool(tools, "find", wrong_kind, ctx)
    assert not bad.ok and bad.content.startswith("error:")
    call = {"id": "call_bad", "type": "function", "function": {"name": "find", "arguments": json.dumps(wrong_kind)}}
    failed = [*trace.messages[:2], {"role": "assistant", "content": None, "tool_calls": [call]},
              {"role": "tool", "tool_call_id": "call_bad", "content": bad.content}, trace.messages[-1]]
    assert rejection_reason(failed, trace.final_answer, question.gold) == "tool_error"
    repaired = [*failed[:4], *trace.messages[2:]]
    assert rejection_reason(repaired, trace.final_answer, question.gold) is None
    no_tools = [*trace.messages[:2], trace.messages[-1]]
    assert rejection_reason(no_tools, trace.final_answer, question.gold) == "no_tool_call"


def test_calendar_add_needs_the_call_itself(store):
    question, trace = _oracle_for(store, "calendar_add")
    assert rejection_reason(trace.messages, trace.final_answer, question.gold) is None
    without_add = [m for m in trace.messages
                   if not any(c["function"]["name"] == "calendar_add" for c in m.get("tool_calls") or [])]
    assert rejection_reason(without_add, trace.final_answer, question.gold) == "calendar_not_added"


@pytest.mark.parametrize(("original", "reworded", "ok"), [
    ("When is the board dinner?", "What day is the board dinner on?", True),
    ("When is the board dinner?", "When is dinner?", False),  # lost the fact it asks about
    ("How many deadlines fall in November 2026?", "How many deadlines are due in November?", False),
    ('Who owns the action item "book the venue"?', 'Who has to take care of "book the venue"?', True),
    ('Who owns the action item "book the venue"?', "Who books places?", False),
])
def test_paraphrase_must_keep_the_facts(original, reworded, ok):
    assert keeps_facts(original, reworded) is ok


# --- dedupe and held-out ------------------------------------------------------------------------


def test_duplicates_are_removed_within_a_run_and_across_runs(store):
    questions = synthesize(store.reader(), 500, seed=5).questions
    keys = [q.dedupe_key for q in questions]
    assert len(keys) == len(set(keys))
    first = generate_traces(store, ORACLE, 12, seed=5, heldout=None)
    again = generate_traces(store, ORACLE, 12, seed=5, heldout=None)
    stored = list_traces(store.reader(), limit=None, verified_only=True)
    assert len({t.metadata.dedupe_key for t in stored}) == len(stored) == first.kept + again.kept
    assert again.duplicates_skipped >= first.kept


def test_heldout_questions_are_never_emitted(store, tmp_path):
    every = synthesize(store.reader(), 500, seed=6).questions
    target = every[0].gold
    heldout = tmp_path / "gold_questions.jsonl"
    shouted = target.question.upper().rstrip("?") + " ?!"  # same question after normalization
    heldout.write_text(json.dumps({"id": "q1", "question": shouted, "answer": "x", "answer_type": "text",
                                   "accept": [], "message_ids": []}) + "\n")
    hashes = {question_hash(shouted)}
    rest = synthesize(store.reader(), 500, seed=6, heldout=hashes)
    assert rest.heldout_dropped == 1 and len(rest.questions) == len(every) - 1
    assert question_hash(target.question) not in {question_hash(q.gold.question) for q in rest.questions}
    # The same seed picks the held-out question first, so a small run meets it too.
    summary = generate_traces(store, ORACLE, 5, seed=6, heldout=heldout)
    assert summary.heldout_dropped == 1 and summary.kept == 5
    stored = {question_hash(t.question) for t in list_traces(store.reader(), limit=None)}
    assert question_hash(target.question) not in stored


# --- feedback -----------------------------------------------------------------------------------


def test_from_feedback_promotes_good_and_excludes_bad(store):
    question, trace = _oracle_for(store, "event_where")
    good = trace.model_copy(update={"trace_id": "good1", "model": "local:x", "feedback": "good", "verified": None})
    bad = trace.model_copy(update={"trace_id": "bad1", "model": "local:x", "feedback": "bad", "verified": None})
    with store.writer() as con:
        insert_trace(con, good)
        insert_trace(con, bad)
    summary = generate_traces(store, ORACLE, 0, from_feedback=True, heldout=None)
    assert (summary.feedback_kept, summary.feedback_excluded) == (1, 1)
    traces = {t.trace_id: t for t in list_traces(store.reader(), limit=None)}
    assert traces["good1"].verified is True and traces["good1"].metadata.template == "feedback"
    assert traces["good1"].metadata.student_system_prompt
    assert traces["bad1"].verified is False


# --- scoring ------------------------------------------------------------------------------------


def _gold(answer, kind, accept=()):
    return SimpleNamespace(answer=answer, answer_type=kind, accept=list(accept))


@pytest.mark.parametrize(("text", "gold", "ok"), [
    ("On Saturday 10 October 2026 at 17:00 UTC [msg:m1]", _gold("2026-10-10T17:00:00+00:00", "datetime"), True),
    ("Oct 10, 2026 at 1 PM EDT", _gold("2026-10-10T17:00:00+00:00", "datetime"), True),
    ("On 2026-10-10 at 19:00 UTC", _gold("2026-10-10T17:00:00+00:00", "datetime"), False),
    ("All day on 20 October 2026", _gold("2026-10-20", "datetime"), True),
    ("There are 2 events [msg:m12345]", _gold("2", "number"), True),
    ("Three deadlines fall in October 2026.", _gold("3", "number"), True),
    ("In the week of 2026-10-05 there are none", _gold("5", "number"), False),
    ("Board dinner; Pickleball game", _gold(["Pickleball game", "Board dinner"], "list"), True),
    ("Only the Board dinner", _gold(["Pickleball game", "Board dinner"], "list"), False),
    ("Yes, it is cancelled.", _gold("yes", "yesno"), True),
    ("No. It is still scheduled.", _gold("yes", "yesno"), False),
    ("It is at Luigi's [msg:m2]", _gold("Luigi's", "text"), True),
    ("Dana Whitfield owns it", _gold("dana@example.com", "text", ["Dana Whitfield"]), True),
    ("The mailbox does not say.", _gold("unknown", "text", ["the mailbox does not say", "not mentioned"]), True),
    ("I could not find it in your mail.", _gold("unknown", "text"), True),
    ("It is on Friday.", _gold("unknown", "text", ["the mailbox does not say", "not mentioned"]), False),
    ("Friday, October 9 at 4:00 PM", _gold("2026-10-09T16:00:00-04:00", "datetime", ["Friday, October 9 at 4:00 PM"]),
     True),
])
def test_score_answer(text, gold, ok):
    assert score_answer(text, gold) is ok


def test_match_calendar_add():
    expected = {"title": "Sprint demo", "starts_at": "2026-10-12T15:00:00+00:00"}
    assert match_calendar_add({"title": "Sprint demo", "start": "2026-10-12T11:00:00-04:00"}, expected)
    assert not match_calendar_add({"title": "Sprint demo", "start": "2026-10-13T15:00:00+00:00"}, expected)
    assert not match_calendar_add({"title": "Retro", "start": "2026-10-12T15:00:00+00:00"}, expected)


# --- CLI and a real teacher ---------------------------------------------------------------------


def test_cli_generate_oracle_end_to_end(store_path, tmp_path):
    out = tmp_path / "cli.jsonl"
    env = {**os.environ, "QUARRY_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [str(QUARRY), "traces", "generate", "--teacher", "oracle", "--n", "50", "--db", str(store_path),
         "--out", str(out), "--json"], capture_output=True, text=True, env=env, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["teacher"] == "oracle" and summary["kept"] == summary["synthesized"] > 20
    assert len(out.read_text().splitlines()) == summary["kept"]
    table = subprocess.run([str(QUARRY), "traces", "generate", "--teacher", "oracle", "--n", "5", "--seed", "1",
                            "--db", str(store_path)], capture_output=True, text=True, env=env, timeout=300)
    assert table.returncode == 0 and "kept" in table.stdout, table.stderr
    bad = subprocess.run([str(QUARRY), "traces", "generate", "--teacher", "nosuch:model", "--n", "2",
                          "--db", str(store_path)], capture_output=True, text=True, env=env, timeout=300)
    assert bad.returncode == 1 and bad.stderr.startswith("error:") and len(bad.stderr.strip().splitlines()) == 1
    missing = subprocess.run([str(QUARRY), "traces", "generate", "--teacher", "oracle", "--db",
                              str(tmp_path / "no.duckdb")], capture_output=True, text=True, env=env, timeout=300)
    assert missing.returncode == 1 and "no Quarry store" in missing.stderr and not (tmp_path / "no.duckdb").exists()


def test_real_teacher_smollm2_is_stored_with_an_honest_verdict(store):
    """Mechanics, not accuracy: a 135M model answers (and paraphrases) one question through the real loop."""
    summary = generate_traces(store, "local:smollm2-135m", 1, seed=7, heldout=None, max_steps=1, paraphrase=True)
    assert summary.synthesized == 1 and summary.kept + sum(summary.rejected.values()) == 1
    [trace] = list_traces(store.reader(), limit=None)
    assert trace.model == "local:smollm2-135m" and trace.metadata.teacher == "local:smollm2-135m"
    assert trace.verified in (True, False) and trace.verified == (trace.metadata.reject_reason is None)
    assert trace.metadata.paraphrased == (trace.question != trace.metadata.original_question)
    assert summary.paraphrased == int(trace.metadata.paraphrased)
    gold = SimpleNamespace(answer=trace.metadata.known_answer, answer_type=trace.metadata.answer_type,
                           accept=trace.metadata.accept)
    if trace.verified:
        assert score_answer(trace.final_answer, gold)
    else:
        assert trace.metadata.reject_reason in ("no_tool_call", "tool_error", "calendar_not_added", "wrong_answer")
    assert trace.prompt_tokens > 0 and trace.latency_s > 0
