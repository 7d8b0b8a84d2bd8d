"""Threading (headers, subject fallback, late-arriving parents across runs) and people merging,
through the real pipeline and store."""

from __future__ import annotations

import duckdb
import pytest

from quarry.extract.pipeline import ingest
from quarry.extract.threads import normalize_subject


def _threads(db) -> dict[str, str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return dict(con.execute("SELECT message_id, thread_id FROM messages").fetchall())
    finally:
        con.close()


def _write(folder, name, data):
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(data)


@pytest.mark.parametrize(("subject", "expected"), [
    ("Re: Fwd: AW: WG:  Board   Dinner ", ("board dinner", True)),
    ("RE[2]: [club] re: Lunch", ("lunch", True)),
    ("Lunch", ("lunch", False)),
    (None, ("", False)),
])
def test_normalize_subject(subject, expected):
    assert normalize_subject(subject) == expected


def test_threads_from_headers_and_subject_fallback(tmp_path, mailkit):
    mail = tmp_path / "mail"
    _write(mail, "1.eml", mailkit.message("root@t", subject="Board dinner"))
    _write(mail, "2.eml", mailkit.message("r1@t", subject="Re: Board dinner", headers={"In-Reply-To": "<root@t>"}))
    _write(mail, "3.eml", mailkit.message("r2@t", subject="Re: something else",
                                          headers={"References": "<root@t> <r1@t>"}))
    _write(mail, "4.eml", mailkit.message("r3@t", subject="AW: board  DINNER"))  # no headers: subject fallback
    _write(mail, "5.eml", mailkit.message("other@t", subject="Pickle game"))
    _write(mail, "6.eml", mailkit.message("lonely@t", subject="Re: Quiz night"))  # original unknown
    ingest([mail], tmp_path / "q.duckdb")
    threads = _threads(tmp_path / "q.duckdb")
    assert threads["root@t"] == threads["r1@t"] == threads["r2@t"] == threads["r3@t"] == "root@t"
    assert threads["other@t"] == "other@t"
    assert threads["lonely@t"] == "subject:quiz night"


def test_late_parent_joins_and_merges_existing_threads(tmp_path, mailkit):
    db = tmp_path / "q.duckdb"
    run1 = tmp_path / "run1"
    # Two replies whose common parent is missing: References point at different ancestors.
    _write(run1, "c1.eml", mailkit.message("c1@t", subject="Re: Plan", headers={"In-Reply-To": "<mid@t>"}))
    _write(run1, "c2.eml", mailkit.message("c2@t", subject="Re: Plan", headers={"References": "<top@t>"}))
    ingest([run1], db)
    first = _threads(db)
    assert first["c1@t"] != first["c2@t"]
    run2 = tmp_path / "run2"
    _write(run2, "mid.eml", mailkit.message("mid@t", subject="Re: Plan", headers={"References": "<top@t>"}))
    ingest([run2], db)
    second = _threads(db)
    assert second["c1@t"] == second["c2@t"] == second["mid@t"] == min(first["c1@t"], first["c2@t"])
    run3 = tmp_path / "run3"
    _write(run3, "top.eml", mailkit.message("top@t", subject="Plan"))
    ingest([run3], db)
    assert set(_threads(db).values()) == {second["mid@t"]}


def test_headerless_original_joins_an_earlier_subject_thread(tmp_path, mailkit):
    db = tmp_path / "q.duckdb"
    _write(tmp_path / "a", "reply.eml", mailkit.message("reply@t", subject="Re: Quiz night"))
    ingest([tmp_path / "a"], db)
    _write(tmp_path / "b", "orig.eml", mailkit.message("orig@t", subject="Quiz night"))
    ingest([tmp_path / "b"], db)
    threads = _threads(db)
    assert threads["orig@t"] == threads["reply@t"] == "subject:quiz night"


def test_people_merged_by_full_display_name(tmp_path, mailkit):
    mail = tmp_path / "mail"
    _write(mail, "1.eml", mailkit.message("p1@t", sender="Ann Lee <Ann.Lee@Work.Example>",
                                          to="Bob <bob@home.example>"))
    _write(mail, "2.eml", mailkit.message("p2@t", sender='"Lee, Ann" <ann@home.example>',
                                          to="Bob <bob@work.example>", headers={"Cc": "Ann Lee <ann.lee@work.example>",
                                                                                "Reply-To": "ann@home.example"}))
    ingest([mail], tmp_path / "q.duckdb")
    con = duckdb.connect(str(tmp_path / "q.duckdb"), read_only=True)
    people = {row[0]: row[1:] for row in con.execute("SELECT email, display_name, names, aliases FROM people").fetchall()}
    assert people["ann.lee@work.example"] == ("Ann Lee", ["Ann Lee", "Lee, Ann"], ["ann@home.example"])
    assert "ann@home.example" not in people
    # One-word names are never merged.
    assert "bob@home.example" in people and "bob@work.example" in people
    roles = con.execute("SELECT email, role FROM message_people WHERE message_id = 'p2@t' ORDER BY role").fetchall()
    assert roles == [("ann.lee@work.example", "cc"), ("ann.lee@work.example", "from"),
                     ("ann.lee@work.example", "reply_to"), ("bob@work.example", "to")]
    assert con.execute("SELECT sender FROM messages WHERE message_id = 'p2@t'").fetchone()[0] == "ann.lee@work.example"
    con.close()


def test_people_merging_is_stable_across_runs(tmp_path, mailkit):
    db = tmp_path / "q.duckdb"
    _write(tmp_path / "a", "1.eml", mailkit.message("s1@t", sender="Dana Fox <dana@club.example>"))
    ingest([tmp_path / "a"], db)
    _write(tmp_path / "b", "2.eml", mailkit.message("s2@t", sender="Dana Fox <dfox@gmail.example>"))
    ingest([tmp_path / "b"], db)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT email, aliases FROM people WHERE email LIKE 'd%'").fetchall() == [
        ("dana@club.example", ["dfox@gmail.example"])]
    assert con.execute("SELECT sender FROM messages WHERE message_id = 's2@t'").fetchone()[0] == "dana@club.example"
    con.close()
