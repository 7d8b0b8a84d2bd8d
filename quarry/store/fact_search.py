"""Facts found by what a person calls them: events, deadlines or action items ranked by BM25 of the words.

A small model asked about "Mum's dentist appointment" will not guess the ILIKE word that matches the
stored title "Dentist (Mum)". Here the engine does the matching, as TypeAgent's structured RAG does: each
fact has two fields, its name (title or task) and the rest (place, owner, the evidence sentence), both
tokenized by the same SQL expression as the full-text index. Each field is scored by BM25 over the facts
of that kind and the name counts twice, so a long evidence sentence neither dilutes a name match nor
outranks it. Ties go to facts stated in a message (they can be cited). Question words ("when",
"where", ...) are dropped from the text beside the index's own stopwords, since they name no fact.
"""

from __future__ import annotations

from typing import Literal

import duckdb

from quarry.store.query import QueryResult
from quarry.store.search import B, K1, tokens_sql

FactKind = Literal["event", "deadline", "action_item"]

#: Per kind: the view, the columns returned (as the sql views name them), the name, the rest of the text.
_KINDS: dict[str, tuple[str, str, str, str]] = {
    "event": ("events", "title, starts_at, ends_at, all_day, status, location, message_id, updated_by",
              "title", "coalesce(location, '') || ' ' || evidence"),
    "deadline": ("deadlines", "task, due_at, owner, message_id", "task", "coalesce(owner, '') || ' ' || evidence"),
    "action_item": ("action_items", "task, owner, due_at, status, message_id", "task",
                    "coalesce(owner, '') || ' ' || evidence"),
}
#: How much a name match counts against a match in the rest of the text.
NAME_WEIGHT = 2.0
_QUESTION_WORDS = ("when", "what", "where", "who", "whom", "which", "how", "does", "did", "am", "still")


def find_facts(con: duckdb.DuckDBPyConnection, text: str, kind: FactKind, k: int = 3) -> QueryResult:
    """The `k` facts of `kind` that best match `text`, best first (no rows when no word matches)."""
    view, columns, name, rest = _KINDS[kind]
    words = ", ".join(f"'{w}'" for w in _QUESTION_WORDS)
    query_terms = f"list_filter(list_distinct({tokens_sql('?')}), lambda t: NOT list_contains([{words}], t))"
    sql = f"""
WITH docs AS (SELECT fact_id, 'name' AS field, {tokens_sql(name)} AS tokens FROM {view}
              UNION ALL SELECT fact_id, 'rest', {tokens_sql(rest)} FROM {view}),
q AS (SELECT unnest({query_terms}) AS term),
postings AS (SELECT fact_id, field, term, count(*) AS tf
             FROM (SELECT fact_id, field, unnest(tokens) AS term FROM docs) JOIN q USING (term) GROUP BY ALL),
stats AS (SELECT field, count(*) AS n, greatest(avg(len(tokens)), 1) AS avgdl FROM docs GROUP BY field),
df AS (SELECT field, term, count(*) AS df FROM postings GROUP BY ALL),
scored AS (
    SELECT p.fact_id, sum(CASE p.field WHEN 'name' THEN {NAME_WEIGHT} ELSE 1 END
                          * ln(1 + (s.n - df.df + 0.5) / (df.df + 0.5))
                          * p.tf * ({K1} + 1) / (p.tf + {K1} * (1 - {B} + {B} * len(d.tokens) / s.avgdl))) AS score
    FROM postings p JOIN df USING (field, term) JOIN docs d USING (fact_id, field) JOIN stats s USING (field)
    GROUP BY p.fact_id
)
SELECT {columns} FROM scored JOIN {view} USING (fact_id)
ORDER BY score DESC, message_id IS NULL, fact_id LIMIT {int(k)}
"""
    cursor = con.execute(sql, [text])
    return QueryResult(columns=[d[0] for d in cursor.description], rows=cursor.fetchall())
