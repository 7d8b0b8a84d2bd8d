"""The `find_message` tool: messages looked up by subject words, sender, recipient and dates (headers only)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from quarry.agent.tools.base import ToolContext, tool
from quarry.errors import ToolError
from quarry.store.message_search import find_messages
from quarry.store.query import as_text


class FindMessageArgs(BaseModel):
    text: str = Field(default="", description="Words of its subject or opening, e.g. 'Q3 numbers' (empty: newest)")
    sender: str = Field(default="", description="Name or address of who sent it, e.g. 'Priya'")
    recipient: str = Field(default="", description="Name or address of who it was sent to")
    since: date | None = Field(default=None, description="Sent on or after this date, YYYY-MM-DD")
    until: date | None = Field(default=None, description="Sent on or before this date, YYYY-MM-DD")


@tool(FindMessageArgs)
def find_message(ctx: ToolContext, args: FindMessageArgs) -> str:
    """Find emails by subject words, sender or recipient and date: returns message_id, sent_at, sender,
    recipients, subject and attached file names (best match first; newest first without words)."""
    if not (args.text.strip() or args.sender.strip() or args.recipient.strip() or args.since or args.until):
        raise ToolError("find_message needs words, a sender, a recipient or a date range")
    if args.since and args.until and args.since > args.until:
        raise ToolError(f"since {args.since} is after until {args.until}")
    return as_text(find_messages(ctx.store.reader(), args.text, args.sender, args.recipient, args.since, args.until))
