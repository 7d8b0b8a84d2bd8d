"""How agent runs and traces look on a terminal (rich): compact tool steps, answers, trace tables.

Shared by `quarry ask --show-steps`, `quarry traces list|show` and the chat shell, so a step looks
the same everywhere.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from quarry.agent.loop import AgentResult, Step
from quarry.store.traces import Trace

_RESULT_LINES = 4
_LINE_CHARS = 160


def _clip(text: str, lines: int = _RESULT_LINES) -> str:
    rows = text.splitlines() or [""]
    shown = [r if len(r) <= _LINE_CHARS else r[: _LINE_CHARS - 1] + "…" for r in rows[:lines]]
    if len(rows) > lines:
        shown.append(f"… {len(rows) - lines} more lines")
    return "\n".join(shown)


def _call_text(name: str, arguments: dict[str, Any]) -> str:
    args = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in arguments.items())
    return f"{name}({args})"


def render_step(step: Step) -> RenderableType:
    """`→ sql(query="…")` then the first lines of the result, red when the tool refused."""
    call = Text("→ ", style="cyan") + Text(_call_text(step.tool, step.arguments), style="bold cyan")
    result = Text(_clip(step.result), style="dim" if step.ok else "red")
    result.pad_left(2)
    return Group(call, result)


def render_answer(result: AgentResult, shown: str | None = None) -> RenderableType:
    """The answer (`shown`: as the user reads it, e.g. in local time), its sources, one footer line of cost."""
    parts: list[RenderableType] = [Text(shown if shown is not None else result.answer)]
    if result.unknown_citations:
        parts.append(Text(f"(cited ids not in the store, dropped: {', '.join(result.unknown_citations)})",
                          style="yellow"))
    calls, usage = len(result.steps), result.usage
    footer = (f"{calls} tool call{'' if calls == 1 else 's'} · {usage.prompt_tokens}+{usage.completion_tokens} tokens"
              f" · {result.latency_s:.1f} s · {result.model}")
    if result.forced:
        footer += " · step limit reached"
    if result.trace_id:
        footer += f" · trace {result.trace_id[:12]}"
    parts.append(Text(footer, style="dim"))
    return Group(*parts)


def traces_table(traces: list[Trace]) -> Table:
    """`quarry traces list`: one row per run, newest first (ok = verified, fb = user feedback)."""
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column, width in (("id", 8), ("created", 11), ("model", 18), ("calls", 5), ("tokens", 6), ("s", 5),
                          ("ok", 3), ("fb", 4)):
        table.add_column(column, no_wrap=True, min_width=min(width, 6), max_width=width, overflow="ellipsis")
    table.add_column("question", ratio=1, min_width=16, overflow="fold")
    for t in traces:
        table.add_row(
            t.trace_id[:8], t.created_at.strftime("%m-%d %H:%M"), t.model, str(t.tool_call_count()),
            str(t.prompt_tokens + t.completion_tokens), f"{t.latency_s:.1f}",
            {None: "", True: "yes", False: "no"}[t.verified], t.feedback or "", escape(t.question),
        )
    return table


def _message_text(message: dict[str, Any]) -> str:
    calls = message.get("tool_calls") or []
    lines = [message["content"]] if message.get("content") else []
    for call in calls:
        function = call.get("function", {})
        try:
            arguments = json.loads(function.get("arguments") or "{}")
        except json.JSONDecodeError:
            arguments = {"raw": function.get("arguments")}
        lines.append("→ " + _call_text(function.get("name", "?"), arguments))
    return "\n".join(lines)


def render_trace(trace: Trace) -> RenderableType:
    """`quarry traces show`: the header, then every message (system prompt clipped)."""
    head = Table.grid(padding=(0, 2))
    for key, value in (
        ("trace", trace.trace_id), ("created", trace.created_at.isoformat()), ("model", trace.model),
        ("question", trace.question), ("answer", trace.final_answer or ""),
        ("citations", ", ".join(trace.citations)), ("tokens", f"{trace.prompt_tokens}+{trace.completion_tokens}"),
        ("latency", f"{trace.latency_s:.2f} s"), ("verified", str(trace.verified)), ("feedback", str(trace.feedback)),
    ):
        head.add_row(Text(key, style="bold"), Text(value))
    body = Table(show_header=True, show_lines=True, expand=True)
    body.add_column("role", style="bold", no_wrap=True, min_width=9, max_width=9)
    body.add_column("content", ratio=1)
    for message in trace.messages:
        lines = 3 if message.get("role") == "system" else 12
        body.add_row(message.get("role", "?"), Text(_clip(_message_text(message), lines)))
    return Group(head, body)
