"""`quarry eval agent` end to end on the real smollm2-135m, plus the held-out split and calendar isolation."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from quarry.evals.answer_scoring import question_hash
from quarry.evals.evaluation import QuestionOutcome, select_questions, summarize
from quarry.store.session import StoreSession
from quarry.store.traces import Trace, insert_trace

QUESTIONS = [
    {"id": "e1", "question": "When is the pickle game?", "answer": "2026-03-14T10:00:00+00:00",
     "answer_type": "datetime", "message_ids": ["pickle-1@club.example"]},
    {"id": "e2", "question": "Add the pickle game to my calendar.", "answer_type": "calendar_add",
     "answer": {"title": "Pickle game", "starts_at": "2026-03-14T10:00:00+00:00"}},
    {"id": "e3", "question": "Who is catering the retreat?", "answer": "unknown", "answer_type": "text"},
]
SUMMARY_KEYS = {"n", "accuracy", "tool_call_valid_rate", "sql_success_rate", "steps_mean", "prompt_tokens_mean",
                "completion_tokens_mean", "latency_p50_s", "latency_p95_s", "cost_per_question_usd"}


@pytest.fixture
def question_file(tmp_path):
    path = tmp_path / "questions.jsonl"
    path.write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS), encoding="utf-8")
    return path


def _calendar(db: Path) -> list[tuple]:
    from quarry.store.db import connect

    con = connect(db, read_only=True)
    try:
        return con.execute("SELECT event_id, title, starts_at FROM calendar_events ORDER BY event_id").fetchall()
    finally:
        con.close()


def test_eval_agent_end_to_end_on_the_small_local_model(agent_store, question_file, smollm2_gguf, tmp_path):
    out = tmp_path / "report"
    before = _calendar(agent_store)
    run = subprocess.run(
        [str(Path(sys.executable).parent / "quarry"), "eval", "agent", "--model", "local:smollm2-135m",
         "--questions", str(question_file), "--limit", "2", "--max-steps", "1", "--max-tokens", "24",
         "--profile", "student", "--db", str(agent_store), "--out", str(out), "--json"],
        capture_output=True, text=True, timeout=900,
    )
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert list(summary) == ["local:smollm2-135m"]
    figures = summary["local:smollm2-135m"]
    assert SUMMARY_KEYS <= set(figures) and figures["n"] == 2
    assert figures["prompt_tokens_mean"] > 0 and figures["latency_p95_s"] >= figures["latency_p50_s"] > 0
    assert figures["cost_per_question_usd"] == 0.0  # local models cost no money
    lines = [json.loads(line) for line in (out / "local_smollm2-135m.jsonl").read_text().splitlines()]
    assert [line["id"] for line in lines] == ["e1", "e2"]
    assert lines[1]["calendar_checked"] is not None  # the calendar_add question was judged in the table
    assert (out / "models.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads((out / "report.json").read_text())
    assert report["split"]["evaluated"] == 2 and report["split"]["questions_in_file"] == 3
    assert _calendar(agent_store) == before  # evaluation ran on a throwaway copy


def test_questions_seen_in_training_traces_are_excluded(agent_store, question_file):
    store = StoreSession(agent_store)
    with store.writer() as con:
        insert_trace(con, Trace(model="t", question="when is the PICKLE game", messages=[], verified=True))
        insert_trace(con, Trace(model="t", question="Who is catering the retreat?", messages=[], verified=False))
    chosen, split = select_questions(question_file, store, limit=None)
    store.close()
    assert [q.id for q in chosen] == ["e2", "e3"]  # unverified traces are not training data
    assert split.excluded_in_training == ["e1"] and split.training_traces_checked == 1


def test_summary_rates_and_percentiles():
    outcomes = [QuestionOutcome(id=str(i), question="q", answer_type="text", model="m", correct=i < 3,
                                tool_calls=2, tool_calls_valid=2 - (i == 0), sql_calls=1, sql_ok=i % 2,
                                steps=2, prompt_tokens=100 * i, completion_tokens=10, latency_s=float(i))
                for i in range(1, 5)]
    s = summarize(outcomes)
    assert s.n == 4 and s.accuracy == 0.5 and s.tool_call_valid_rate == 1.0
    assert s.sql_success_rate == 0.5 and s.prompt_tokens_mean == 250 and s.latency_p50_s == 2.5
    assert summarize([QuestionOutcome(id="x", question="q", answer_type="text", model="m")]).sql_success_rate is None
    assert question_hash(QUESTIONS[0]["question"]) == question_hash("when is the pickle game")


def test_eval_agent_over_the_eval_mailboxes_scores_extracted_and_gold_facts(tmp_path):
    """`--split eval`: each eval mailbox asked its own first question, once over the facts the rules extract
    and once over its gold facts; totals pool the mailboxes per facts column."""
    from quarry.evals.corpora import mailboxes

    trace = tmp_path / "replay.json"
    call = {"id": "c1", "type": "function", "function": {"name": "find", "arguments": json.dumps(
        {"kind": "event", "text": "appointment"})}}
    trace.write_text(json.dumps({"messages": [{"role": "assistant", "content": None, "tool_calls": [call]},
                                              {"role": "assistant", "content": "The mailbox does not say."}]}))
    done = subprocess.run([str(Path(sys.executable).parent / "quarry"), "eval", "agent", "-m", f"replay:{trace}", "--split",
                           "eval", "--limit", "1", "--json"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    names = {box.name for box in mailboxes("eval")}
    assert set(report["mailboxes"]) == names and len(names) >= 2
    for facts in ("extracted", "gold"):
        total = report["totals"][facts][f"replay:{trace}"]
        assert total["summary"]["n"] == len(names) and 0 <= total["own_words"] <= total["correct"] <= len(names)
        assert all(report["mailboxes"][n][facts][f"replay:{trace}"]["summary"]["n"] == 1 for n in names)


def test_family_agent_over_one_facts_column_builds_and_scores_only_that_column(tmp_path):
    """`columns=("gold",)` (the retrain comparison's choice): no extracted store is built or scored."""
    from quarry.evals.family_agent import evaluate_family_agent

    trace = tmp_path / "replay.json"
    trace.write_text(json.dumps({"messages": [{"role": "assistant", "content": "The mailbox does not say."}]}))
    report = evaluate_family_agent([f"replay:{trace}"], "eval", limit=1, columns=("gold",))
    assert set(report.totals) == {"gold"}
    assert all(set(columns) == {"gold"} for columns in report.mailboxes.values())
    assert report.totals["gold"][f"replay:{trace}"].summary.n == len(report.mailboxes)


def test_the_extracted_facts_column_holds_what_quarry_ingest_stores(tmp_path):
    """The store a user gets: rules facts from the mail (not only .ics events), the calendar imported with its
    entries linked to the events the mail names, and the search index built."""
    from quarry.evals.family_agent import extracted_store
    from quarry.store.db import connect

    con = connect(extracted_store(Path("corpora/train/school"), tmp_path / "school.duckdb"), read_only=True)
    try:
        extractors = dict(con.execute("SELECT extractor, count(*) FROM events GROUP BY 1").fetchall())
        assert extractors.get("rules", 0) >= 10
        assert con.execute("SELECT count(*) FROM deadlines WHERE extractor = 'rules'").fetchone()[0] >= 3
        linked = con.execute("SELECT count(*) FROM calendar_events c JOIN events e ON e.fact_id = c.source_fact_id"
                             ).fetchone()[0]
        assert linked >= 1
        assert con.execute("SELECT count(*) FROM search_docs").fetchone()[0] > 0
    finally:
        con.close()
