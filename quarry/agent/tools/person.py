"""The `find_person` tool: a person looked up by what the user calls them, the engine doing the name matching."""

from __future__ import annotations

from pydantic import BaseModel, Field

from quarry.agent.tools.base import ToolContext, tool
from quarry.errors import ToolError
from quarry.store.people_search import find_people
from quarry.store.query import as_text


class FindPersonArgs(BaseModel):
    text: str = Field(description="A name or part of one, or words from their signature, e.g. 'Priya' or "
                                  "'letting agent'")


@tool(FindPersonArgs)
def find_person(ctx: ToolContext, args: FindPersonArgs) -> str:
    """Find a person by name: returns the best-matching people (best first) with their email address, other
    addresses, how many messages they sent and a message_id of theirs to cite."""
    if not args.text.strip():
        raise ToolError("find_person text is empty; give the person's name")
    return as_text(find_people(ctx.store.reader(), args.text))
