"""`quarry ask`, `quarry chat` and `quarry traces list|show|export`: the agent from the command line.

Other modules may add commands to the `traces` group through `traces_app` (e.g. `traces generate`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from quarry.agent.cli.common import DbOption, JsonOption, console, err_console, print_json, resolve_db
from quarry.config import quarry_home
from quarry.store.db import connect
from quarry.store.traces import export_jsonl, get_trace, list_traces

ModelOption = Annotated[
    str | None,
    typer.Option("--model", "-m", help="Model spec (local:NAME, openai:MODEL, http://host:port/v1#MODEL, "
                 "replay:TRACE.json for testing). Default: the active owned model, else the configured teacher.",
                 show_default=False),
]
ProfileOption = Annotated[
    Literal["teacher", "student"] | None,
    typer.Option("--profile",
                 help="System prompt: the full teacher prompt or the short student one "
                 "(default: student for the active owned model, else teacher).", show_default=False),
]

traces_app = typer.Typer(
    help="Stored agent runs: list, show, export as training data.\n\nExample: quarry traces list --limit 5",
    no_args_is_help=True,
)


def _session(db: Path | None, model: str | None, profile: str | None, **kwargs):
    from quarry.agent.session import AgentSession

    return AgentSession(resolve_db(db), model, profile=profile, **kwargs)


def ask(
    question: Annotated[str, typer.Argument(help="The question, in plain language.")],
    model: ModelOption = None,
    json_out: JsonOption = False,
    show_steps: Annotated[bool, typer.Option("--show-steps", help="Print each tool call and its result.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Allow writes (calendar_add) without asking.")] = False,
    profile: ProfileOption = None,
    max_steps: Annotated[int, typer.Option("--max-steps", min=1, help="Tool steps before an answer is forced.")] = 6,
    db: DbOption = None,
) -> None:
    """Answer one question from the store with the agent; the run is stored as a trace.

    Example: quarry ask "when is the pickle game, and am I free then?" --show-steps
    """
    from quarry.agent.display import render_answer, render_step

    def confirm(description: str) -> bool:
        if not yes:
            err_console.print(f"[yellow]not written[/] (pass --yes to allow): {description}")
        return yes

    session = _session(db, model, profile, confirm=confirm, max_steps=max_steps)
    on_step = (lambda step: err_console.print(render_step(step))) if show_steps and not json_out else None
    try:
        result = session.ask(question, on_step=on_step)
    finally:
        session.close()
    if json_out:
        print_json(result.summary())
    else:
        console.print(render_answer(result))


def chat(model: ModelOption = None, profile: ProfileOption = None, db: DbOption = None) -> None:
    """Talk to the agent: a shell with history, multi-line input (Alt-Enter), /help for commands.

    Example: quarry chat --model local:qwen2.5-coder-1.5b
    """
    from quarry.agent.chat import ChatShell

    session = _session(db, model, profile)
    try:
        ChatShell(session, console, quarry_home() / "chat_history").run()
    finally:
        session.close()


@traces_app.command("list")
def traces_list(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many, newest first.")] = 20,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """List stored agent runs, newest first.

    Example: quarry traces list --limit 5
    """
    from quarry.agent.display import traces_table

    con = connect(resolve_db(db), read_only=True)
    try:
        traces = list_traces(con, limit=limit)
    finally:
        con.close()
    if json_out:
        print_json([t.model_dump(mode="json", exclude={"messages", "tools"}) for t in traces])
    else:
        console.print(traces_table(traces))


@traces_app.command("show")
def traces_show(
    trace_id: Annotated[str, typer.Argument(help="A trace id or a unique prefix of one.")],
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Show one run: header, then every message and tool call.

    Example: quarry traces show 3f9c2a
    """
    from quarry.agent.display import render_trace

    con = connect(resolve_db(db), read_only=True)
    try:
        trace = get_trace(con, trace_id)
    finally:
        con.close()
    if json_out:
        print_json(trace.model_dump(mode="json"))
    else:
        console.print(render_trace(trace))


@traces_app.command("export")
def traces_export(
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write.", dir_okay=False)],
    fmt: Annotated[Literal["jsonl"], typer.Option("--format", help="Output format: one training record per line.")]
    = "jsonl",
    verified_only: Annotated[bool, typer.Option("--verified-only", help="Only verified runs.")] = False,
    feedback: Annotated[Literal["good", "bad"] | None,
                        typer.Option("--feedback", help="Only runs with this user feedback.")] = None,
    db: DbOption = None,
) -> None:
    """Export runs as chat fine-tuning JSONL: {"messages", "tools", "metadata"} per line.

    Example: quarry traces export --format jsonl --out traces.jsonl --verified-only
    """
    con = connect(resolve_db(db), read_only=True)
    try:
        count = export_jsonl(con, out, verified_only=verified_only, feedback=feedback)
    finally:
        con.close()
    err_console.print(f"exported {count} traces to {out}")


def register(app: typer.Typer) -> None:
    app.command("ask")(ask)
    app.command("chat")(chat)
    app.add_typer(traces_app, name="traces")
