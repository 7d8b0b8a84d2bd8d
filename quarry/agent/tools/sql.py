"""The `sql` tool: one guarded, read-only SELECT over the documented views, returned as compact rows."""

from __future__ import annotations

from pydantic import BaseModel, Field

from quarry.agent.tools.base import ToolContext, tool
from quarry.agent.tools.near import near_matches
from quarry.errors import GuardError, ToolError
from quarry.store.query import as_text, run_select


class SqlArgs(BaseModel):
    query: str = Field(description="One DuckDB SELECT over the views in the schema, e.g. "
                                   "SELECT title, starts_at, message_id FROM events WHERE title ILIKE '%dinner%'")


@tool(SqlArgs)
def sql(ctx: ToolContext, args: SqlArgs) -> str:
    """Run one read-only SQL SELECT (DuckDB) over the documented views; returns at most 50 rows as a table.
    Select only the columns you need; filter text with ILIKE '%word%'."""
    con = ctx.store.reader()
    try:
        result = run_select(con, args.query)
    except GuardError as exc:
        raise ToolError(f"{exc} (fix the query and call sql again)") from exc
    text = as_text(result)
    hint = near_matches(con, args.query) if not result.rows else None
    return f"{text}\n{hint}" if hint else text
