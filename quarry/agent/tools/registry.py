"""Every agent tool by name, their OpenAI specs, and the compact schema text the prompts embed."""

from __future__ import annotations

from functools import lru_cache

from quarry.agent.tools.base import Tool
from quarry.llm.base import ToolSpec
from quarry.store.db import connect
from quarry.store.guard import allowed_views

#: Bookkeeping columns the views keep but the prompt leaves out, to keep it short.
_HIDDEN = {"extractor", "model", "extractor_version", "created_at", "origin"}

#: One line per view saying what a row is, where that is not obvious from the name.
_NOTES = {
    "events": "status: scheduled|moved|cancelled; updated_by = message that last changed it",
    "event_history": "change: created|moved|cancelled|relocated|mentioned (a later message repeating it); "
                     "old_starts_at = time before a move",
    "action_items": "status: open|done",
    "entities": "kind: person|org|project|place",
    "message_people": "role: from|to|cc|bcc|reply_to",
    "messages": "headers only; bodies via read_message/search",
    "calendar_events": "the user's own calendar",
}

_TYPE_WORDS = {"TIMESTAMP WITH TIME ZONE": "timestamptz", "VARCHAR": "", "VARCHAR[]": "list", "BOOLEAN": "bool",
               "INTEGER": "int", "BIGINT": "int", "DOUBLE": "float", "DATE": "date"}


def all_tools() -> dict[str, Tool]:
    """The tools the agent may call, by name."""
    from quarry.agent.tools.calendar import calendar_add, calendar_conflicts, calendar_export, calendar_list
    from quarry.agent.tools.find import find
    from quarry.agent.tools.find_message import find_message
    from quarry.agent.tools.message import read_message
    from quarry.agent.tools.person import find_person
    from quarry.agent.tools.search import search
    from quarry.agent.tools.sql import sql

    tools = [find, find_person, find_message, sql, search, read_message, calendar_list, calendar_conflicts,
             calendar_add, calendar_export]
    return {t.name: t for t in tools}


def tool_specs() -> list[ToolSpec]:
    """OpenAI tool specs for every tool, in a stable order."""
    return [t.spec() for t in all_tools().values()]


@lru_cache(maxsize=1)
def schema_description() -> str:
    """The documented views and their columns, one compact line each, read from a fresh store's schema."""
    con = connect(":memory:")
    try:
        views = allowed_views(con)
    finally:
        con.close()
    lines = []
    for name, columns in views.items():
        shown = [_column(c, t) for c, t in columns.items() if c not in _HIDDEN]
        note = f"  -- {_NOTES[name]}" if name in _NOTES else ""
        lines.append(f"{name}({', '.join(shown)}){note}")
    lines.append("All times are TIMESTAMPTZ in UTC. Facts link to their source via message_id.")
    return "\n".join(lines)


def _column(name: str, data_type: str) -> str:
    word = _TYPE_WORDS.get(data_type, data_type.lower())
    return f"{name} {word}" if word else name
