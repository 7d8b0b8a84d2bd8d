"""The SQL guard and the read-only runner: hostile queries refused with a useful message, valid ones run.

Every valid query is executed for real on a store file through the hardened read-only connection.
"""

from __future__ import annotations

import duckdb
import pytest

from quarry.errors import GuardError
from quarry.store.db import connect
from quarry.store.guard import VIEW_SCHEMA, allowed_views, check_sql, guard_query
from quarry.store.query import run_select

# (query, a fragment the refusal must contain)
HOSTILE = [
    ("DROP TABLE events", "only SELECT"),
    ("DELETE FROM events", "only SELECT"),
    ("UPDATE events SET title = 'x'", "only SELECT"),
    ("INSERT INTO events (fact_id) VALUES ('x')", "only SELECT"),
    ("CREATE TABLE t AS SELECT * FROM events", "only SELECT"),
    ("CREATE TEMP TABLE t (a INTEGER)", "only SELECT"),
    ("ALTER TABLE events ADD COLUMN x INTEGER", "only SELECT"),
    ("TRUNCATE events", "only SELECT"),
    ("MERGE INTO events USING events e ON true WHEN MATCHED THEN DELETE", "only SELECT"),
    ("SELECT 1; DROP TABLE events", "exactly one statement"),
    ("SELECT title FROM events; SELECT 1", "exactly one statement"),
    ("SELECT title FROM events -- harmless\n; DELETE FROM events", "exactly one statement"),
    ("SELECT title FROM events /* c */; DELETE FROM events", "exactly one statement"),
    ("PRAGMA show_tables", "only SELECT"),
    ("PRAGMA database_list", "only SELECT"),
    ("SET enable_external_access = true", "only SELECT"),
    ("RESET lock_configuration", "only SELECT"),
    ("ATTACH '/tmp/other.duckdb' AS other", "only SELECT"),
    ("DETACH other", "only SELECT"),
    ("COPY events TO '/tmp/events.csv'", "only SELECT"),
    ("COPY (SELECT * FROM events) TO '/tmp/e.parquet' (FORMAT parquet)", "only SELECT"),
    ("EXPORT DATABASE '/tmp/dump'", "not EXPORT"),
    ("INSTALL httpfs", "only SELECT"),
    ("LOAD httpfs", "only SELECT"),
    ("CALL pragma_version()", "only SELECT"),
    ("DESCRIBE events", "only SELECT"),
    ("SUMMARIZE events", "only SELECT"),
    ("SHOW TABLES", "only SELECT"),
    ("BEGIN TRANSACTION", "only SELECT"),
    ("CHECKPOINT", "not CHECKPOINT"),
    ("VACUUM", "only SELECT"),
    ("USE memory", "only SELECT"),
    ("SELECT * FROM read_csv('/etc/passwd')", "not allowed"),
    ("SELECT * FROM read_csv_auto('x.csv')", "not allowed"),
    ("SELECT * FROM read_parquet('x.parquet')", "not allowed"),
    ("SELECT * FROM read_text('/etc/passwd')", "not allowed"),
    ("SELECT * FROM read_json_auto('x.json')", "not allowed"),
    ("SELECT * FROM glob('/etc/*')", "not allowed"),
    ("SELECT * FROM sniff_csv('x.csv')", "not allowed"),
    ("SELECT * FROM parquet_metadata('x.parquet')", "not allowed"),
    ("SELECT * FROM query('SELECT 1')", "not allowed"),
    ("SELECT * FROM duckdb_settings()", "not allowed"),
    ("SELECT * FROM '/etc/passwd'", "reading files is not allowed"),
    ("SELECT * FROM 'file.csv'", "reading files is not allowed"),
    ("SELECT * FROM events e JOIN read_csv('x.csv') r ON true", "not allowed"),
    ("SELECT (SELECT count(*) FROM read_parquet('x')) AS n FROM events", "not allowed"),
    ("SELECT read_text('/etc/passwd') AS t", "not allowed"),
    ("SELECT current_setting('enable_external_access') AS s", "not allowed"),
    ("SELECT getenv('HOME') AS h", "not allowed"),
    ("SELECT * FROM information_schema.tables", "without a schema prefix"),
    ("SELECT * FROM main.messages", "without a schema prefix"),
    ("SELECT * FROM agent_views.messages", "without a schema prefix"),
    ("SELECT * FROM sources", "no table or view sources; views are:"),
    ("SELECT * FROM traces", "no table or view traces"),
    ("SELECT * FROM chunks", "no table or view chunks"),
    ("SELECT * FROM search_terms", "no table or view search_terms"),
    ("SELECT body_text FROM messages", "no column body_text in messages; columns are message_id"),
    ("SELECT nope FROM events", "no column nope in events; columns are fact_id, title"),
    ("SELECT e.owner_name FROM action_items e", "no column owner_name in action_items"),
    ("SELECT title, email FROM events JOIN people ON true WHERE x = 1", "no column x in events or people"),
    ("WITH x AS (DELETE FROM events RETURNING *) SELECT * FROM x", "DELETE"),
    ("WITH messages AS (SELECT 1 AS a) SELECT * FROM messages", "CTE name messages hides the view"),
    ("SELECT * INTO t FROM events", "INTO"),
    ("", "empty query"),
    ("  -- only a comment", "empty query"),
    ("SELEC title FROM events", "syntax error"),
    ("SELECT title FROM events WHERE", "syntax error"),
    ("PIVOT events ON status", "only SELECT"),
]

VALID = [
    "SELECT title, starts_at FROM events",
    "SELECT * FROM events WHERE title ILIKE '%pickle%'",
    "SELECT count(*) AS n FROM messages",
    "SELECT m.subject, p.email FROM messages m JOIN message_people p USING (message_id)",
    "WITH recent AS (SELECT * FROM events WHERE starts_at > TIMESTAMPTZ '2026-01-01 00:00:00+00') "
    "SELECT title FROM recent",
    "SELECT title FROM events UNION SELECT task FROM deadlines",
    "SELECT owner, count(*) AS n FROM action_items GROUP BY owner ORDER BY n DESC",
    "SELECT title FROM events WHERE CAST(starts_at AS DATE) = DATE '2026-03-14'",
    "SELECT strftime(starts_at, '%Y-%m') AS month, count(*) AS n FROM events GROUP BY ALL",
    "SELECT title FROM events WHERE starts_at BETWEEN TIMESTAMPTZ '2026-03-01 00:00:00+00' "
    "AND TIMESTAMPTZ '2026-03-31 00:00:00+00'",
    "SELECT unnest(participants) AS who FROM events",
    "SELECT list_transform(participants, x -> upper(x)) AS loud FROM events",
    "SELECT * FROM threads ORDER BY last_at DESC LIMIT 5",
    "SELECT name, kind FROM entities WHERE kind = 'org'",
    "SELECT email, display_name FROM people",
    "SELECT title FROM calendar_events WHERE starts_at < now()",
    "SELECT document_id, title FROM documents",
    "SELECT e.title, (SELECT count(*) FROM calendar_events c WHERE c.starts_at < e.ends_at) AS clashes FROM events e",
    "SELECT title FROM events e WHERE EXISTS (SELECT 1 FROM messages m WHERE m.message_id = e.message_id)",
    "FROM events SELECT title",
    "SELECT title FROM events QUALIFY row_number() OVER (ORDER BY starts_at) <= 2",
    "SELECT name FROM topics INTERSECT SELECT name FROM topics",
    "SELECT task, due_at FROM deadlines WHERE due_at >= TIMESTAMPTZ '2026-03-01 00:00:00+00' ORDER BY due_at",
    "SELECT title FROM events -- a trailing comment",
]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A store file with a few facts, opened with the hardened read-only connection."""
    path = tmp_path_factory.mktemp("guard") / "guard.duckdb"
    con = connect(path)
    con.execute(
        "INSERT INTO messages (message_id, thread_id, source_id, sent_at, sender, subject, body_text, body_clean,"
        " content_hash) VALUES ('m1', 'm1', 's', TIMESTAMPTZ '2026-03-01 09:00:00+00', 'dana@x.org', 'Pickle game',"
        " 'SECRET BODY', 'SECRET BODY', 'h1')"
    )
    con.execute(
        "INSERT INTO events (fact_id, title, starts_at, ends_at, participants, message_id, evidence, extractor,"
        " extractor_version) VALUES ('f1', 'Pickle game', TIMESTAMPTZ '2026-03-14 10:00:00+00',"
        " TIMESTAMPTZ '2026-03-14 11:00:00+00', ['dana@x.org'], 'm1', 'the pickle game', 'rules', '1')"
    )
    con.execute("INSERT INTO people VALUES ('dana@x.org', 'Dana', ['Dana'], [])")
    con.execute("INSERT INTO message_people VALUES ('m1', 'dana@x.org', 'from')")
    con.close()
    reader = connect(path, read_only=True, hardened=True)
    yield reader
    reader.close()


@pytest.fixture(scope="module")
def views(store):
    return allowed_views(store)


def test_views_come_from_the_live_store(views):
    assert set(views) == {"events", "event_history", "deadlines", "action_items", "entities", "topics", "people", "message_people",
                          "calendar_events", "threads", "messages", "documents"}
    assert list(views["messages"]) == ["message_id", "thread_id", "sent_at", "sender", "sender_name", "subject"]
    assert list(views["documents"]) == ["document_id", "path", "kind", "title"]


@pytest.mark.parametrize(("query", "fragment"), HOSTILE, ids=[q[:40] or "empty" for q, _ in HOSTILE])
def test_hostile_query_is_refused_with_a_useful_message(views, query, fragment):
    with pytest.raises(GuardError) as refused:
        check_sql(query, views)
    message = str(refused.value)
    assert fragment in message
    assert "\n" not in message and len(message) < 600


def test_there_are_enough_hostile_and_valid_cases():
    assert len(HOSTILE) >= 40 and len(VALID) >= 20


@pytest.mark.parametrize("query", VALID, ids=[q[:40] for q in VALID])
def test_valid_query_is_accepted_and_runs(store, query):
    result = run_select(store, query)
    assert result.columns
    assert len(result.rows) <= 50


def test_limit_is_added_capped_or_kept(views):
    assert check_sql("SELECT title FROM events", views).endswith("LIMIT 50")
    assert check_sql("SELECT title FROM events LIMIT 1000", views, limit=20).endswith("LIMIT 20")
    assert check_sql("SELECT title FROM events LIMIT 3", views).endswith("LIMIT 3")
    assert check_sql("SELECT title FROM events UNION SELECT task FROM deadlines", views).endswith("LIMIT 50")
    assert not guard_query("SELECT title FROM events LIMIT 3", views).capped


def test_views_are_qualified_into_the_agent_schema(views):
    sql = check_sql("SELECT m.subject FROM messages m", views, qualify_into=("my-db", VIEW_SCHEMA))
    assert sql == 'SELECT m.subject FROM "my-db".agent_views.messages AS m LIMIT 50'


def test_cte_names_are_allowed_but_not_qualified(views):
    sql = check_sql("WITH x AS (SELECT title FROM events) SELECT title FROM x", views, qualify_into=("c", VIEW_SCHEMA))
    assert "FROM x" in sql and "c.agent_views.events" in sql


def test_list_of_columns_is_accepted_as_allowed_set():
    assert check_sql("SELECT a FROM t", {"t": ["a", "b"]}) == "SELECT a FROM t LIMIT 50"
    with pytest.raises(GuardError, match="no column c in t; columns are a, b"):
        check_sql("SELECT c FROM t", {"t": ["a", "b"]})


def test_whole_row_reference_only_sees_the_compact_view(store):
    """Even a query that slips past the column check reads the view, never the message bodies."""
    result = run_select(store, "SELECT m FROM messages m")
    assert "SECRET BODY" not in repr(result.rows)
    result = run_select(store, "SELECT COLUMNS(*) FROM messages")
    assert "SECRET BODY" not in repr(result.rows) and "body_text" not in result.columns


def test_like_on_a_timestamp_gets_a_repair_hint(store):
    with pytest.raises(GuardError) as refused:
        run_select(store, "SELECT title FROM events WHERE starts_at LIKE '2026-03%'")
    assert "LIKE/ILIKE work on text only" in str(refused.value) and "CAST(starts_at AS DATE)" in str(refused.value)


def test_bad_timestamp_literal_gets_a_repair_hint(store):
    with pytest.raises(GuardError, match="TIMESTAMPTZ 'YYYY-MM-DD"):
        run_select(store, "SELECT title FROM events WHERE starts_at > TIMESTAMPTZ 'next friday'")


# --- the second lock: the hardened read-only connection refuses on its own ---------------------------

@pytest.mark.parametrize("statement", [
    "INSERT INTO events (fact_id, title, evidence, extractor, extractor_version) VALUES ('x', 'x', 'x', 'x', 'x')",
    "DELETE FROM events",
    "UPDATE events SET title = 'x'",
    "DROP TABLE events",
    "CREATE TABLE t (a INTEGER)",
    "COPY events TO '{tmp}/out.csv'",
    "ATTACH '{tmp}/other.duckdb' AS other",
    "SET enable_external_access = true",
    "SELECT * FROM read_csv('{tmp}/x.csv')",
    "INSTALL httpfs",
    "LOAD fts",
])
def test_hardened_reader_refuses_writes_and_files_even_without_the_guard(store, tmp_path, statement):
    (tmp_path / "x.csv").write_text("a\n1\n")
    with pytest.raises(duckdb.Error):
        store.execute(statement.format(tmp=tmp_path))
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "other.duckdb").exists()


def test_runaway_query_is_interrupted(tmp_path):
    path = tmp_path / "big.duckdb"
    con = connect(path)
    con.execute("INSERT INTO topics (fact_id, name, evidence, extractor, extractor_version) "
                "SELECT 't' || i, 'topic ' || i, 'e', 'rules', '1' FROM range(3000) r(i)")
    con.close()
    reader = connect(path, read_only=True, hardened=True)
    import time

    began = time.monotonic()
    with pytest.raises(GuardError, match="stopped after 1 s"):
        run_select(reader, "SELECT count(*) AS n FROM topics a, topics b, topics c WHERE a.name || b.name < c.name",
                   timeout_s=1.0)
    assert time.monotonic() - began < 10
    assert run_select(reader, "SELECT count(*) AS n FROM topics").rows == [(3000,)]  # the connection still works
    reader.close()
