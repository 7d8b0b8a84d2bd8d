"""Chat feedback as preference pairs, without a model: which marked answers pair, with what, and why not."""

from __future__ import annotations

from quarry.store.session import StoreSession
from quarry.store.traces import Trace, insert_trace, set_feedback
from quarry.teach.feedback_pairs import feedback_pairs


def _judged(store: StoreSession, question: str, answer: str, shown: str, verdict: str) -> None:
    trace = Trace(model="replay", question=question, final_answer=shown, messages=[
        {"role": "system", "content": "prompt"}, {"role": "user", "content": question},
        {"role": "assistant", "content": answer}])
    with store.writer() as con:
        set_feedback(con, insert_trace(con, trace), verdict)


def test_good_and_bad_to_a_reworded_question_pair_as_the_user_saw_them(agent_store):
    store = StoreSession(agent_store)
    try:
        _judged(store, "When is the pickle game?", "Monday.", "Monday.", "bad")
        _judged(store, "When is the pickle game happening?", "14 March 10:00", "Sat 14 Mar, 10:00", "good")
        found = feedback_pairs(store, teacher=None)
    finally:
        store.close()
    (pair,) = found.pairs
    assert found.good_vs_bad == 1 and found.bad_vs_teacher == 0 and found.unpaired == {}
    assert pair.source == "feedback" and pair.question == "When is the pickle game?"
    assert pair.chosen["messages"][1]["content"] == "When is the pickle game?", "both sides answer one prompt"
    assert pair.chosen["messages"][-1]["content"] == "Sat 14 Mar, 10:00", "the answer as shown, not the raw words"


def test_a_lone_bad_without_a_usable_teacher_stays_unpaired_and_says_why(agent_store):
    store = StoreSession(agent_store)
    try:
        _judged(store, "Who sent the budget draft?", "Nobody.", "Nobody.", "bad")
        without = feedback_pairs(store, teacher=None)
        missing = feedback_pairs(store, teacher="local:no-such-model")
    finally:
        store.close()
    assert without.pairs == [] and without.unpaired == {"no_good_answer_and_no_teacher": 1}
    assert missing.pairs == [] and missing.unpaired == {"teacher_unavailable": 1}
