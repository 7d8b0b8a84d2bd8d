"""Run one guarded SELECT on the hardened read-only connection, with a time limit, as compact rows.

Shared by the agent's `sql` tool and `quarry sql`, so both go through the same guard and the same
connection. DuckDB errors become one-line GuardErrors with a repair hint where a common mistake is
recognisable (LIKE on a timestamp, a bad timestamp literal).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

import duckdb

from quarry.errors import GuardError
from quarry.store.guard import VIEW_SCHEMA, allowed_views, guard_query

DEFAULT_TIMEOUT_S = 5.0
CELL_CHARS = 200

_LIKE_HINT = (
    "LIKE/ILIKE work on text only; for a timestamp or date column use a range "
    "(starts_at >= TIMESTAMPTZ '2026-03-01 00:00:00+00' AND starts_at < TIMESTAMPTZ '2026-03-02 00:00:00+00'), "
    "CAST(starts_at AS DATE) = DATE '2026-03-01', or strftime(starts_at, '%Y-%m') = '2026-03'"
)


@dataclass(frozen=True)
class QueryResult:
    """Rows of one query; `cut` counts the rows the guard's LIMIT left out (None: some, count too slow)."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    cut: int | None = 0


def run_select(con: duckdb.DuckDBPyConnection, query: str, *, limit: int = 50,
               timeout_s: float = DEFAULT_TIMEOUT_S) -> QueryResult:
    """Guard `query`, run it on `con` (a hardened reader), interrupting it after `timeout_s` seconds."""
    catalog = con.execute("SELECT current_database()").fetchone()[0]
    guarded = guard_query(query, allowed_views(con), limit, qualify_into=(catalog, VIEW_SCHEMA))
    columns, rows = _execute(con, guarded.sql, timeout_s)
    cut: int | None = 0
    if guarded.capped and len(rows) >= limit:
        try:
            _, counted = _execute(con, f"SELECT count(*) FROM ({guarded.uncapped_sql}) AS q", timeout_s)
            cut = max(0, counted[0][0] - len(rows))
        except GuardError:
            cut = None
    return QueryResult(columns=columns, rows=rows, cut=cut)


def _execute(con: duckdb.DuckDBPyConnection, sql: str, timeout_s: float) -> tuple[list[str], list[tuple[Any, ...]]]:
    timer = threading.Timer(timeout_s, con.interrupt)
    timer.start()
    try:
        cursor = con.execute(sql)
        rows = cursor.fetchall()
        columns = [d[0] for d in cursor.description]
    except duckdb.InterruptException as exc:
        raise GuardError(f"query stopped after {timeout_s:g} s; narrow it with WHERE, join on keys "
                         "instead of a cross join, or aggregate") from exc
    except duckdb.Error as exc:
        raise GuardError(_explain(exc)) from exc
    finally:
        timer.cancel()
    return columns, rows


def _explain(exc: duckdb.Error) -> str:
    """DuckDB's first error line, without internal schema names, plus a hint for known mistakes."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    first = first.replace(f"{VIEW_SCHEMA}.", "").replace(f'"{VIEW_SCHEMA}".', "")
    if "~~" in first or ("like" in first.lower() and ("TIMESTAMP" in first or "DATE" in first)):
        return f"{first} -- {_LIKE_HINT}"
    if "Conversion Error" in first and ("timestamp" in first.lower() or "date" in first.lower()):
        return f"{first} -- write timestamps as TIMESTAMPTZ 'YYYY-MM-DD HH:MM:SS+00' and dates as DATE 'YYYY-MM-DD'"
    if "No function matches" in first:
        return f"{first} -- cast the arguments to the types the function takes"
    return first


def instant_text(value: datetime) -> str:
    """'Fri 2026-10-09 20:00 UTC': the weekday written out (a small model should not have to compute
    it), 24-hour UTC, seconds only when not zero. `parse_instant` reads this form back."""
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    clock = "%H:%M:%S" if value.second else "%H:%M"
    return value.strftime(f"%a %Y-%m-%d {clock}") + (" UTC" if value.tzinfo is not None else "")


def cell_text(value: Any, width: int = CELL_CHARS) -> str:
    """One cell as compact text: instants as `instant_text`, NULL, long text cut to `width` chars."""
    if value is None:
        return "NULL"
    if isinstance(value, datetime):
        text = instant_text(value)
    elif isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, (list, tuple)):
        text = "[" + ", ".join(cell_text(v, width) for v in value) + "]"
    else:
        text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def json_value(value: Any) -> Any:
    """A cell for JSON output: timestamps as ISO strings, everything else as DuckDB gave it."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


def as_text(result: QueryResult) -> str:
    """The small text table the model reads: a header line, one line per row, then a row count."""
    if not result.rows:
        return " | ".join(result.columns) + "\n(no rows)"
    lines = [" | ".join(result.columns)]
    lines += [" | ".join(cell_text(v) for v in row) for row in result.rows]
    footer = f"({len(result.rows)} row{'s' if len(result.rows) != 1 else ''}"
    if result.cut != 0:
        footer += f"; {cut_phrase(result.cut)}: filter with WHERE, aggregate, or ORDER BY ... LIMIT"
    return "\n".join(lines) + "\n" + footer + ")"


def cut_phrase(cut: int | None) -> str:
    """How many rows the guard's LIMIT left out, in words ('' when none)."""
    if cut == 0:
        return ""
    return "more rows were cut" if cut is None else f"{cut} more rows were cut"


def as_records(result: QueryResult) -> list[dict[str, Any]]:
    return [{c: json_value(v) for c, v in zip(result.columns, row)} for row in result.rows]
