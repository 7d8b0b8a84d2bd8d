"""Facts found by what a person calls them: events, deadlines or action items ranked by BM25 of the words.

A small model asked about "Mum's dentist appointment" will not guess the ILIKE word that matches the
stored title "Dentist (Mum)". Each fact has two fields, its name (title or task, counted twice) and the rest
(place, owner, the evidence sentence), ranked by `store.ranking`. Ties go to facts stated in a message (they
can be cited).
"""

from __future__ import annotations

from typing import Literal

import duckdb

from quarry.store.query import QueryResult
from quarry.store.ranking import Field, rank_rows

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


def find_facts(con: duckdb.DuckDBPyConnection, text: str, kind: FactKind, k: int = 3) -> QueryResult:
    """The `k` facts of `kind` that best match `text`, best first (no rows when no word matches)."""
    view, columns, name, rest = _KINDS[kind]
    return rank_rows(con, f"SELECT * FROM {view}", "fact_id", [Field("name", name, NAME_WEIGHT), Field("rest", rest)],
                     columns, text, k=k, tie="message_id IS NULL, fact_id")
