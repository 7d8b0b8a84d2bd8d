"""The chat shell (`quarry chat`): a prompt_toolkit REPL over one AgentSession.

Enter sends, Alt-Enter (Esc then Enter) starts a new line, the history persists in the Quarry home.
Each answer runs in a worker thread so the terminal stays with the main thread: Ctrl-C sets the
run's cancel flag (it stops after the current step) and a calendar write asks y/n here, in the
main thread, while the worker waits for the reply.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.history import FileHistory
from prompt_toolkit.key_binding import KeyBindings
from rich.console import Console
from rich.markup import escape

from quarry.agent.display import render_answer, render_step, render_trace
from quarry.agent.loop import AgentCancelled, AgentResult, Step
from quarry.agent.session import AgentSession
from quarry.errors import QuarryError
from quarry.extract.facts import list_facts

HELP = """\
Ask a question in plain language, or use a command:
  /sql <query>    run one SELECT through the agent's guarded sql tool
  /facts          how many facts the store holds, and the next events, deadlines, action items
  /model [spec]   show or switch the model (e.g. /model local:qwen2.5-coder-1.5b)
  /trace          show the last run's trace
  /good, /bad     store your judgement of the last answer (used to pick training data)
  /help, /exit    this text; leave (Ctrl-D works too)
Keys: Enter sends, Alt-Enter (or Esc, Enter) adds a line, Ctrl-C cancels an answer in progress."""

FACT_TABLES = ("messages", "events", "deadlines", "action_items", "entities", "topics", "calendar_events")
FACTS_SHOWN = 5


def _key_bindings() -> KeyBindings:
    bindings = KeyBindings()

    @bindings.add("escape", "enter")
    def _newline(event) -> None:  # Alt-Enter arrives as Esc followed by Enter
        event.current_buffer.insert_text("\n")

    return bindings


class ChatShell:
    """Reads lines, dispatches `/commands`, runs questions in a worker thread, prints with rich."""

    def __init__(self, session: AgentSession, console: Console, history_path: Path):
        history_path.parent.mkdir(parents=True, exist_ok=True)
        self.session = session
        self.console = console
        self.prompt = PromptSession(history=FileHistory(str(history_path)), key_bindings=_key_bindings())
        self._yes_no: PromptSession[str] = PromptSession()  # its own, so answers stay out of the history
        self._requests: queue.Queue[tuple[str, queue.Queue[bool]]] = queue.Queue()
        session.ctx.confirm = self._confirm_from_worker
        self.commands: dict[str, Callable[[str], bool]] = {
            "/help": self._help, "/sql": self._sql, "/facts": self._facts, "/model": self._model,
            "/trace": self._trace, "/good": self._good, "/bad": self._bad, "/exit": self._exit, "/quit": self._exit,
        }

    def run(self) -> None:
        """The loop: until /exit or Ctrl-D."""
        self.console.print(f"[bold]Quarry chat[/] · model {escape(self.session.model_spec)} ({self.session.profile} "
                           f"prompt) · store {escape(str(self.session.store.path))} · /help for commands")
        while True:
            try:
                line = self.prompt.prompt("quarry> ", prompt_continuation="...     ").strip()
            except KeyboardInterrupt:
                continue
            except EOFError:
                break
            if line and not self.handle(line):
                break

    def handle(self, line: str) -> bool:
        """One input line; returns False when the shell should end."""
        try:
            if line.startswith("/"):
                name, *rest = line.split(maxsplit=1)  # "/sql" may be followed by a newline
                command = self.commands.get(name.lower())
                if command is None:
                    self.console.print(f"[red]unknown command {escape(name)}[/]: /help lists them")
                    return True
                return command(rest[0].strip() if rest else "")
            self.answer(line)
        except QuarryError as exc:
            self.console.print(f"[red]error:[/] {escape(str(exc))}")
        return True

    # -- questions -------------------------------------------------------------------------------------

    def answer(self, question: str) -> AgentResult | None:
        """Run one question in a worker thread, serving its y/n questions; Ctrl-C cancels it."""
        cancel = threading.Event()
        outcome: dict[str, object] = {}

        def work() -> None:
            try:
                outcome["result"] = self.session.ask(question, on_step=self._show_step, cancel=cancel)
            except BaseException as exc:  # handed to the main thread, which decides what it means
                outcome["error"] = exc

        worker = threading.Thread(target=work, name="quarry-answer", daemon=True)
        try:
            worker.start()  # inside the try: a Ctrl-C may land as soon as the worker runs
            self._serve(worker, refuse=False)
        except KeyboardInterrupt:
            cancel.set()
            self.console.print("[yellow]cancelling after the current step…[/]")
            self._serve(worker, refuse=True)
        if "result" not in outcome:  # no error either: interrupted before the worker started
            error = outcome.get("error", AgentCancelled("cancelled"))
            if not isinstance(error, AgentCancelled):
                raise error  # QuarryError is shown by handle(); anything else is a bug
            self.console.print("[yellow]cancelled[/]")
            return None
        result = outcome["result"]
        self.console.print(render_answer(result, self.session.shown(result)))
        return result

    def _serve(self, worker: threading.Thread, *, refuse: bool) -> None:
        """Wait for the worker, answering its confirmation requests (all 'no' once cancelled)."""
        while worker.is_alive():
            try:
                text, reply = self._requests.get(timeout=0.1)
            except queue.Empty:
                continue
            except KeyboardInterrupt:
                if refuse:
                    continue
                raise
            reply.put(False if refuse else self._ask_yes_no(text))

    def _confirm_from_worker(self, description: str) -> bool:
        """ToolContext.confirm as seen by the worker: ask the main thread and wait for its answer."""
        reply: queue.Queue[bool] = queue.Queue(maxsize=1)
        self._requests.put((description, reply))
        return reply.get()

    def _ask_yes_no(self, description: str) -> bool:
        try:
            answer = self._yes_no.prompt(f"{description} [y/N] ")
        except (KeyboardInterrupt, EOFError):
            return False
        return answer.strip().lower() in ("y", "yes")

    def _show_step(self, step: Step) -> None:
        self.console.print(render_step(step))

    # -- commands (each returns False to leave) --------------------------------------------------------

    def _help(self, _: str) -> bool:
        self.console.print(HELP, markup=False, highlight=False)
        return True

    def _sql(self, query: str) -> bool:
        if not query:
            self.console.print("usage: /sql SELECT …")
            return True
        result = self.session.run_sql(query)
        self.console.print(result.content, style=None if result.ok else "red", markup=False, highlight=False)
        return True

    def _facts(self, _: str) -> bool:
        """Counts, then the next few events, deadlines and action items from today on."""
        con = self.session.store.reader()
        now = self.session.fixed_now or datetime.now(timezone.utc)
        counts = [f"{t} {con.execute(f'SELECT count(*) FROM {t}').fetchone()[0]}" for t in FACT_TABLES]
        self.console.print(" · ".join(counts), highlight=False)
        for kind, what, when in (("events", "title", "starts_at"), ("deadlines", "task", "due_at"),
                                 ("actions", "task", "due_at")):
            rows = list_facts(con, kind, since=now, limit=FACTS_SHOWN)
            self.console.print(f"[bold]next {kind}[/]" + ("" if rows else f" (none after {now:%Y-%m-%d})"))
            for row in rows:
                self.console.print(f"  {row[when]:%Y-%m-%d %H:%M} UTC  {row[what]}  (source {row['source']})",
                                   markup=False, highlight=False)
        return True

    def _model(self, spec: str) -> bool:
        if spec:
            self.session.set_model(spec)
        self.console.print(f"model {escape(self.session.model_spec)} ({self.session.profile} prompt)")
        return True

    def _trace(self, _: str) -> bool:
        self.console.print(render_trace(self.session.last_trace()))
        return True

    def _good(self, _: str) -> bool:
        self.console.print(f"feedback 'good' stored on trace {self.session.feedback('good')[:12]}")
        return True

    def _bad(self, _: str) -> bool:
        self.console.print(f"feedback 'bad' stored on trace {self.session.feedback('bad')[:12]}")
        return True

    def _exit(self, _: str) -> bool:
        return False
