"""Trace storage and export: round trip, id prefixes, feedback, filters, JSONL training records, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from quarry.errors import InputError, StoreError
from quarry.store.db import connect
from quarry.store.traces import (
    Trace,
    export_jsonl,
    get_trace,
    insert_trace,
    list_traces,
    set_feedback,
    set_verified,
    to_training_record,
)

QUARRY = [str(Path(sys.executable).with_name("quarry"))]
TOOLS = [{"type": "function", "function": {"name": "sql", "description": "Run one SELECT.",
          "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}}}]


def make_trace(n: int, **fields) -> Trace:
    arguments = json.dumps({"query": "SELECT 1"})
    call = {"id": f"c{n}", "type": "function", "function": {"name": "sql", "arguments": arguments}}
    messages = [
        {"role": "system", "content": "You are Quarry."},
        {"role": "user", "content": f"question {n}?"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": f"c{n}", "content": "1"},
        {"role": "assistant", "content": f"answer {n} [msg:m{n}@x]"},
    ]
    base = dict(
        trace_id=f"{n:02d}" + "ab" * 15, created_at=datetime(2026, 3, 1, tzinfo=timezone.utc) + timedelta(hours=n),
        model="local:test", question=f"question {n}?", messages=messages, tools=TOOLS, final_answer=f"answer {n}",
        citations=[f"m{n}@x"], prompt_tokens=100 + n, completion_tokens=10, latency_s=1.5,
        metadata={"profile": "teacher"},
    )
    return Trace(**{**base, **fields})


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "t.duckdb"
    con = connect(path)
    insert_trace(con, make_trace(1, verified=True))
    insert_trace(con, make_trace(2, verified=False))
    insert_trace(con, make_trace(3, verified=True))
    con.close()
    return path


def test_round_trip_keeps_every_field(store):
    con = connect(store)
    original = make_trace(1, verified=True)
    assert get_trace(con, original.trace_id) == original
    assert get_trace(con, "01") == original  # a unique prefix is enough


def test_list_is_newest_first_and_filters(store):
    con = connect(store)
    assert [t.question for t in list_traces(con)] == ["question 3?", "question 2?", "question 1?"]
    assert [t.question for t in list_traces(con, limit=1)] == ["question 3?"]
    assert [t.question for t in list_traces(con, verified_only=True)] == ["question 3?", "question 1?"]


def test_feedback_and_verified_are_stored(store):
    con = connect(store)
    set_feedback(con, "02", "good")
    set_verified(con, "02", True)
    trace = get_trace(con, "02")
    assert trace.feedback == "good" and trace.verified is True
    assert [t.question for t in list_traces(con, feedback="good")] == ["question 2?"]
    with pytest.raises(InputError, match="feedback must be 'good' or 'bad'"):
        set_feedback(con, "02", "great")


def test_unknown_and_ambiguous_ids_are_clear_errors(store):
    con = connect(store)
    with pytest.raises(StoreError, match="no trace with id 'zz'"):
        get_trace(con, "zz")
    with pytest.raises(StoreError, match="ambiguous"):
        get_trace(con, "0")


def test_export_writes_one_training_record_per_line(store, tmp_path, openai_conversation_check):
    con = connect(store)
    set_feedback(con, "03", "good")
    out = tmp_path / "all.jsonl"
    assert export_jsonl(con, out) == 3
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["metadata"]["question"] for r in records] == ["question 1?", "question 2?", "question 3?"]
    for record in records:
        assert set(record) == {"messages", "tools", "metadata"}
        openai_conversation_check(record["messages"], record["tools"])
        assert record["tools"] == TOOLS
        meta = record["metadata"]
        assert {"trace_id", "model", "question", "verified", "feedback", "created_at", "profile"} <= set(meta)
    assert records[0] == to_training_record(make_trace(1, verified=True))
    assert export_jsonl(con, out, verified_only=True) == 2
    assert export_jsonl(con, out, verified_only=True, feedback="good") == 1
    assert json.loads(out.read_text())["metadata"]["trace_id"].startswith("03")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*QUARRY, *args], capture_output=True, text=True, timeout=120)


def test_cli_list_show_export(store, tmp_path):
    listed = run_cli("traces", "list", "--json", "--limit", "2", "--db", str(store))
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [r["question"] for r in rows] == ["question 3?", "question 2?"] and "messages" not in rows[0]

    table = run_cli("traces", "list", "--db", str(store))
    assert table.returncode == 0 and "question 1?" in table.stdout

    shown = run_cli("traces", "show", "02", "--json", "--db", str(store))
    assert json.loads(shown.stdout)["messages"] == make_trace(2).messages
    assert "answer 2" in run_cli("traces", "show", "02", "--db", str(store)).stdout

    out = tmp_path / "good.jsonl"
    exported = run_cli("traces", "export", "--format", "jsonl", "--out", str(out), "--verified-only",
                       "--db", str(store))
    assert exported.returncode == 0 and "exported 2 traces" in exported.stderr
    assert len(out.read_text().splitlines()) == 2


def test_cli_errors_are_one_line(store, tmp_path):
    missing = run_cli("traces", "show", "zz", "--db", str(store))
    assert missing.returncode == 1 and missing.stderr.strip() == "error: no trace with id 'zz'"
    no_store = run_cli("traces", "list", "--db", str(tmp_path / "none.duckdb"))
    assert no_store.returncode == 1 and no_store.stderr.count("\n") == 1 and "no Quarry store here" in no_store.stderr
