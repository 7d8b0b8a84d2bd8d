"""Full-text search (BM25) over message bodies and document chunks, as plain tables and one SQL query.

Why our own index: DuckDB's fts extension is not bundled with the duckdb 2.x wheel and cannot be
INSTALLed offline; the PyPI package `duckdb-extension-fts` ships it only for duckdb <= 1.5.5, which
would pin the whole project to an older DuckDB. An inverted index in two tables is small, needs no
extension, works on the hardened read-only connection (no LOAD), and BM25 over it is one query.

- Units: each message (subject + body_clean, id 'message:<message_id>') and each document chunk
  (`chunks` rows whose parent_kind is not 'message'; messages are indexed whole instead).
- Tokens: lowercased, accent-stripped runs of letters/digits (any script), 2+ characters, minus a few stopwords, with
  a plural 's' folded ("games" -> "game"). The same SQL expression tokenizes units and queries.
- `refresh_search_index(con)` indexes only units not yet indexed and drops units whose source is
  gone, so it is idempotent and costs two anti-joins when nothing changed. Ingestion calls it after
  a run; the search tool also calls it when `index_is_stale` (a store filled by other means).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

K1, B = 1.2, 0.75
SNIPPET_CHARS = 240

_STOPWORDS = ("the", "and", "for", "are", "but", "not", "you", "your", "with", "this", "that", "from", "have",
              "was", "were", "will", "would", "can", "could", "our", "has", "had", "its", "of", "to", "in", "on",
              "at", "is", "it", "be", "as", "by", "or", "an", "we", "me", "my", "do", "so", "if", "no", "up")
_STOPWORD_LIST = "[" + ", ".join(f"'{w}'" for w in _STOPWORDS) + "]"


def tokens_sql(text_sql: str) -> str:
    """SQL for the token list of the text expression `text_sql`."""
    split = rf"regexp_split_to_array(strip_accents(lower({text_sql})), '[^\pL\pN]+')"
    kept = f"list_filter({split}, lambda t: length(t) >= 2 AND NOT list_contains({_STOPWORD_LIST}, t))"
    return (f"list_transform({kept}, lambda t: CASE WHEN length(t) > 3 AND t LIKE '%s' AND t NOT LIKE '%ss' "
            "THEN left(t, length(t) - 1) ELSE t END)")


_UNITS = """
SELECT 'message:' || message_id AS unit_id, 'message' AS parent_kind, message_id AS parent_id,
       coalesce(subject, '') || ' ' || coalesce(body_clean, body_text, '') AS text
FROM messages
UNION ALL
SELECT chunk_id, parent_kind, parent_id, text FROM chunks WHERE parent_kind <> 'message'
"""


@dataclass(frozen=True)
class SearchHit:
    parent_kind: str
    parent_id: str
    title: str
    snippet: str
    score: float


def refresh_search_index(con: duckdb.DuckDBPyConnection) -> int:
    """Bring the index in step with messages and chunks (a writer connection); returns units added.

    New postings go in sorted by term, so DuckDB's per-row-group min/max lets a query skip most of
    the table: the initial build is fully sorted, later small batches add short sorted runs.
    """
    con.execute("BEGIN")
    try:
        gone = [r[0] for r in con.execute(
            f"SELECT unit_id FROM search_docs ANTI JOIN ({_UNITS}) u USING (unit_id)").fetchall()]
        if gone:
            con.execute("DELETE FROM search_terms WHERE list_contains(?, unit_id)", [gone])
            con.execute("DELETE FROM search_docs WHERE list_contains(?, unit_id)", [gone])
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE search_new AS
                SELECT u.unit_id, u.parent_kind, u.parent_id, {tokens_sql('u.text')} AS tokens
                FROM ({_UNITS}) u ANTI JOIN search_docs d ON d.unit_id = u.unit_id;
            INSERT INTO search_docs SELECT unit_id, parent_kind, parent_id, len(tokens) FROM search_new;
            INSERT INTO search_terms
                SELECT term, unit_id, count(*) FROM (SELECT unit_id, unnest(tokens) AS term FROM search_new)
                GROUP BY ALL ORDER BY term;
        """)
        added = con.execute("SELECT count(*) FROM search_new").fetchone()[0]
        con.execute("DROP TABLE search_new")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    return added


def index_is_stale(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the index holds a different number of units than messages + document chunks (cheap counts)."""
    return con.execute(
        f"SELECT (SELECT count(*) FROM ({_UNITS})) <> (SELECT count(*) FROM search_docs)"
    ).fetchone()[0]


def _bm25_sql(n_terms: int) -> str:
    """BM25 over the postings of `n_terms` query terms, given as constants so row groups can be skipped."""
    placeholders = ", ".join("?" * n_terms)
    return f"""
WITH p AS MATERIALIZED (SELECT term, unit_id, tf FROM search_terms WHERE term IN ({placeholders})),
stats AS (SELECT count(*) AS n, coalesce(avg(doc_len), 1) AS avgdl FROM search_docs),
df AS (SELECT term, count(*) AS df FROM p GROUP BY term),
scored AS (
    SELECT p.unit_id,
           sum(ln(1 + (s.n - df.df + 0.5) / (df.df + 0.5))
               * p.tf * ({K1} + 1) / (p.tf + {K1} * (1 - {B} + {B} * d.doc_len / s.avgdl))) AS score
    FROM p JOIN df USING (term) JOIN search_docs d USING (unit_id) CROSS JOIN stats s
    GROUP BY p.unit_id
),
best AS (
    SELECT d.parent_kind, d.parent_id, d.unit_id, sc.score,
           row_number() OVER (PARTITION BY d.parent_kind, d.parent_id ORDER BY sc.score DESC) AS rank
    FROM scored sc JOIN search_docs d USING (unit_id)
    QUALIFY rank = 1
    ORDER BY sc.score DESC, d.parent_id
    LIMIT ?
)
SELECT b.parent_kind, b.parent_id, coalesce(m.subject, doc.title, doc.path, '') AS title,
       coalesce(c.text, coalesce(m.body_clean, m.body_text, '')) AS text, b.score
FROM best b
LEFT JOIN messages m ON b.parent_kind = 'message' AND m.message_id = b.parent_id
LEFT JOIN documents doc ON b.parent_kind <> 'message' AND doc.document_id = b.parent_id
LEFT JOIN chunks c ON c.chunk_id = b.unit_id
ORDER BY b.score DESC, b.parent_id
"""


def search(con: duckdb.DuckDBPyConnection, text: str, k: int = 5) -> list[SearchHit]:
    """The top `k` messages/documents for `text` by BM25 (best unit per parent), with a snippet."""
    terms = con.execute(f"SELECT list_distinct({tokens_sql('?')})", [text]).fetchone()[0] or []
    if not terms:
        return []
    rows = con.execute(_bm25_sql(len(terms)), [*terms, k]).fetchall()
    words = [w for w in re.split(r"\W+", text.lower()) if len(w) >= 2]
    return [SearchHit(kind, pid, title, snippet(body, words), float(score)) for kind, pid, title, body, score in rows]


def snippet(text: str, words: list[str], width: int = SNIPPET_CHARS) -> str:
    """About `width` characters of `text` around the first query word found in it, on one line."""
    flat = " ".join(text.split())
    lower = flat.lower()
    positions = [p for p in (lower.find(w.rstrip("s") if len(w) > 3 else w) for w in words) if p >= 0]
    start = max(0, min(positions) - width // 3) if positions else 0
    space = flat.find(" ", start)
    if start > 0 and 0 <= space < min(positions):  # begin at a word, not inside one
        start = space + 1
    piece = flat[start:start + width]
    return ("…" if start > 0 else "") + piece + ("…" if start + width < len(flat) else "")
