"""What a tool is: a typed function with a docstring, turned into an OpenAI tool spec.

The function's pydantic argument model gives the JSON schema the model sees; its docstring is the
description. Errors the model can repair (ToolError, argument validation) come back as the tool's
result text; anything else is a bug and propagates.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ValidationError

from quarry.errors import ToolError
from quarry.llm.base import ToolSpec
from quarry.store.session import StoreSession


def deny_writes(_: str) -> bool:
    """The default confirmation: no write without a person saying yes."""
    return False


def allow_writes(_: str) -> bool:
    """Confirmation for scratch copies (evaluations, teacher runs), where writes reach no user data."""
    return True


@dataclass
class ToolContext:
    """What a tool may touch during one agent run."""

    store: StoreSession
    #: Asked before any write, with a one-line description; returns True to go ahead. Default: refuse.
    confirm: Callable[[str], bool] = deny_writes
    #: "Now" for relative questions; fixed in tests and evaluations.
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    args_model: type[BaseModel]
    fn: Callable[[ToolContext, Any], str]
    writes: bool = False

    def spec(self, compact: bool = False) -> ToolSpec:
        """The OpenAI tool spec, generated from the argument model.

        `compact` (the student profile) keeps the first paragraph of the description and only names and
        types of the arguments: a fine-tuned model has learned the rest, and every prompt token costs
        time on a CPU.
        """
        schema = self.args_model.model_json_schema()
        schema.pop("title", None)
        description = self.description
        if compact:
            description = " ".join(description.split("\n\n")[0].split())
            schema = _compact_schema(schema)
        return {"type": "function", "function": {"name": self.name, "description": description, "parameters": schema}}


def _compact_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The argument schema without titles, descriptions and examples (types, enums, required kept)."""
    drop = {"title", "description", "examples", "default"}
    properties = {name: {k: v for k, v in prop.items() if k not in drop}
                  for name, prop in schema.get("properties", {}).items()}
    return {**{k: v for k, v in schema.items() if k not in drop}, "properties": properties}


def tool_specs(tools: dict[str, Tool], compact: bool = False) -> list[ToolSpec]:
    """The specs the model is offered, in the registry's order."""
    return [t.spec(compact) for t in tools.values()]


def tool(args_model: type[BaseModel], *, writes: bool = False) -> Callable[[Callable[..., str]], Tool]:
    """Decorator: `@tool(SqlArgs)` on `def sql(ctx, args) -> str` with a docstring makes a Tool."""

    def wrap(fn: Callable[..., str]) -> Tool:
        doc = inspect.getdoc(fn)
        if not doc:
            raise TypeError(f"tool {fn.__name__} needs a docstring: it is the description the model sees")
        return Tool(name=fn.__name__, description=doc, args_model=args_model, fn=fn, writes=writes)

    return wrap


class ToolResult(BaseModel):
    """A tool's answer as it goes back to the model."""

    ok: bool
    content: str


def run_tool(tools: dict[str, Tool], name: str, arguments: dict[str, Any] | str, ctx: ToolContext) -> ToolResult:
    """Validate arguments and run one tool; repairable errors become a failed result the model can read."""
    chosen = tools.get(name)
    if chosen is None:
        return ToolResult(ok=False, content=f"error: no tool named {name!r}; tools are: {', '.join(sorted(tools))}")
    try:
        raw = json.loads(arguments) if isinstance(arguments, str) else arguments
        args = chosen.args_model.model_validate(raw)
    except (ValidationError, json.JSONDecodeError) as exc:
        first = str(exc).splitlines()
        return ToolResult(ok=False, content=f"error: bad arguments for {name}: {' '.join(first[:3])}")
    try:
        return ToolResult(ok=True, content=chosen.fn(ctx, args))
    except ToolError as exc:
        return ToolResult(ok=False, content=f"error: {exc}")
