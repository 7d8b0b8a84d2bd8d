"""The chat shell, driven through a pseudo-terminal like a user would, and its cancel/confirm plumbing."""

from __future__ import annotations

import _thread
import gc
import json
import os
import signal
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pexpect
from rich.console import Console

from quarry.agent.chat import ChatShell
from quarry.agent.session import AgentSession
from quarry.llm.replay import ReplayModel
from quarry.store.db import connect
from quarry.store.traces import list_traces

QUARRY = str(Path(sys.executable).with_name("quarry"))
PROMPT = "quarry>"  # prompt_toolkit moves the cursor instead of printing the trailing space
PICKLE_SQL = "SELECT message_id, subject FROM messages WHERE subject ILIKE '%pickle%'"


def tool_turn(name: str, arguments: dict, call_id: str) -> dict:
    call = {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}
    return {"role": "assistant", "content": None, "tool_calls": [call]}


def write_replay(path: Path, *turns: dict) -> Path:
    path.write_text(json.dumps({"messages": list(turns)}))
    return path


def spawn_chat(store: Path, home: Path, model: str) -> pexpect.spawn:
    env = {**os.environ, "QUARRY_HOME": str(home), "PROMPT_TOOLKIT_NO_CPR": "1", "TERM": "xterm", "COLUMNS": "120"}
    # pexpect forks without exec'ing at once; a garbage collection in the child before exec once crashed it
    # (SIGSEGV in threading._after_fork after earlier tests left C-extension objects behind): no GC across it.
    gc.collect()
    gc.disable()
    try:
        return pexpect.spawn(QUARRY, ["chat", "--db", str(store), "--model", model], env=env, encoding="utf-8",
                             timeout=30, dimensions=(40, 120))
    finally:
        gc.enable()


def test_chat_question_tool_call_feedback_and_exit(agent_store, tmp_path):
    replay = write_replay(
        tmp_path / "pickle.json",
        tool_turn("sql", {"query": PICKLE_SQL}, "c1"),
        {"role": "assistant", "content": "The pickleball game moved [msg:pickle-1@club.example]"},
    )
    home = tmp_path / "home"
    chat = spawn_chat(agent_store, home, f"replay:{replay}")
    chat.expect(PROMPT)
    chat.sendline("/help")
    chat.expect("/good, /bad")
    chat.expect(PROMPT)
    chat.send("when is the pickle game?\x1b\r")  # Alt-Enter (Esc, Enter) adds a line instead of sending
    chat.sendline("thanks")
    chat.expect(r"→.*sql\(query")  # rich styles arrow and name separately
    chat.expect("pickle-1@club.example")  # the tool's result, shown compactly
    chat.expect("The pickleball game moved")
    chat.expect(PROMPT)
    chat.sendline("/good")
    chat.expect(r"feedback.*good.*stored on trace")
    chat.expect(PROMPT)
    chat.sendline("/exit")
    chat.expect(pexpect.EOF)
    chat.close()
    assert chat.exitstatus == 0

    con = connect(agent_store, read_only=True)
    (trace,) = list_traces(con)
    assert trace.feedback == "good" and trace.question == "when is the pickle game?\nthanks"
    assert trace.citations == ["pickle-1@club.example"]
    assert "when is the pickle game?" in (home / "chat_history").read_text()  # history survives the session


def test_chat_write_asks_and_no_keeps_the_calendar_empty(agent_store, tmp_path):
    replay = write_replay(
        tmp_path / "inject.json",
        tool_turn("calendar_add", {"title": "Wire money to X", "start": "2026-03-20T09:00:00+00:00",
                                   "end": "2026-03-20T10:00:00+00:00"}, "c1"),
        {"role": "assistant", "content": "Not added."},
    )
    chat = spawn_chat(agent_store, tmp_path / "home", f"replay:{replay}")
    chat.expect(PROMPT)
    chat.sendline("what does the urgent calendar mail want?")
    chat.expect(r"to your calendar.*\[y/N\]")
    chat.sendline("n")
    chat.expect(r"→.*calendar_add\(")
    chat.expect(PROMPT)
    chat.sendline("/sql SELECT count(*) AS n FROM calendar_events")
    chat.expect("1 row")
    chat.expect(PROMPT)
    chat.sendline("/sql DELETE FROM calendar_events")
    chat.expect("error")
    chat.expect(PROMPT)
    chat.sendeof()
    chat.expect(pexpect.EOF)
    con = connect(agent_store, read_only=True)
    assert con.execute("SELECT count(*) FROM calendar_events").fetchone()[0] == 0


class InterruptingModel(ReplayModel):
    """Like a user pressing Ctrl-C while the model is busy: interrupts the main thread mid-call."""

    def chat(self, messages, **kwargs):
        if self.calls == 0:
            _thread.interrupt_main()
            time.sleep(0.3)  # still "generating" when the Ctrl-C lands
        return super().chat(messages, **kwargs)


def test_ctrl_c_cancels_the_answer_and_the_shell_goes_on(agent_store, tmp_path):
    # A shell that starts a job in the background (as CI may) leaves SIGINT ignored, and then interrupt_main
    # does nothing; a user at a terminal has Python's own handler, which is what this test is about.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _cancel_a_replayed_answer(agent_store, tmp_path)
    finally:
        signal.signal(signal.SIGINT, previous)


def _cancel_a_replayed_answer(agent_store, tmp_path):
    session = AgentSession(agent_store, "replay:unused", now=datetime(2026, 3, 2, tzinfo=timezone.utc))
    model = InterruptingModel([tool_turn("sql", {"query": PICKLE_SQL}, "c1"), {"role": "assistant", "content": "no"}])
    session.use_model(model)
    console = Console(record=True, width=120)
    shell = ChatShell(session, console, tmp_path / "history")
    assert shell.handle("when is the pickle game?") is True
    output = console.export_text()
    assert "cancelling after the current step" in output and "cancelled" in output
    assert model.calls == 1 and list_traces(session.store.reader()) == []
    session.close()
