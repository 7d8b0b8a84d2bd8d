"""Classic RAG baseline: chunk, embed with the real all-MiniLM-L6-v2 from its PyPI package, retrieve in DuckDB."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from quarry.evals import rag_baseline
from quarry.llm import embedding
from quarry.store.db import connect

MESSAGES = [
    ("pickle@club", "Pickleball", "The pickleball match moved to Saturday at 10 on the Riverside courts. Bring paddles."),
    ("budget@work", "Budget", "Dana will send the quarterly budget spreadsheet to finance by Friday noon."),
    ("dinner@work", "Board dinner", "The board dinner is at Luigi's trattoria on Thursday evening, 7:30 pm."),
    ("dentist@clinic", "Reminder", "Your dental check-up with Dr. Moss is booked for next Tuesday morning."),
    ("long@news", "Newsletter", " ".join(f"Paragraph {i} about gardening, compost and tomato seedlings." for i in range(60))),
]


@pytest.fixture(scope="module")
def rag_store():
    con = connect(":memory:")
    for mid, subject, body in MESSAGES:
        con.execute("INSERT INTO messages (message_id, thread_id, source_id, subject, body_text, body_clean, "
                    "content_hash) VALUES (?, ?, 'src', ?, ?, ?, ?)", [mid, mid, subject, body, body, mid])
    con.execute("INSERT INTO chunks VALUES ('doc1:0', 'document', 'doc1', 0, "
                "'Office wifi password rotation: IT changes the guest network key every first Monday.')")
    yield con
    con.close()


def test_embedding_model_loads_offline_from_the_package():
    assert (embedding.model_dir() / "model.safetensors").is_file()
    vectors = embedding.embed(["hello world", "a second text"])
    assert len(vectors) == 2 and len(vectors[0]) == embedding.DIMENSIONS
    assert abs(sum(x * x for x in vectors[0]) - 1.0) < 1e-4  # normalized


def test_index_chunks_messages_with_overlap_and_stores_float384(rag_store):
    embedded = rag_baseline.index_chunks(rag_store)
    chunks = rag_store.execute("SELECT parent_id, count(*) FROM chunks GROUP BY parent_id").fetchall()
    assert dict(chunks)["long@news"] > 1  # the long message was cut into several fixed-size chunks
    parts = [r[0] for r in rag_store.execute(
        "SELECT text FROM chunks WHERE parent_id = 'long@news' ORDER BY seq").fetchall()]
    assert parts[0][-40:].split()[-1] in parts[1][:200]  # consecutive chunks overlap
    assert embedded == sum(n for _, n in chunks)
    column_type = rag_store.execute(
        "SELECT data_type FROM information_schema.columns WHERE table_name = 'chunk_embeddings' "
        "AND column_name = 'embedding'").fetchone()[0]
    assert column_type == "FLOAT[384]"
    assert rag_baseline.index_chunks(rag_store) == 0  # incremental: nothing new to embed


@pytest.mark.parametrize("query,parent", [
    ("when is the pickle ball game and where", "pickle@club"),
    ("which restaurant hosts the directors' meal", "dinner@work"),
    ("what is the appointment with the dentist", "dentist@clinic"),
    ("how often is the guest wifi key changed", "doc1"),
])
def test_the_right_chunk_ranks_first_for_a_paraphrase(rag_store, query, parent):
    rag_baseline.index_chunks(rag_store)
    passages = rag_baseline.retrieve(rag_store, query, k=3)
    assert passages[0].parent_id == parent
    assert passages[0].score > passages[1].score


def test_rag_prompt_carries_passages_sources_and_question(rag_store):
    from datetime import datetime, timezone

    rag_baseline.index_chunks(rag_store)
    passages = rag_baseline.retrieve(rag_store, "board dinner venue", k=2)
    messages = rag_baseline.rag_messages("Where is the board dinner?", passages, datetime(2026, 3, 1, tzinfo=timezone.utc))
    assert messages[0]["role"] == "system" and "does not say" in messages[0]["content"]
    assert "source: dinner@work" in messages[1]["content"] and messages[1]["content"].endswith("Where is the board dinner?")


def test_rag_vs_structured_command_on_the_small_local_model(agent_store, smollm2_gguf, tmp_path):
    """Mechanics of the comparison: both sides run on the same questions, ratios and a PNG come out."""
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"id": "r1", "question": "Where is the pickle game?", "answer": "Riverside courts",
                                     "answer_type": "text"}) + "\n", encoding="utf-8")
    out = tmp_path / "cmp"
    run = subprocess.run(
        [str(Path(sys.executable).parent / "quarry"), "eval", "rag-vs-structured", "-m", "local:smollm2-135m",
         "-q", str(questions), "--limit", "1", "--max-steps", "1", "--max-tokens", "24", "--profile", "student",
         "--top-k", "2", "--db", str(agent_store), "--out", str(out), "--json"],
        capture_output=True, text=True, timeout=900,
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert {"structured", "classic", "token_ratio", "latency_ratio", "accuracy_delta"} <= set(data)
    assert data["structured"]["n"] == data["classic"]["n"] == 1
    assert data["token_ratio"] == pytest.approx(
        data["structured"]["prompt_tokens_mean"] / data["classic"]["prompt_tokens_mean"])
    assert data["accuracy_delta"] == data["structured"]["accuracy"] - data["classic"]["accuracy"]
    classic = json.loads((out / "local_smollm2-135m.classic.jsonl").read_text())
    assert classic["mode"] == "classic" and classic["steps"] == 1 and classic["prompt_tokens"] > 0
    assert classic["retrieved_chars"] > 0 and data["retrieved_ratio"] == pytest.approx(
        data["structured"]["retrieved_chars_mean"] / data["classic"]["retrieved_chars_mean"])
    assert (out / "rag_vs_structured.png").read_bytes()[:4] == b"\x89PNG"
