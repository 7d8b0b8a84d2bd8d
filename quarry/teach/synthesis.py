"""Questions with known answers, synthesized from the facts in a store, for teacher traces.

Templates (`question_templates`) take turns so every kind of question is represented; each fact's
wordings are spread out, and held-out (evaluation) or already-traced questions are skipped and counted.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from typing import Any

import duckdb
from pydantic import BaseModel

from quarry.evals.answer_scoring import question_hash
from quarry.evals.gold import GoldQuestion
from quarry.teach.question_templates import TEMPLATES, Instance, Template, ToolStep


class SynthQuestion(BaseModel):
    """A synthesized question: gold-format record plus where it came from and how to prove it."""

    gold: GoldQuestion
    template: str
    steps: list[ToolStep]
    statement: str

    @property
    def dedupe_key(self) -> str:
        """Normalized question + answer: two records with the same key teach the same thing."""
        return question_hash(f"{self.gold.question} => {self.gold.answer}")


def template_names() -> list[str]:
    return [t.name for t in TEMPLATES]


def _candidate_rows(con: duckdb.DuckDBPyConnection, template: Template) -> list[dict[str, Any]]:
    cursor = con.execute(template.candidates, list(template.params))
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, values)) for values in cursor.fetchall()]


def instances(con: duckdb.DuckDBPyConnection, template: Template) -> list[Instance]:
    """Every question the store supports for one template (one per candidate fact)."""
    built = (template.build(row) for row in _candidate_rows(con, template))
    return [inst for inst in built if inst is not None]


def _records(template: Template, inst: Instance) -> Iterator[SynthQuestion]:
    for wording in template.wordings:
        question = wording.format(**inst.slots)
        gold = GoldQuestion(
            id=f"{template.name}-{question_hash(question)[:12]}",
            question=question,
            answer=inst.answer,
            answer_type=template.answer_type,
            accept=inst.accept,
            message_ids=inst.message_ids,
            sql=next((s.arguments["query"] for s in inst.steps if s.tool == "sql"), None),
        )
        statement = inst.statement[:1].upper() + inst.statement[1:]
        yield SynthQuestion(gold=gold, template=template.name, steps=inst.steps, statement=statement)


class Synthesis(BaseModel):
    """The questions chosen, and how many candidates were held out or already known."""

    questions: list[SynthQuestion]
    heldout_dropped: int = 0
    duplicates: int = 0


def synthesize(
    con: duckdb.DuckDBPyConnection, n: int, seed: int, heldout: set[str] = frozenset(), known: set[str] = frozenset()
) -> Synthesis:
    """Up to `n` distinct questions, templates taking turns, wordings shuffled by `seed`.

    `heldout` holds question hashes of evaluation questions: never emitted, counted. `known` holds
    dedupe keys already in the trace store: skipped, counted.
    """
    rng = random.Random(seed)
    pools: list[list[SynthQuestion]] = []
    for template in TEMPLATES:
        records = [rec for inst in instances(con, template) for rec in _records(template, inst)]
        rng.shuffle(records)
        pools.append(_spread_wordings(records))
    result = Synthesis(questions=[])
    seen = set(known)
    while len(result.questions) < n and any(pools):
        for pool in pools:
            while pool and len(result.questions) < n:
                rec = pool.pop(0)
                if question_hash(rec.gold.question) in heldout:
                    result.heldout_dropped += 1
                elif rec.dedupe_key in seen:
                    result.duplicates += rec.dedupe_key in known
                else:
                    seen.add(rec.dedupe_key)
                    result.questions.append(rec)
                    break
    return result


def _spread_wordings(records: list[SynthQuestion]) -> list[SynthQuestion]:
    """Reorder so every fact's first wording comes before any fact's second one (stable otherwise)."""
    seen: Counter[str] = Counter()
    ranked = []
    for rec in records:
        ranked.append((seen[rec.statement], rec))
        seen[rec.statement] += 1
    return [rec for _, rec in sorted(ranked, key=lambda pair: pair[0])]
