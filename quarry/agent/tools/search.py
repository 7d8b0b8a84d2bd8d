"""The `search` tool: BM25 full-text search over message bodies and document chunks, for what the facts miss."""

from __future__ import annotations

from pydantic import BaseModel, Field

from quarry.agent.tools.base import ToolContext, tool
from quarry.errors import ToolError
from quarry.store.search import index_is_stale, refresh_search_index
from quarry.store.search import search as search_index

TOP_K = 5


class SearchArgs(BaseModel):
    text: str = Field(description="A few keywords to look for, e.g. 'retreat catering'")


@tool(SearchArgs)
def search(ctx: ToolContext, args: SearchArgs) -> str:
    """Full-text search of message bodies and documents; returns the best matches with message_id or
    document_id, subject/title and a snippet. Use it for what the sql views do not hold."""
    if not args.text.strip():
        raise ToolError("search text is empty; give a few keywords")
    if index_is_stale(ctx.store.reader()):
        with ctx.store.writer() as con:  # the index is derived data, not a user-visible write
            refresh_search_index(con)
    hits = search_index(ctx.store.reader(), args.text, TOP_K)
    if not hits:
        return "(no matches)"
    lines = []
    for hit in hits:
        key = "message_id" if hit.parent_kind == "message" else "document_id"
        lines.append(f"{key}: {hit.parent_id} | {hit.title} | {hit.snippet}")
    return "\n".join(lines)
