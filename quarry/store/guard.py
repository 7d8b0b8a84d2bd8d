"""The SQL guard: decides whether model-written SQL may run, and says how to fix it when not.

A query passes when it is exactly one SELECT (or UNION/INTERSECT/EXCEPT, optionally WITH ...) that
reads only the documented views and their columns: no DDL/DML, PRAGMA, SET, ATTACH, COPY, INSTALL,
LOAD, no table functions or file readers, no schema-qualified names. The guard then qualifies every
view into the `agent_views` schema (so even a bypass of the column check sees only compact views),
and adds or caps the LIMIT. It is one of two locks: the query also runs on a hardened read-only
connection (store/db.py), which refuses writes and file access on its own.

Every GuardError message is one line written for a model to act on ("no column X in events;
columns are ...").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, SqlglotError
from sqlglot.optimizer.qualify import qualify

from quarry.errors import GuardError

#: The schema (in schema.sql) that holds the views model-written SQL may read.
VIEW_SCHEMA = "agent_views"

#: Allowed views: name -> column names (or name -> {column: type}).
Allowed = Mapping[str, Sequence[str]] | Mapping[str, Mapping[str, str]]

#: Statement kinds that may never appear anywhere in a query, even nested (e.g. a CTE holding a DELETE).
_FORBIDDEN_NODES: tuple[type[exp.Expression], ...] = (
    exp.DML, exp.DDL, exp.Command, exp.Pragma, exp.Set, exp.Attach, exp.Detach, exp.Install,
    exp.Into, exp.Transaction, exp.Use, exp.Drop, exp.Alter, exp.TruncateTable, exp.Describe,
)

#: Functions that read files, the network, settings or catalogs; refused wherever they appear.
_FORBIDDEN_FUNCTION = re.compile(
    r"^(read_\w*|parquet_\w*|sniff_csv|glob|query|query_table|iceberg_\w*|delta_scan|duckdb_\w*|pragma_\w*"
    r"|getenv|current_setting|json_execute_serialized_sql|\w*_scan)$",
    re.IGNORECASE,
)

_LEADING_WORD = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*(\w+|\()", re.DOTALL)
_STATEMENT_WORDS = frozenset(
    "EXPORT IMPORT INSTALL LOAD COPY ATTACH DETACH CALL PRAGMA SET RESET CREATE DROP ALTER INSERT UPDATE DELETE "
    "TRUNCATE VACUUM CHECKPOINT BEGIN COMMIT ROLLBACK ABORT USE DESCRIBE SHOW SUMMARIZE PIVOT UNPIVOT MERGE "
    "PREPARE EXECUTE DEALLOCATE EXPLAIN ANALYZE GRANT REVOKE COMMENT UPSERT REPLACE".split()
)
_UNRESOLVED_COLUMN = re.compile(r"Column '([^']+)' could not be resolved|Unknown column: (\w+)")

# sqlglot logs a warning whenever it falls back to a generic Command; the guard reports those itself.
logging.getLogger("sqlglot").setLevel(logging.ERROR)


@dataclass(frozen=True)
class GuardedQuery:
    """The SQL to run, and whether the guard's own LIMIT may have cut rows."""

    sql: str
    capped: bool
    #: The same query without the guard's LIMIT, for counting the rows that were cut.
    uncapped_sql: str


def allowed_views(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    """The documented views and their columns with types, read from the live store's information_schema."""
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? ORDER BY table_name, ordinal_position",
        [VIEW_SCHEMA],
    ).fetchall()
    views: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        views.setdefault(table, {})[column] = data_type
    return views


def check_sql(sql: str, allowed: Allowed, limit: int = 50, *, qualify_into: tuple[str, str] | None = None) -> str:
    """The safe SQL to run for `sql`, or GuardError with a one-line reason the model can repair."""
    return guard_query(sql, allowed, limit, qualify_into=qualify_into).sql


def guard_query(sql: str, allowed: Allowed, limit: int = 50, *,
                qualify_into: tuple[str, str] | None = None) -> GuardedQuery:
    """Check `sql`; `qualify_into` = (catalog, schema) rewrites view names to fully qualified ones."""
    tree = _parse_one(sql)
    _refuse_forbidden(tree)
    schema = {name.lower(): _typed(columns) for name, columns in allowed.items()}
    views = _check_tables(tree, schema, qualify_into)
    _check_columns(tree, schema, views)
    uncapped = tree.sql(dialect="duckdb", comments=False)
    capped = _apply_limit(tree, limit)
    return GuardedQuery(sql=tree.sql(dialect="duckdb", comments=False), capped=capped, uncapped_sql=uncapped)


def _parse_one(sql: str) -> exp.Expression:
    if not sql or not sql.strip():
        raise GuardError("empty query: send one SELECT statement")
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except SqlglotError as exc:
        if _statement_word(sql):
            raise GuardError(f"only SELECT queries are allowed (read-only), not {_statement_word(sql)}") from exc
        raise GuardError(f"syntax error: {_syntax_detail(exc)}; send one valid DuckDB SELECT") from exc
    if not statements:
        raise GuardError("empty query: send one SELECT statement")
    if len(statements) > 1:
        raise GuardError(f"send exactly one statement; found {len(statements)} (remove ';' and everything after it)")
    tree = statements[0]
    if not isinstance(tree, (exp.Select, exp.SetOperation)):
        raise GuardError(f"only SELECT queries are allowed (read-only), not {_statement_word(sql) or _kind(tree)}")
    return tree


def _statement_word(sql: str) -> str | None:
    """The statement keyword a query starts with (after comments), if it is a non-SELECT one."""
    word = _LEADING_WORD.match(sql)
    return word.group(1).upper() if word and word.group(1).upper() in _STATEMENT_WORDS else None


def _syntax_detail(exc: SqlglotError) -> str:
    """sqlglot's first error as 'description near TOKEN (line L, col C)', without terminal colour codes."""
    errors = getattr(exc, "errors", None) or []
    if not errors:
        return " ".join(re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).split())[:200]
    first = errors[0]
    near = f" near {first['highlight']!r}" if first.get("highlight") else ""
    return f"{first.get('description', 'invalid SQL')}{near} (line {first.get('line')}, col {first.get('col')})"


def _kind(node: exp.Expression) -> str:
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    return node.key.upper()


def _refuse_forbidden(tree: exp.Expression) -> None:
    for node in tree.walk():
        if isinstance(node, _FORBIDDEN_NODES):
            raise GuardError(f"only SELECT is allowed: the query contains a {_kind(node)} part; remove it")
        if isinstance(node, exp.Func):
            name = node.name if isinstance(node, exp.Anonymous) else node.sql_name()
            if _FORBIDDEN_FUNCTION.match(name or ""):
                raise GuardError(f"function {name.lower()}() is not allowed (no files, settings or catalogs); "
                                 "query the documented views instead")


def _typed(columns: Sequence[str] | Mapping[str, str]) -> dict[str, str]:
    if isinstance(columns, Mapping):
        return {c.lower(): t for c, t in columns.items()}
    return {c.lower(): "TEXT" for c in columns}


def _check_tables(tree: exp.Expression, schema: dict[str, dict[str, str]],
                  qualify_into: tuple[str, str] | None) -> list[str]:
    """Every table reference is a known view or a CTE; returns the views used (qualifying them if asked)."""
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    listing = ", ".join(sorted(schema))
    shadows = sorted(ctes & set(schema))
    if shadows:
        raise GuardError(f"CTE name {shadows[0]} hides the view of the same name; rename the CTE")
    used: list[str] = []
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            raise GuardError(f"table functions and file readers are not allowed ({table.this.sql('duckdb')[:60]}); "
                             f"query the views: {listing}")
        name = table.name.lower()
        if table.args.get("db") or table.args.get("catalog"):
            raise GuardError(f"write view names without a schema prefix ({table.sql('duckdb')}); views are: {listing}")
        if name in ctes:
            continue
        if name not in schema:
            if re.search(r"[/\\.~]", name):
                raise GuardError(f"reading files is not allowed ({table.name!r}); query the views: {listing}")
            raise GuardError(f"no table or view {table.name}; views are: {listing}")
        used.append(name)
        if qualify_into:
            table.set("catalog", exp.to_identifier(qualify_into[0]))
            table.set("db", exp.to_identifier(qualify_into[1]))
    return used


def _check_columns(tree: exp.Expression, schema: dict[str, dict[str, str]], views: list[str]) -> None:
    """Qualify a copy against the views' columns; an unknown column becomes a 'columns are ...' message."""
    plain = tree.copy()
    for table in plain.find_all(exp.Table):
        table.set("catalog", None)
        table.set("db", None)
    try:
        qualify(plain, schema=schema, dialect="duckdb", validate_qualify_columns=True)
    except (OptimizeError, SqlglotError) as exc:
        raise GuardError(_column_message(str(exc), schema, views)) from exc


def _column_message(error: str, schema: dict[str, dict[str, str]], views: list[str]) -> str:
    match = _UNRESOLVED_COLUMN.search(error)
    if not match:
        return " ".join(error.split())[:240]
    column = match.group(1) or match.group(2)
    used = list(dict.fromkeys(views)) or sorted(schema)
    parts = [f"{v} has {', '.join(schema[v])}" for v in used]
    if len(used) == 1:
        return f"no column {column} in {used[0]}; columns are {', '.join(schema[used[0]])}"
    return f"no column {column} in {' or '.join(used)}; " + "; ".join(parts)


def _apply_limit(tree: exp.Expression, limit: int) -> bool:
    """Add LIMIT `limit` or lower a bigger one; True when the guard's limit (not the user's) applies."""
    current = tree.args.get("limit")
    if isinstance(current, exp.Limit):
        value = current.expression
        if isinstance(value, exp.Literal) and value.is_int and int(value.name) <= limit:
            return False
        current.set("expression", exp.Literal.number(limit))
        return True
    if isinstance(current, exp.Fetch):
        tree.set("limit", None)
    tree.set("limit", exp.Limit(expression=exp.Literal.number(limit)))
    return True
