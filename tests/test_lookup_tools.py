"""The people and message lookups (`find_person`, `find_message`) on a store ingested from real .eml files."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from quarry.agent.tools.base import ToolContext, run_tool
from quarry.agent.tools.registry import all_tools
from quarry.extract.pipeline import ingest
from quarry.store.session import StoreSession


def _mail(folder, name, *, sender, to, subject, date, body, attachment=None):
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Date"] = sender, to, subject, date
    msg["Message-ID"] = f"<{name}@test.example>"
    msg.set_content(body)
    if attachment:
        msg.add_attachment(b"a,b\n1,2\n", maintype="text", subtype="csv", filename=attachment)
    (folder / f"{name}.eml").write_bytes(msg.as_bytes())


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    mail = tmp_path_factory.mktemp("mail")
    me = "Dana Okafor <dana@halfwheel.example>"
    _mail(mail, "q3", sender="Priya Raman <priya@ramanholt.example>", to=me, subject="Q3 numbers",
          date="Mon, 19 Oct 2026 09:50:00 -0400",
          body="Could you send me the Q3 numbers by Thursday?\n\nBest,\nPriya\n\nPriya Raman, CPA\n"
               "Raman & Holt Accounting\n(212) 555-0133\n")
    _mail(mail, "q3-reply", sender=me, to="Priya Raman <priya@ramanholt.example>", subject="Re: Q3 numbers",
          date="Wed, 21 Oct 2026 17:40:00 -0400", body="Here they are.\n\nDana\n", attachment="halfwheel_q3.csv")
    _mail(mail, "lease", sender="Gerald Whitcombe <gerald@whitcombe.example>", to=me, subject="Lease renewal",
          date="Mon, 26 Oct 2026 10:00:00 -0500",
          body="Please sign and return the lease by Friday.\n\nRegards,\nGerald Whitcombe\nWhitcombe Property\n")
    _mail(mail, "ride", sender="Priya Raman <priya@ramanholt.example>", to=me, subject="Saturday ride?",
          date="Fri, 30 Oct 2026 08:00:00 -0400", body="Are you riding on Saturday?\n\nPriya\n")
    ingest([mail], mail / "q.duckdb")
    store = StoreSession(mail / "q.duckdb")
    yield ToolContext(store=store)
    store.close()


def call(ctx, name, **arguments):
    return run_tool(all_tools(), name, arguments, ctx)


def _rows(result):
    assert result.ok, result.content
    return result.content.splitlines()[1:-1]


def test_find_person_matches_part_of_a_name_with_accents_and_question_words_ignored(ctx):
    rows = _rows(call(ctx, "find_person", text="What is priya's email address?"))
    assert rows[0].startswith("priya@ramanholt.example | Priya Raman")
    assert len(rows) == 1  # "email" and "address" name no one: the other people do not match


def test_find_person_shows_the_signature_and_cites_the_message_it_came_from(ctx):
    row = _rows(call(ctx, "find_person", text="Raman Holt accounting"))[0]
    # The phone number lives in the signature, which body_clean (and so read_message) drops.
    assert "(212) 555-0133" in row and row.split(" | ")[4] == "q3@test.example"
    assert _rows(call(ctx, "find_person", text="Whitcombe"))[0].startswith("gerald@whitcombe.example")
    assert call(ctx, "find_person", text="Xavier Quill").content.endswith("(no rows)")
    assert not call(ctx, "find_person", text=" ").ok


def test_find_message_ranks_by_subject_and_filters_by_sender_and_recipient(ctx):
    mine = _rows(call(ctx, "find_message", text="Q3 numbers", recipient="Priya"))
    assert len(mine) == 1 and mine[0].startswith("q3-reply@test.example") and "[halfwheel_q3.csv]" in mine[0]
    hers = _rows(call(ctx, "find_message", text="the Q3 numbers email", sender="priya raman"))
    assert hers[0].startswith("q3@test.example | Mon 2026-10-19 13:50 UTC | Priya Raman <priya@ramanholt.example>")
    assert call(ctx, "find_message", text="lease", sender="Priya").content.endswith("(no rows)")


def test_find_message_without_words_lists_newest_first_within_the_dates(ctx):
    latest = _rows(call(ctx, "find_message", sender="Priya"))
    assert [r.split(" | ")[0] for r in latest] == ["ride@test.example", "q3@test.example"]
    october_end = _rows(call(ctx, "find_message", since="2026-10-21", until="2026-10-26"))
    assert [r.split(" | ")[0] for r in october_end] == ["lease@test.example", "q3-reply@test.example"]
    assert not call(ctx, "find_message").ok
    assert "after until" in call(ctx, "find_message", since="2026-11-01", until="2026-10-01").content
    assert not call(ctx, "find_message", since="last week").ok  # dates are checked against the schema
