"""Training traces from the train mailboxes of the corpus family, one JSONL for `finetune.train`.

Each train mailbox is ingested with its gold facts into its own store (so traces teach tool use, not
extraction errors) and asked oracle and/or real-teacher questions; only verified traces are kept. The
shipped adapter and the student comparison train on the same call, so their data differ only by its
arguments.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from pydantic import BaseModel

from quarry.errors import InputError
from quarry.evals.corpora import Mailbox, mailboxes
from quarry.evals.gold import build_gold_store
from quarry.store.session import StoreSession
from quarry.store.traces import export_jsonl
from quarry.teach.teacher import generate_traces


class FamilyTraces(BaseModel):
    """The training file and what is in it, for a model card's provenance."""

    path: Path
    per_mailbox: dict[str, int]
    per_teacher: dict[str, int]
    per_template: dict[str, int]


def train_mailboxes(names: list[str] | None = None) -> list[Mailbox]:
    """The named train mailboxes; by default every one but `sample` (the demo asks about its board dinner)."""
    boxes = mailboxes("train")
    if not names:
        return [box for box in boxes if box.name != "sample"]
    unknown = sorted(set(names) - {box.name for box in boxes})
    if unknown:
        raise InputError(f"not train mailboxes: {', '.join(unknown)} (see corpora/split.toml)")
    return [box for box in boxes if box.name in names]


def family_traces(work: Path, boxes: list[Mailbox], *, oracle_n: int, teacher_n: int = 0,
                  teacher: str = "local:qwen2.5-coder-1.5b", seed: int = 0,
                  log=lambda line: None) -> FamilyTraces:
    """Verified traces of every mailbox in `boxes` (stores kept under `work`), as `work`/traces.jsonl.

    Every verified trace in a work store is training data, also those of earlier calls on the same `work`.
    """
    lines: list[str] = []
    per_mailbox: dict[str, int] = {}
    for box in boxes:
        db = work / f"{box.name}.duckdb"
        if not db.exists():
            build_gold_store(box.root, db)
        store = StoreSession(db)
        try:
            if oracle_n:
                generate_traces(store, "oracle", oracle_n, seed)
            if teacher_n:
                real = generate_traces(store, teacher, teacher_n, seed + 1, paraphrase=True)
                log(f"{box.name}: teacher {teacher}: kept {real.kept}/{real.synthesized}, rejected {real.rejected}")
            part = work / f"{box.name}.traces.jsonl"
            per_mailbox[box.name] = export_jsonl(store.reader(), part, verified_only=True)
            lines += [line for line in part.read_text(encoding="utf-8").splitlines() if line]
        finally:
            store.close()
    out = work / "traces.jsonl"
    out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    metadata = [json.loads(line)["metadata"] for line in lines]
    return FamilyTraces(path=out, per_mailbox=per_mailbox,
                        per_teacher=dict(Counter(m.get("teacher", "chat") for m in metadata)),
                        per_template=dict(Counter(m.get("template", "?") for m in metadata)))
