"""`quarry ask` and `quarry chat`: the agent from the command line.

This is where the program is composed: the session gets the adapter registry's model opener, so
`+adapter:active` and the default (the live owned model, else the configured teacher) resolve here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from quarry.cli.common import DbOption, JsonOption, console, err_console, print_json, resolve_db
from quarry.config import quarry_home

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



def _session(db: Path | None, model: str | None, profile: str | None, **kwargs):
    from quarry.agent.session import AgentSession
    from quarry.finetune.registry import default_model_spec, open_with_adapters

    return AgentSession(resolve_db(db), model or default_model_spec(), opener=open_with_adapters, profile=profile,
                        **kwargs)


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
        shown = session.shown(result)
    finally:
        session.close()
    if json_out:
        print_json(result.summary() | {"shown": shown})
    else:
        console.print(render_answer(result, shown))


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


def register(app: typer.Typer) -> None:
    app.command("ask")(ask)
    app.command("chat")(chat)
