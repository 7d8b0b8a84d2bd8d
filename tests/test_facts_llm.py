"""The LLM extractor: repair and drop of invalid output (replayed answers), the extraction cache, an
end-to-end run on real local inference (llama.cpp, qwen2.5-coder-0.5b: SmolLM2-135M returns no usable fact
on these messages) that must store facts whose evidence is in the message, and concurrent requests to a
model served by `quarry serve`."""

import json

import pytest

from quarry.extract.extraction import extract_pending, load_pending, redo
from quarry.extract.facts import evidence_occurs
from quarry.extract.llm_extractor import PROMPT_SCHEMA, build_messages, split_body
from quarry.llm.replay import ReplayModel

GOOD = {
    "events": [{"title": "Budget review", "when": "Monday at 10am", "location": "Room 4", "status": "scheduled",
                "evidence": "The budget review is Monday at 10am in Room 4."}],
    "deadlines": [{"task": "send the slides", "due": "Friday", "owner": "bob@club.example",
                   "evidence": "Please send the slides by Friday."}],
    "action_items": [],
    "entities": [{"name": "Bob Stone", "kind": "person"}],
    "topics": ["budget"],
}
BODY = "Hi Bob,\nThe budget review is Monday at 10am in Room 4.\nPlease send the slides by Friday."


def answers(*texts: str) -> ReplayModel:
    """A model that replays stored answers in order (what a real model once said)."""
    return ReplayModel([{"role": "assistant", "content": t} for t in texts], model_id="replay:stored")


def test_invalid_output_is_repaired_once(fact_mailbox):
    fact_mailbox.add("m1@x", BODY, sent="2026-10-23T10:00:00+02:00")
    model = answers('{"events": [{"title": "Budget review"', json.dumps(GOOD))
    summary = extract_pending(fact_mailbox.con, "llm", chat_model=model)
    assert (summary.extracted, summary.dropped, summary.model_calls) == (1, 0, 2)
    row = fact_mailbox.con.execute("SELECT title, starts_at, phrase, model FROM events").fetchone()
    # "Monday at 10am" from a +0200 Friday resolves after the DST switch: 09:00 UTC.
    assert row[0] == "Budget review" and row[1].isoformat() == "2026-10-26T09:00:00+00:00"
    assert row[2:] == ("Monday at 10am", "replay:stored")
    assert fact_mailbox.con.execute("SELECT task FROM deadlines").fetchall() == [("send the slides",)]


def test_output_invalid_twice_is_dropped_and_the_run_goes_on(fact_mailbox):
    fact_mailbox.add("bad@x", "Lunch tomorrow at noon?", sent="2026-10-21T09:00:00+02:00")
    fact_mailbox.add("good@x", BODY, sent="2026-10-23T10:00:00+02:00")
    wrong_type = json.dumps({"events": [{"title": "Lunch", "status": "maybe", "evidence": "Lunch"}]})
    model = answers("not json at all", wrong_type, json.dumps(GOOD))
    summary = extract_pending(fact_mailbox.con, "llm", chat_model=model)
    assert (summary.items, summary.dropped, summary.extracted) == (2, 1, 1)
    assert summary.errors[0].startswith("bad@x: invalid model output after one repair: events.0.status")
    log = dict(fact_mailbox.con.execute("SELECT item_id, outcome FROM extraction_log").fetchall())
    assert log == {"bad@x": "dropped", "good@x": "extracted"}


def test_invented_evidence_and_dates_are_rejected(fact_mailbox):
    fact_mailbox.add("m@x", BODY, sent="2026-10-23T10:00:00+02:00")
    invented = dict(GOOD, deadlines=[{"task": "wire money", "due": "tomorrow",
                                      "evidence": "Wire $5,000 to the new account tomorrow."}],
                    events=[dict(GOOD["events"][0], when="2026-12-24 18:00")])
    summary = extract_pending(fact_mailbox.con, "llm", chat_model=answers(json.dumps(invented)))
    assert summary.rejected_evidence == 1
    assert fact_mailbox.con.execute("SELECT count(*) FROM deadlines").fetchone()[0] == 0
    # The event's evidence is real, but its date was not in the message: kept without a time.
    assert fact_mailbox.con.execute("SELECT starts_at, confidence FROM events").fetchone() == (None, 0.5)


def test_prefilter_skips_messages_without_cues(fact_mailbox):
    fact_mailbox.add("chat@x", "Thanks, the photos look great!")
    summary = extract_pending(fact_mailbox.con, "llm", chat_model=answers())
    assert (summary.skipped_prefilter, summary.model_calls) == (1, 0)


def test_long_bodies_are_split_and_the_prompt_carries_schema_and_reference(fact_mailbox):
    parts = split_body("\n\n".join(f"Paragraph {i}: " + "words " * 60 for i in range(12)), limit=800)
    assert len(parts) > 3 and all(len(p) <= 800 for p in parts)
    fact_mailbox.add("m@x", BODY, subject="Budget", sent="2026-10-23T10:00:00+02:00")
    src, = load_pending(fact_mailbox.con, "llm", "x")
    system, user = (m["content"] for m in build_messages(src, parts[1], 1, len(parts)))
    assert "Reference date: Friday 2026-10-23 10:00 (UTC+0200)" in user
    assert "Subject: Budget" in user and f"part 2 of {len(parts)}" in user and parts[1] in user
    assert PROMPT_SCHEMA in system and '"title":{"maxLength":80' in PROMPT_SCHEMA


class CountingModel:
    """Wraps a real model and counts the chat requests that reach it."""

    def __init__(self, inner):
        self.inner = inner
        self.model_id = inner.model_id
        self.calls = 0

    def chat(self, messages, **kwargs):
        self.calls += 1
        return self.inner.chat(messages, **kwargs)


LOCAL = "local:qwen2.5-coder-0.5b"


@pytest.fixture(scope="module")
def local_model():
    from quarry.llm.specs import open_model

    return open_model(LOCAL)


def test_real_local_model_end_to_end_then_cache_hit(fact_mailbox, local_model):
    add = fact_mailbox.add
    add("a@x", "Team lunch is tomorrow at 12:30 at Sal's Pizza.", subject="Lunch")
    add("b@x", "Can you review the contract by Friday?", subject="Contract")
    add("c@x", "The board meeting moved to Thursday 3pm.", subject="Board meeting")
    texts = {src.item_id: src.text() for src in load_pending(fact_mailbox.con, "llm", LOCAL)}
    model = CountingModel(local_model)
    first = extract_pending(fact_mailbox.con, "llm", LOCAL, chat_model=model)
    assert first.items == 3 and first.extracted + first.dropped == 3 and first.extracted >= 1
    assert 3 <= model.calls <= 6  # one request each, plus at most one repair each
    stored = fact_mailbox.con.execute(
        "SELECT message_id, evidence, extractor, model FROM events UNION ALL SELECT message_id, evidence, extractor,"
        " model FROM deadlines UNION ALL SELECT message_id, evidence, extractor, model FROM action_items").fetchall()
    assert len(stored) >= 1, "the model stored no fact from three messages that each state one"
    assert len(stored) == sum(first.facts.get(t, 0) for t in ("events", "deadlines", "action_items"))
    for message_id, evidence, extractor, spec in stored:
        assert evidence_occurs(evidence, texts[message_id]) and (extractor, spec) == ("llm", LOCAL)
    before = fact_mailbox.con.execute("SELECT count(*) FROM events").fetchone()[0]
    calls = model.calls
    redo(fact_mailbox.con, "llm", LOCAL)
    again = extract_pending(fact_mailbox.con, "llm", LOCAL, chat_model=model)
    assert model.calls == calls, "re-extraction must not call the model"
    assert again.cache_hits == first.extracted and again.model_calls == 0
    assert fact_mailbox.con.execute("SELECT count(*) FROM events").fetchone()[0] == before


class InFlight:
    """Wraps the real OpenAI-compatible backend and records how many requests are in flight at once."""

    def __init__(self, inner):
        import threading

        self.inner, self.model_id = inner, inner.model_id
        self.active = self.peak = self.calls = 0
        self.lock = threading.Lock()

    def chat(self, messages, **kwargs):
        with self.lock:
            self.active += 1
            self.calls += 1
            self.peak = max(self.peak, self.active)
        try:
            return self.inner.chat(messages, **kwargs)
        finally:
            with self.lock:
                self.active -= 1


def test_a_served_model_gets_concurrent_requests(fact_mailbox, monkeypatch, tmp_path, quarry_server):
    """Through `quarry serve` (a real server on 127.0.0.1), requests go out `llm_concurrency` (4) at once."""
    from quarry.llm.specs import open_model

    monkeypatch.setenv("QUARRY_HOME", str(tmp_path))  # no user config.toml: the default concurrency
    spec = f"{quarry_server}#smol"
    for i in range(6):
        fact_mailbox.add(f"m{i}@x", BODY, sent="2026-10-23T10:00:00+02:00", thread=f"t{i}")
    counted = InFlight(open_model(spec))
    summary = extract_pending(fact_mailbox.con, "llm", spec, chat_model=counted)
    assert summary.items == 6 and summary.extracted + summary.dropped == 6
    assert counted.calls == summary.model_calls >= 6
    assert counted.peak == 4  # the configured default, llm_concurrency
    stored = fact_mailbox.con.execute("SELECT DISTINCT model FROM extraction_log").fetchall()
    assert stored == [(spec,)]
