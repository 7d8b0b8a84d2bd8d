"""Answers grounded in the run's tool results: unseen ids cut, invented values and degenerate text replaced."""

import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from quarry.agent.grounding import ground
from quarry.agent.loop import run_agent
from quarry.agent.prompts import NO_ANSWER
from quarry.agent.tools.base import ToolContext
from quarry.agent.tools.registry import all_tools
from quarry.llm.replay import ReplayModel
from quarry.store.session import StoreSession
from quarry.store.traces import get_trace

NOW = datetime(2026, 11, 10, 15, 0, tzinfo=timezone.utc)
NEW_YORK = ZoneInfo("America/New_York")
ROWS = ("title | starts_at | message_id\n"
        "Board dinner | Fri 2026-11-20 00:30 UTC | 20261001163000.a23b@lumenfield.io\n"
        "(1 row)")
COUNT = "n\n3\n(1 row)"


def test_an_id_no_tool_returned_is_cut_and_a_seen_one_kept():
    checked = ground("The board dinner [msg:20261001163000.a23b@lumenfield.io, msg:20261220.0000@nowhere].",
                     [ROWS], NOW, NEW_YORK)
    assert checked.answer == "The board dinner [msg:20261001163000.a23b@lumenfield.io]."
    assert checked.removed_citations == ["20261220.0000@nowhere"] and checked.fallback is None


def test_a_time_in_the_rows_passes_in_utc_or_in_the_readers_zone():
    for answer in ("Fri 2026-11-20 00:30 UTC [msg:20261001163000.a23b@lumenfield.io]",
                   "Thursday, November 19 at 7:30 PM [msg:20261001163000.a23b@lumenfield.io]",
                   "On November 19 [msg:20261001163000.a23b@lumenfield.io]",
                   "At 2026-11-20 00:30:00+00:00 [msg:20261001163000.a23b@lumenfield.io]",  # ISO with its offset
                   "At 2026-11-19T19:30-05:00 [msg:20261001163000.a23b@lumenfield.io]"):
        checked = ground(answer, [ROWS], NOW, NEW_YORK)
        assert checked.fallback is None and checked.answer == answer, answer


def test_an_iso_instant_at_another_moment_is_unfound():
    checked = ground("At 2026-11-20T00:30:00+01:00 [msg:20261001163000.a23b@lumenfield.io]", [ROWS], NOW, NEW_YORK)
    assert checked.fallback == "unfound values" and checked.unfound == ["2026-11-20T00:30:00+01:00"]


def test_an_impossible_time_is_unfound_not_a_crash():
    checked = ground("At 2026-11-20 24:30 UTC [msg:20261001163000.a23b@lumenfield.io]", [ROWS + "\nsee 2026-11-20 24:30 UTC"],
                     NOW, NEW_YORK)
    assert checked.fallback == "unfound values" and checked.unfound == ["2026-11-20 24:30 UTC"]


def test_an_invented_date_gives_the_rows_instead():
    checked = ground("The board dinner is on February 10, 2026 at 10:00 AM.", [ROWS], NOW, NEW_YORK)
    assert checked.fallback == "unfound values" and checked.unfound == ["February 10, 2026 at 10:00 AM"]
    assert checked.answer == ("What the mailbox holds:\ntitle | starts_at | message_id\n"
                              "Board dinner | Fri 2026-11-20 00:30 UTC | 20261001163000.a23b@lumenfield.io"
                              " [msg:20261001163000.a23b@lumenfield.io]")
    again = ground(checked.answer, [ROWS], NOW, NEW_YORK)  # the rendering passes the check it replaced
    assert again.fallback is None and again.answer == checked.answer


def test_numbers_must_come_from_a_tool_result():
    assert ground("You have 3 events next week.", [COUNT], NOW).fallback is None
    checked = ground("You have 7 events next week.", [COUNT], NOW)
    assert checked.unfound == ["7"] and checked.fallback == "unfound values"


def test_degenerate_repetition_never_reaches_the_user():
    checked = ground("[msg:20261220100000.000000000000.0000000000000000000000]", [ROWS], NOW)
    assert checked.fallback == "repetition" and "0000000000000" not in checked.answer
    assert ground("dinner dinner dinner dinner dinner dinner dinner", [ROWS], NOW).fallback == "repetition"


def test_without_rows_the_fallback_says_the_mailbox_does_not_say():
    checked = ground("It is on 2026-12-24.", ["title | starts_at\n(no rows)"], NOW)
    assert checked.answer == NO_ANSWER and checked.fallback == "unfound values"
    assert ground(NO_ANSWER, [], NOW).answer == NO_ANSWER


def _call(query: str) -> dict:
    return {"id": "c1", "type": "function", "function": {"name": "sql", "arguments": json.dumps({"query": query})}}


def test_the_loop_answers_with_the_rows_when_the_model_invents_a_time(agent_store):
    model = ReplayModel([
        {"role": "assistant", "content": None,
         "tool_calls": [_call("SELECT message_id, subject FROM messages WHERE subject ILIKE '%pickle%'")]},
        {"role": "assistant", "content": "Sunday 15 March at 11:00 [msg:pickle-1@club.example]"},
    ])
    session = StoreSession(agent_store)
    try:
        ctx = ToolContext(store=session, now=datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc))
        result = run_agent("When is the pickle game?", model, all_tools(), ctx, "teacher")
        trace = get_trace(session.reader(), result.trace_id)
    finally:
        session.close()
    assert result.answer == ("What the mailbox holds:\nmessage_id | subject\n"
                             "pickle-1@club.example | Pickleball game moved [msg:pickle-1@club.example]")
    assert result.fallback == "unfound values" and result.unfound == ["Sunday 15 March at 11:00"]
    assert result.citations == ["pickle-1@club.example"]
    assert trace.final_answer == result.answer and trace.metadata.fallback == "unfound values"
    assert trace.messages[-1]["content"].startswith("Sunday 15 March")  # the model's own words stay in the trace


def test_quoted_rows_pass_even_when_the_rows_repeat_themselves():
    rows = "title | notes\n" + "\n".join(["Quiz night | ---- ---- ---- ---- ---- ----"] * 2) + "\n(2 rows)"
    checked = ground("The quiz night is on 2026-12-24.", [rows], NOW)
    assert checked.fallback == "unfound values" and checked.answer.startswith("What the mailbox holds:\ntitle | notes")
    assert ground(checked.answer, [rows], NOW).fallback is None
