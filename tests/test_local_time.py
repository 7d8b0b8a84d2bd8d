"""Answers in the reader's zone, with the event's own zone beside it; `quarry ask` shows them so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from quarry.agent.local_time import localize, user_zone
from quarry.errors import ConfigError

QUARRY = str(Path(sys.executable).with_name("quarry"))


def new_york(_instant):
    return "America/New_York"


@pytest.mark.parametrize("written", ["2026-11-20 00:30:00+00:00", "2026-11-20T00:30:00Z", "2026-11-20 00:30 UTC",
                                     "2026-11-20T01:30+01:00", "2026-11-20 00:30:00+0000", "Fri 2026-11-20 00:30 UTC"])
def test_an_instant_in_any_iso_form_is_shown_in_the_readers_zone_with_the_events_own(written):
    shown = localize(f"The board dinner is at {written} [msg:a@b]", ZoneInfo("Europe/Berlin"), new_york)
    assert shown == "The board dinner is at Fri 20 Nov 2026, 01:30 CET (Thu 19 Nov, 19:30 New York time) [msg:a@b]"


def test_the_events_zone_is_left_out_when_it_keeps_the_readers_clock():
    shown = localize("at 2026-11-20 00:30:00+00:00", ZoneInfo("America/Toronto"), new_york)
    assert shown == "at Thu 19 Nov 2026, 19:30 EST"


def test_daylight_saving_is_that_days_offset_and_bare_dates_stay():
    berlin = ZoneInfo("Europe/Berlin")
    assert localize("2026-03-29 00:30:00+00:00 and 2026-03-29 01:30:00+00:00", berlin) == \
        "Sun 29 Mar 2026, 01:30 CET and Sun 29 Mar 2026, 03:30 CEST"
    assert localize("due 2026-03-29, call at 10:00", berlin) == "due 2026-03-29, call at 10:00"


def test_a_zone_name_that_does_not_exist_is_a_config_error():
    with pytest.raises(ConfigError, match="Mars/Olympus"):
        user_zone("Mars/Olympus")
    assert user_zone("Asia/Kolkata") == ZoneInfo("Asia/Kolkata")


def test_ask_shows_the_answer_in_the_configured_zone_and_keeps_the_models_words(agent_store, tmp_path):
    from quarry.store.db import connect

    con = connect(agent_store)
    con.execute("INSERT INTO events (fact_id, title, starts_at, timezone, message_id, evidence, extractor, "
                "extractor_version) VALUES ('ev1', 'Pickle game', TIMESTAMPTZ '2026-03-14 14:00:00+00', "
                "'America/New_York', 'pickle-1@club.example', 'Saturday 14 March at 10:00', 'test', '1')")
    con.close()
    call = {"id": "c1", "type": "function",
            "function": {"name": "sql", "arguments": json.dumps({"query": "SELECT title, starts_at, message_id FROM events"})}}
    replay = tmp_path / "pickle.json"
    replay.write_text(json.dumps({"messages": [
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "assistant", "content": "The Pickle game is at 2026-03-14 14:00:00+00:00 [msg:pickle-1@club.example]"},
    ]}))
    env = {**os.environ, "QUARRY_HOME": str(tmp_path / "home"), "QUARRY_TIMEZONE": "Europe/London"}
    run = subprocess.run([QUARRY, "ask", "When is the pickle game?", "--model", f"replay:{replay}", "--json",
                          "--db", str(agent_store)], capture_output=True, text=True, timeout=120, env=env)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["answer"] == "The Pickle game is at 2026-03-14 14:00:00+00:00 [msg:pickle-1@club.example]"
    assert out["shown"] == ("The Pickle game is at Sat 14 Mar 2026, 14:00 GMT (Sat 14 Mar, 10:00 New York time) "
                            "[msg:pickle-1@club.example]")
