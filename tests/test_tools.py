"""The agent's tools on a real store: specs, the sql and read_message tools, and the `quarry sql` CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from quarry.agent.tools.base import ToolContext, run_tool
from quarry.agent.tools.registry import all_tools, schema_description, tool_specs
from quarry.store.session import StoreSession

TOOL_NAMES = {"find", "find_person", "find_message", "sql", "search", "read_message", "calendar_list",
              "calendar_conflicts", "calendar_add", "calendar_export"}
LONG_BODY = "Dear all, " + "the retreat agenda is long. " * 100


def add_message(con, message_id, subject, body, *, sender="dana@club.example", sent="2026-03-01 09:00:00+00",
                to=("me@home.example",)):
    con.execute(
        "INSERT INTO messages (message_id, thread_id, source_id, sent_at, sender, sender_name, subject, body_text,"
        " body_clean, content_hash) VALUES (?, ?, 'src', CAST(? AS TIMESTAMPTZ), ?, 'Dana Park', ?, ?, ?, ?)",
        [message_id, message_id, sent, sender, subject, body, body, f"h-{message_id}"],
    )
    con.execute("INSERT INTO message_people VALUES (?, ?, 'from')", [message_id, sender])
    for email in to:
        con.execute("INSERT INTO message_people VALUES (?, ?, 'to')", [message_id, email])


@pytest.fixture
def session(tmp_path):
    """A store file (with a name that needs quoting) holding two messages and sixty events."""
    store = StoreSession(tmp_path / "my store-1.duckdb")
    with store.writer() as con:
        add_message(con, "pickle-1@club.example", "Pickle game", "The pickle game is Saturday 10:00 at Riverside.")
        add_message(con, "retreat-2@work.example", "Retreat agenda", LONG_BODY)
        con.execute(
            "INSERT INTO events (fact_id, title, starts_at, evidence, extractor, extractor_version, message_id) "
            "SELECT 'f' || i, CASE WHEN i = 0 THEN 'Pickle game' ELSE 'Event ' || i END, "
            "TIMESTAMPTZ '2026-03-14 10:00:00+00' + i * INTERVAL 1 DAY, repeat('word ', 100), 'rules', '1', "
            "'pickle-1@club.example' FROM range(60) r(i)"
        )
    yield store
    store.close()


@pytest.fixture
def ctx(session):
    return ToolContext(store=session)


def call(ctx, name, **arguments):
    return run_tool(all_tools(), name, arguments, ctx)


def test_every_tool_has_a_docstring_and_a_json_schema():
    tools = all_tools()
    assert set(tools) == TOOL_NAMES
    for name, tool in tools.items():
        assert tool.name == name and len(tool.description) > 30
        spec = tool.spec()
        params = spec["function"]["parameters"]
        assert spec["type"] == "function" and params["type"] == "object" and params["properties"]
        for prop in params["properties"].values():
            assert prop.get("description"), f"{name}: every argument is described for the model"
        json.dumps(spec)
    assert [s["function"]["name"] for s in tool_specs()] == list(tools)
    assert {n for n, t in tools.items() if t.writes} == {"calendar_add", "calendar_export"}


def test_schema_description_lists_the_views_compactly():
    text = schema_description()
    for view in ("events(", "deadlines(", "action_items(", "messages(message_id, thread_id, sent_at timestamptz",
                 "calendar_events(", "people(", "message_people(", "threads(", "documents(", "entities(", "topics("):
        assert view in text
    assert "body_text" not in text and "extractor_version" not in text
    assert len(text) < 2500


def test_sql_returns_a_compact_table_with_weekday_utc_times(ctx):
    result = call(ctx, "sql", query="SELECT title, starts_at, message_id FROM events WHERE title ILIKE '%pickle%'")
    assert result.ok
    assert result.content.splitlines() == [
        "title | starts_at | message_id",
        "Pickle game | Sat 2026-03-14 10:00 UTC | pickle-1@club.example",
        "(1 row)",
    ]


def test_sql_cuts_long_text_and_says_how_many_rows_were_cut(ctx):
    result = call(ctx, "sql", query="SELECT fact_id, evidence FROM events ORDER BY starts_at")
    lines = result.content.splitlines()
    assert len(lines) == 1 + 50 + 1
    assert all(len(line) < 230 for line in lines[1:-1]) and lines[1].endswith("…")
    assert lines[-1].startswith("(50 rows; 10 more rows were cut")


def test_sql_user_limit_is_not_reported_as_a_cut(ctx):
    result = call(ctx, "sql", query="SELECT fact_id FROM events LIMIT 5")
    assert result.content.splitlines()[-1] == "(5 rows)"


def test_sql_errors_come_back_as_repairable_tool_results(ctx):
    result = call(ctx, "sql", query="SELECT owner_name FROM action_items")
    assert not result.ok
    assert result.content.startswith("error: no column owner_name in action_items; columns are fact_id, owner, task")
    assert result.content.endswith("(fix the query and call sql again)")
    result = call(ctx, "sql", query="SELECT title FROM events WHERE starts_at LIKE '2026-03-14%'")
    assert not result.ok and "LIKE/ILIKE work on text only" in result.content and "\n" not in result.content


def test_sql_tool_cannot_modify_the_store(ctx, session):
    for query in ("DELETE FROM events", "SELECT 1; DELETE FROM events", "CREATE TEMP TABLE t AS SELECT 1 AS a",
                  "WITH x AS (DELETE FROM events RETURNING *) SELECT * FROM x"):
        assert not call(ctx, "sql", query=query).ok
    assert call(ctx, "sql", query="SELECT count(*) AS n FROM events").content.splitlines()[1] == "60"


def test_bad_arguments_are_reported_to_the_model(ctx):
    result = run_tool(all_tools(), "sql", {"sql": "SELECT 1"}, ctx)
    assert not result.ok and "bad arguments for sql" in result.content


def test_read_message_shows_headers_and_a_truncated_body(ctx):
    result = call(ctx, "read_message", id="<retreat-2@work.example>")
    assert result.ok
    lines = result.content.splitlines()
    assert lines[:5] == ["message_id: retreat-2@work.example", "from: Dana Park <dana@club.example>",
                         "to: me@home.example", "date: Sun 2026-03-01 09:00 UTC", "subject: Retreat agenda"]
    assert "the retreat agenda is long." in result.content
    assert len(result.content) < 1800 and result.content.endswith("more characters cut]")


def test_read_message_names_the_files_attached(session):
    with session.writer() as con:
        con.execute("INSERT INTO attachments VALUES ('pickle-1@club.example#2', 'pickle-1@club.example', "
                    "'court-map.pdf', 'application/pdf', 2048, NULL)")
    result = call(ToolContext(store=session), "read_message", id="pickle-1@club.example")
    assert result.ok and result.content.splitlines()[5] == "attachments: court-map.pdf"


def test_read_message_unknown_id_is_a_clear_tool_error(ctx):
    result = call(ctx, "read_message", id="nope@nowhere")
    assert not result.ok and result.content == (
        "error: no message with id 'nope@nowhere'; copy a message_id exactly from sql or search results")


# --- `quarry sql` -----------------------------------------------------------------------------------

def quarry(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from quarry.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=120)


def test_cli_sql_prints_rows_and_json(session):
    db = str(session.path)
    session.close()
    done = quarry("sql", "SELECT title, starts_at FROM events WHERE fact_id = 'f0'", "--db", db, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [{"title": "Pickle game", "starts_at": "2026-03-14T10:00:00+00:00"}]
    done = quarry("sql", "SELECT fact_id FROM events ORDER BY starts_at", "--db", db, "--limit", "3")
    assert done.returncode == 0 and "f0" in done.stdout and "3 row(s); 57 more rows were cut (raise --limit or filter)" in done.stdout


def test_cli_sql_refusal_exits_1_with_the_guard_reason(session):
    db = str(session.path)
    session.close()
    done = quarry("sql", "DROP TABLE events", "--db", db)
    assert done.returncode == 1
    assert done.stderr.strip() == "error: only SELECT queries are allowed (read-only), not DROP"
    done = quarry("sql", "SELECT nope FROM events", "--db", db)
    assert done.returncode == 1 and done.stderr.startswith("error: no column nope in events; columns are")


def test_cli_sql_missing_store_is_one_line(tmp_path):
    done = quarry("sql", "SELECT 1 AS x", "--db", str(tmp_path / "missing.duckdb"))
    assert done.returncode == 1 and "no Quarry store here" in done.stderr and len(done.stderr.splitlines()) == 1


def test_sql_with_no_rows_names_rows_that_share_a_filter_word(ctx):
    missed = call(ctx, "sql", query="SELECT starts_at FROM events WHERE title ILIKE '%pickleball game today%'")
    assert missed.ok and "(no rows)" in missed.content
    assert "events: Pickle game" in missed.content and "Query again" in missed.content
    nothing = call(ctx, "sql", query="SELECT starts_at FROM events WHERE title ILIKE '%zeppelin%'")
    assert nothing.content.splitlines()[-1] == "(no rows)"


def test_find_ranks_facts_by_the_words_a_person_uses_for_them(ctx, session):
    """The model passes the user's phrase; the engine finds the fact whose title (then place, owner,
    evidence) shares its rarest words, best first, in the columns the sql views use."""
    with session.writer() as con:
        for fact_id, title, where in (("d1", "Dentist (Mum)", "Harbour Dental"), ("d2", "Board dinner", "Luigi's"),
                                      ("d3", "Dinner with the Okafors", None)):
            con.execute("INSERT INTO events (fact_id, title, starts_at, location, evidence, extractor, "
                        "extractor_version, message_id) VALUES (?, ?, TIMESTAMPTZ '2026-04-02 09:30:00+00', ?, "
                        "'see you there', 'rules', '1', 'pickle-1@club.example')", [fact_id, title, where])
        con.execute("INSERT INTO deadlines (fact_id, task, due_at, evidence, extractor, extractor_version, message_id)"
                    " VALUES ('t1', 'renew the club insurance', TIMESTAMPTZ '2026-05-01 17:00:00+00', "
                    "'Please renew the club insurance by 1 May.', 'rules', '1', 'pickle-1@club.example')")

    result = call(ctx, "find", kind="event", text="When is Mum's dentist appointment?")
    lines = result.content.splitlines()
    assert result.ok and lines[0] == "title | starts_at | ends_at | all_day | status | location | message_id | updated_by"
    assert lines[1].startswith("Dentist (Mum) | Thu 2026-04-02 09:30 UTC |") and "Harbour Dental" in lines[1]
    assert call(ctx, "find", kind="event", text="the board dinner").content.splitlines()[1].startswith("Board dinner")
    deadline = call(ctx, "find", kind="deadline", text="insurance renewal").content.splitlines()
    assert deadline[1] == "renew the club insurance | Fri 2026-05-01 17:00 UTC | NULL | pickle-1@club.example"
    assert call(ctx, "find", kind="event", text="the xylophone recital").content.endswith("(no rows)")
    assert not call(ctx, "find", kind="event", text="  ").ok
    assert not call(ctx, "find", kind="meeting", text="dinner").ok  # kind is checked against the schema
