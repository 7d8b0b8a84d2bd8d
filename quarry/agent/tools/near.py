"""Near matches for a query that found nothing: the usual miss is an ILIKE filter worded unlike the title.

Models filter with the question's words ('%coffee meeting with Greg Hale%') while the fact says
'Coffee with Gregory Hale'. When a query returns no rows, the sql tool lists titles and tasks that
share a word with its LIKE/ILIKE patterns, so the model can query again with a word that is there.
"""

from __future__ import annotations

import re

import duckdb

from quarry.store.query import run_select

_PATTERN = re.compile(r"\bI?LIKE\s+'((?:[^']|'')*)'", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]{4,}")
#: Where the things people ask about are named.
_NAMED = (("events", "title"), ("deadlines", "task"), ("action_items", "task"))
_MAX_SHOWN = 6


def filter_words(query: str) -> list[str]:
    """Distinct words of four or more letters in the query's LIKE/ILIKE patterns, lower-cased."""
    words = [w.lower() for pattern in _PATTERN.findall(query) for w in _WORD.findall(pattern)]
    return list(dict.fromkeys(words))


def near_matches(con: duckdb.DuckDBPyConnection, query: str) -> str | None:
    """A hint line naming rows that share a filter word, or None when there is nothing to suggest."""
    words = filter_words(query)
    if not words:
        return None
    found: list[str] = []
    for view, column in _NAMED:
        condition = " OR ".join(f"{column} ILIKE '%{w}%'" for w in words)
        rows = run_select(con, f"SELECT DISTINCT {column} FROM {view} WHERE {condition}", limit=_MAX_SHOWN).rows
        found += [f"{view}: {row[0]}" for row in rows if row[0]]
    if not found:
        return None
    shown = "; ".join(found[:_MAX_SHOWN])
    return f"(no rows match that filter; rows that share a word with it: {shown}. Query again with one of their words.)"
