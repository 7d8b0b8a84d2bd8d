"""`quarry facts ...` and `quarry eval extract` through the real console script on a real store file."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FactMailbox

from quarry.extract.extraction import extract_pending
from quarry.store.db import connect

QUARRY = str(Path(sys.executable).parent / "quarry")
ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}  # rich tables wrap at the terminal width
    done = subprocess.run([QUARRY, *args], capture_output=True, text=True, timeout=300, env=env)
    assert (done.returncode == 0) == ok, done.stderr
    return done


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "facts.duckdb"
    con = connect(path)
    box = FactMailbox(con)
    box.add("a@x", "The pickleball game is Thursday at 7pm at Riverside Park.", thread="t", subject="Game")
    box.add("b@x", "Bob, can you send the roster by Friday EOD?", thread="t", subject="Re: Game",
            sent="2026-10-21T11:00:00+02:00")
    box.add("c@x", "Update: the pickleball game moved to Saturday at 10am.", thread="t", subject="Re: Game",
            sent="2026-10-21T12:00:00+02:00")
    box.add("d@x", "The budget report is due Friday, October 30.", subject="Budget")
    extract_pending(con, "rules")
    con.close()
    return path


def test_listings_as_json(store):
    events = json.loads(run("facts", "events", "--json", "--db", str(store)).stdout)
    assert [(e["title"], e["status"], e["source"]) for e in events] == [("pickleball game", "moved", "a@x")]
    assert events[0]["starts_at"].startswith("2026-10-24 08:00:00")
    deadlines = json.loads(run("facts", "deadlines", "--json", "--db", str(store)).stdout)
    assert [(d["task"], d["due_at"][:10]) for d in deadlines] == [("budget report (Budget)", "2026-10-29")]
    assert json.loads(run("facts", "deadlines", "--since", "2026-10-31", "--json", "--db", str(store)).stdout) == []
    actions = json.loads(run("facts", "actions", "--who", "bob", "--json", "--db", str(store)).stdout)
    assert [(a["task"], a["owner"]) for a in actions] == [("send the roster", "bob@club.example")]
    assert json.loads(run("facts", "actions", "--who", "nobody", "--json", "--db", str(store)).stdout) == []
    people = json.loads(run("facts", "people", "--who", "ann", "--json", "--db", str(store)).stdout)
    assert people == [{"email": "ann@club.example", "name": "Ann Lee", "messages": 4, "mentions": 4}]


def test_show_prints_evidence_in_context_and_history(store):
    fact_id = json.loads(run("facts", "events", "--json", "--db", str(store)).stdout)[0]["fact_id"]
    out = run("facts", "show", fact_id, "--db", str(store)).stdout
    assert ">>>The pickleball game is Thursday at 7pm at Riverside Park.<<<" in out
    assert "moved by c@x" in out and "created by a@x" in out
    table = run("facts", "events", "--db", str(store)).stdout
    assert "pickleball game" in table and "a@x" in table


def test_errors_are_one_line(store):
    missing = run("facts", "show", "ev_nope", "--db", str(store), ok=False)
    assert missing.stderr.strip() == "error: ev_nope: no fact with this id (see `quarry facts events`)"
    bad = run("facts", "events", "--since", "last week", "--db", str(store), ok=False)
    assert bad.stderr.count("\n") == 1 and "--since 'last week'" in bad.stderr
