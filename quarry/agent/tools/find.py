"""The `find` tool: a fact looked up by what the user calls it, the engine doing the word matching."""

from __future__ import annotations

from pydantic import BaseModel, Field

from quarry.agent.tools.base import ToolContext, tool
from quarry.errors import ToolError
from quarry.store.fact_search import FactKind, find_facts
from quarry.store.query import as_text


class FindArgs(BaseModel):
    kind: FactKind = Field(description="event, deadline or action_item")
    text: str = Field(description="What the user calls it, e.g. 'board dinner' or 'send the budget draft'")


@tool(FindArgs)
def find(ctx: ToolContext, args: FindArgs) -> str:
    """Find an event, deadline or action item by its name: returns the best-matching rows (best first) with
    their times, status, place or owner and message_id. Use sql for counts, ranges and lists."""
    if not args.text.strip():
        raise ToolError("find text is empty; give the name of the event, deadline or task")
    return as_text(find_facts(ctx.store.reader(), args.text, args.kind))
