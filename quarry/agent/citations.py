"""Citations in agent answers: `[msg:<message id>]` markers, parsed and checked against the store.

A model may invent ids; only ids that exist in `messages` count as citations, the rest are
reported so traces and evaluations can see them.
"""

from __future__ import annotations

import re

import duckdb
from pydantic import BaseModel, Field

# One marker may hold several ids: [msg:a] or [msg:a, msg:b] or [msg:<a>]. Ids never contain ']' or spaces.
_MARKER = re.compile(r"\[\s*msg:([^\]]+)\]", re.IGNORECASE)
_ID = re.compile(r"(?:msg:)?\s*<?([^\s,;<>]+)>?")


class Citations(BaseModel):
    """Ids cited in an answer, split into those found in the store and those that were not."""

    known: list[str] = Field(default_factory=list)
    unknown: list[str] = Field(default_factory=list)


def parse_citations(text: str) -> list[str]:
    """Every cited message id in order of first appearance, without duplicates."""
    found: list[str] = []
    for marker in _MARKER.finditer(text or ""):
        for part in re.split(r"[,;]", marker.group(1)):
            match = _ID.fullmatch(part.strip())
            if match and match.group(1) not in found:
                found.append(match.group(1))
    return found


def check_citations(con: duckdb.DuckDBPyConnection, text: str) -> Citations:
    """Parse the answer's citations and keep those whose message exists."""
    ids = parse_citations(text)
    if not ids:
        return Citations()
    rows = con.execute("SELECT message_id FROM messages WHERE list_contains(?, message_id)", [ids]).fetchall()
    present = {r[0] for r in rows}
    return Citations(known=[i for i in ids if i in present], unknown=[i for i in ids if i not in present])
