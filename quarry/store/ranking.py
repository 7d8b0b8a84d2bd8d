"""BM25 over a few named text fields of any rows, in one query: the engine matches what a person calls a thing.

A small model asked about "Mum's dentist appointment" or "my accountant" will not guess the ILIKE word that
matches a stored title or a display name; the lookup tools hand the words to this ranker instead, as TypeAgent's
structured RAG does. Each field (a name, the rest of the text) is tokenized by the same SQL expression as the
full-text index and scored by BM25 over the rows on its own, weighted, and summed, so a long text neither
dilutes a name match nor outranks it. Question words ("when", "where", ...) are dropped from the query beside
the index's own stopwords, since they name nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from quarry.store.query import QueryResult
from quarry.store.search import B, K1, tokens_sql

QUESTION_WORDS = ("when", "what", "where", "who", "whom", "which", "how", "does", "did", "am", "still")


@dataclass(frozen=True)
class Field:
    """One scored text field: a SQL expression over the source rows, and how much a match in it counts."""

    name: str
    text_sql: str
    weight: float = 1.0


def rank_rows(con: duckdb.DuckDBPyConnection, source: str, key: str, fields: Sequence[Field], columns: str,
              text: str, *, k: int, tie: str, params: Sequence[Any] = (), drop: Sequence[str] = QUESTION_WORDS,
              ) -> QueryResult:
    """The `k` rows of the SELECT `source` (unique on `key`) whose `fields` best match `text`, best first;
    `columns` are read from the source, `tie` orders equal scores. No rows when no word of `text` matches."""
    words = ", ".join(f"'{w}'" for w in drop)
    query_terms = f"list_filter(list_distinct({tokens_sql('?')}), lambda t: NOT list_contains([{words}], t))"
    docs = "\n              UNION ALL ".join(
        f"SELECT {key}, '{f.name}' AS field, {tokens_sql(f.text_sql)} AS tokens FROM src" for f in fields)
    weight = "CASE p.field " + " ".join(f"WHEN '{f.name}' THEN {f.weight}" for f in fields) + " END"
    sql = f"""
WITH src AS ({source}),
docs AS ({docs}),
q AS (SELECT unnest({query_terms}) AS term),
postings AS (SELECT {key}, field, term, count(*) AS tf
             FROM (SELECT {key}, field, unnest(tokens) AS term FROM docs) JOIN q USING (term) GROUP BY ALL),
stats AS (SELECT field, count(*) AS n, greatest(avg(len(tokens)), 1) AS avgdl FROM docs GROUP BY field),
df AS (SELECT field, term, count(*) AS df FROM postings GROUP BY ALL),
scored AS (
    SELECT p.{key}, sum({weight} * ln(1 + (s.n - df.df + 0.5) / (df.df + 0.5))
                        * p.tf * ({K1} + 1) / (p.tf + {K1} * (1 - {B} + {B} * len(d.tokens) / s.avgdl))) AS score
    FROM postings p JOIN df USING (field, term) JOIN docs d USING ({key}, field) JOIN stats s USING (field)
    GROUP BY p.{key}
)
SELECT {columns} FROM scored JOIN src USING ({key})
ORDER BY score DESC, {tie} LIMIT {int(k)}
"""
    cursor = con.execute(sql, [*params, text])
    return QueryResult(columns=[d[0] for d in cursor.description], rows=cursor.fetchall())
