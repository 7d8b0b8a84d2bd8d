"""Training records for the LoRA extraction adapter (evals.extraction_traces): the extractor's own prompt, and
the message's gold facts as its JSON answer, from train mailboxes only."""

import json

from quarry.evals.corpora import mailboxes
from quarry.evals.extraction_traces import extraction_records
from quarry.extract.facts import normalize
from quarry.extract.llm_extractor import SYSTEM, LLMFacts


def test_each_record_is_the_extractors_prompt_and_the_messages_gold_facts_in_its_schema():
    (school,) = [m for m in mailboxes("train") if m.name == "school"]
    records = extraction_records([school])
    assert len(records) > 30
    statuses, empty, dated, events = set(), 0, 0, 0
    for record in records:
        system, user, reply = record["messages"]
        assert system["content"].startswith(SYSTEM) and user["role"] == "user" and reply["role"] == "assistant"
        answer = LLMFacts.model_validate_json(reply["content"])
        facts = [*answer.events, *answer.deadlines, *answer.action_items]
        empty += not facts
        body = normalize(user["content"])
        for fact in facts:
            assert normalize(fact.evidence) in body, fact.evidence
        for event in answer.events:
            statuses.add(event.status)
            assert not event.when or normalize(event.when) in body, event.when
            events += 1
            dated += bool(event.when)
    # gold phrases join distant words with " ... "; the reply still gives words the date check can read
    assert dated >= 0.9 * events, (dated, events)
    assert {"scheduled", "moved", "cancelled"} <= statuses  # moves and cancellations are taught as such
    assert 0 < empty < len(records)  # mail with cues and no fact teaches the empty answer
    assert {r["metadata"]["template"] for r in records} == {"extract"}
    assert json.loads(records[0]["messages"][2]["content"]).keys() == LLMFacts.model_fields.keys()
