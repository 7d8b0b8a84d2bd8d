"""`quarry eval extract|agent|rag-vs-structured` and `quarry cost`: measured against gold files, side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.table import Table

from quarry.cli.common import DbOption, JsonOption, console, err_console, print_json, resolve_db
from quarry.errors import InputError

QuestionsOption = Annotated[Path, typer.Option("--questions", "-q", help="Question file (JSONL, DESIGN.md format).")]
LimitOption = Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N held-out questions.")]
OutOption = Annotated[Path | None, typer.Option("--out", help="Output directory (default: $QUARRY_HOME/eval/<time>).",
                                                show_default=False)]
ProfileOption = Annotated[Literal["teacher", "student"] | None, typer.Option(
    "--profile", help="System prompt for every model (default: student for adapters, else teacher).",
    show_default=False)]
StepsOption = Annotated[int, typer.Option("--max-steps", min=1, help="Tool steps before an answer is forced.")]
TokensOption = Annotated[int, typer.Option("--max-tokens", min=1, help="Completion tokens allowed per model call.")]

eval_app = typer.Typer(help="Measure extraction and answering against gold files.\n\n"
                       "Example: quarry eval extract --gold sample_corpus/gold_facts.json --report extract.json",
                       no_args_is_help=True)

_FIELDS = (("n", "n", "{:.0f}"), ("accuracy", "accuracy", "{:.1%}"), ("tool_call_valid_rate", "valid calls", "{:.1%}"),
           ("sql_success_rate", "SQL ok", "{:.1%}"), ("steps_mean", "steps", "{:.2f}"),
           ("prompt_tokens_mean", "prompt tok/q", "{:,.0f}"), ("completion_tokens_mean", "compl. tok/q", "{:,.0f}"),
           ("retrieved_chars_mean", "retrieved chars/q", "{:,.0f}"),
           ("latency_p50_s", "p50 s", "{:.2f}"), ("latency_p95_s", "p95 s", "{:.2f}"),
           ("cost_per_question_usd", "USD/q", "{:.6f}"), ("citations_cut", "ids cut", "{:.0f}"),
           ("fallbacks", "rows shown", "{:.0f}"), ("ungrounded_answers", "ungrounded", "{:.0f}"))


def _fmt(value, pattern: str) -> str:
    return "-" if value is None else pattern.format(value)


def _progress(json_out: bool):
    if json_out:
        return None
    return lambda o: err_console.print(
        f"[dim]{o.model} {o.mode} {o.id}: {'[green]correct' if o.correct else '[red]wrong'}[/] "
        f"({o.latency_s:.1f}s, {o.prompt_tokens} prompt tok){' ' + o.error if o.error else ''}")


def _summary_table(title: str, columns: dict[str, object]) -> Table:
    """One row per figure, one column per model (model specs are long; figures are few)."""
    table = Table(title=title)
    table.add_column("")
    for name in columns:
        table.add_column(name, justify="right", overflow="fold")
    for field, header, pattern in _FIELDS:
        table.add_row(header, *(_fmt(getattr(summary, field), pattern) for summary in columns.values()))
    return table


def _split_line(split) -> str:
    excluded = len(split.excluded_in_training)
    return (f"split: {split.evaluated} held-out questions evaluated of {split.questions_in_file} in "
            f"{split.question_file}; {excluded} excluded as seen in {split.training_traces_checked} training traces")


def eval_extract(
    gold: Annotated[Path | None, typer.Option("--gold", help="Gold facts JSON of the store in --db "
                                              "(e.g. sample_corpus/gold_facts.json).")] = None,
    split: Annotated[Literal["train", "eval", "all"] | None, typer.Option(
        "--split", help="Score the corpus family instead (corpora/split.toml): every mailbox of the split is "
        "ingested into a scratch store, extracted with --extractor, scored, and summed per split.")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Also write the full JSON report here.")] = None,
    extractor: Annotated[str | None, typer.Option("--extractor", help="Score only this extractor's facts "
                                                  "(plus ICS events); default: all stored facts "
                                                  "(with --split: rules).")] = None,
    model: Annotated[str | None, typer.Option("--model", help="With --extractor llm: the model spec.")] = None,
    tolerance: Annotated[int, typer.Option("--tolerance-min", help="Time tolerance in minutes.")] = 60,
    why: Annotated[bool, typer.Option("--why", help="Also count the unmatched facts by reason (nothing from "
                                      "the message, time wrong, title unlike, duplicate): where the errors "
                                      "come from, without reading the mail.")] = False,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Precision, recall and F1 per fact type against gold facts: of a store (--gold), or of the corpus
    family's train and eval mailboxes side by side (--split).

    Example: quarry eval extract --split all --extractor rules
    """
    if (gold is None) == (split is None):
        raise InputError("give --gold FILE (score the store in --db) or --split train|eval|all (the corpus family)")
    if split is not None:
        _family(None if split == "all" else split, extractor or "rules", model, report, json_out, why)
        return
    from quarry.evals.fact_scoring import evaluate_store

    result = evaluate_store(resolve_db(db), gold, extractor=extractor, model=model, tolerance_minutes=tolerance)
    if report:
        report.write_text(result.model_dump_json(indent=2), encoding="utf-8")
    if json_out:
        print_json(result.model_dump(exclude={"types": {"__all__": {"missed", "spurious"}}}))
        return
    table = Table(title=f"extraction vs {gold.name} ({extractor or 'all extractors'})")
    for column in ("type", "gold", "predicted", "matched", "precision", "recall", "F1"):
        table.add_column(column, justify="right" if column != "type" else "left")
    for kind, s in result.types.items():
        table.add_row(kind, str(s.gold), str(s.predicted), str(s.matched), f"{s.precision:.3f}", f"{s.recall:.3f}",
                      f"{s.f1:.3f}")
    console.print(table)
    if why:
        _why_lines("store", result.types)
    if result.messages_scored is not None:
        console.print(f"scored on the {result.messages_scored} messages {extractor} processed", highlight=False)


def _why_lines(part: str, types: dict) -> None:
    """One line per type and side: the unmatched facts counted by reason."""
    for kind, score in types.items():
        for side, counts in (("missed", score.why_missed), ("spurious", score.why_spurious)):
            if counts:
                reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(counts.items(), key=lambda c: -c[1]))
                console.print(f"{part} {kind} {side}: {reasons}", highlight=False)


def _family(split: Literal["train", "eval"] | None, extractor: str, model: str | None, report: Path | None,
            json_out: bool, why: bool = False) -> None:
    """`eval extract --split`: per-split sums side by side, then one line per mailbox."""
    from quarry.evals.family import score_family

    def done(box) -> None:
        if not json_out:
            f1 = "  ".join(f"{kind} F1 {s.f1:.2f}" for kind, s in box.types.items())
            err_console.print(f"[dim]{box.split}/{box.name}: {box.messages} messages, {f1} ({box.seconds:.1f} s)")

    result = score_family(split, extractor, model, on_mailbox=done)
    if report:
        report.write_text(result.model_dump_json(indent=2), encoding="utf-8")
    if json_out:
        print_json(result.model_dump(exclude={"mailboxes": {"__all__": {"types": {"__all__": {"missed", "spurious"}}}}}))
        return
    table = Table(title=f"extractor {extractor}" + (f" ({model})" if model else "") + ": train vs eval mailboxes")
    table.add_column("type")
    for part in result.splits:
        for column in ("gold", "P", "R", "F1"):
            table.add_column(f"{part} {column}", justify="right")
    for kind in next(iter(result.splits.values()), {}):
        cells = [(str(t.gold), f"{t.precision:.2f}", f"{t.recall:.2f}", f"{t.f1:.2f}")
                 for t in (scores[kind] for scores in result.splits.values())]
        table.add_row(kind, *(c for group in cells for c in group))
    console.print(table)
    for part, scores in result.splits.items():
        events = scores.get("events")
        if events and events.status_accuracy is not None:
            console.print(f"{part}: status (moved/cancelled/scheduled) right for {events.status_right} of "
                          f"{events.status_labelled} matched events ({events.status_accuracy:.0%})", highlight=False)
    if extractor == "encoder" and "train" in result.splits:
        console.print("train: in-sample for the encoder (its heads were trained on these mailboxes); the honest "
                      "train figure is `python scripts/train_fact_filter.py --cv`", highlight=False)
    if why:
        for part, scores in result.splits.items():
            _why_lines(part, scores)


def eval_agent(
    model: Annotated[list[str], typer.Option("--model", "-m", help="Model spec; repeat to compare models.")],
    questions: Annotated[Path | None, typer.Option(
        "--questions", "-q", help="Question file (JSONL, DESIGN.md format) for the store in --db.")] = None,
    split: Annotated[Literal["train", "eval"] | None, typer.Option(
        "--split", help="Ask the corpus family instead (corpora/split.toml): every mailbox of the split its own "
        "gold questions, over the facts the rules extract and over its gold facts.")] = None,
    limit: LimitOption = None,
    out: OutOption = None,
    profile: ProfileOption = None,
    max_steps: StepsOption = 6,
    max_tokens: TokensOption = 512,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Run each model over the questions through the agent loop and score the answers.

    Runs on a throwaway copy of the store (the calendar is never changed); questions already used in
    training traces are excluded. Writes per-question JSONL, report.json and models.png. With --split,
    --limit is per mailbox and the table also counts answers right in the model's own words (not rows
    shown by grounding in their place).

    Example: quarry eval agent -m local:smollm2-135m -m local:qwen2.5-coder-1.5b -q sample_corpus/gold_questions.jsonl --limit 20
    """
    from quarry.finetune.registry import open_with_adapters

    if (questions is None) == (split is None):
        raise InputError("give --questions FILE (asked of the store in --db) or --split train|eval (the corpus family)")
    if split is not None:
        _family_agent(model, split, limit, profile, json_out)
        return
    from quarry.evals.evaluation import evaluate_models

    report = evaluate_models(model, questions, resolve_db(db), limit=limit, out_dir=out, profile=profile,
                             max_steps=max_steps, max_tokens=max_tokens, on_done=_progress(json_out),
                             opener=open_with_adapters)
    if json_out:
        print_json({spec: summary.model_dump() for spec, summary in report.models.items()})
        return
    console.print(_summary_table("agent evaluation", report.models))
    console.print(_split_line(report.split))
    console.print(f"per-question results and report.json in {report.out_dir}; chart {report.chart}")


def _family_agent(specs: list[str], split: Literal["train", "eval"], limit: int | None, profile, json_out: bool) -> None:
    """`eval agent --split`: per facts column, each model's right answers over every mailbox of the split."""
    from quarry.evals.family_agent import evaluate_family_agent
    from quarry.finetune.registry import open_with_adapters

    progress = _progress(json_out)
    report = evaluate_family_agent(specs, split, limit=limit, profile=profile, opener=open_with_adapters,
                                   on_done=(lambda box, facts, o: progress(o)) if progress else None)
    if json_out:
        print_json(report.model_dump())
        return
    table = Table(title=f"agent over the {split} mailboxes ({limit or 'all'} questions each)")
    for header in ("facts", "model", "right", "own words", "ids cut", "rows shown", "p50 s", "p95 s"):
        table.add_column(header, overflow="fold")
    for facts, scores in report.totals.items():
        for spec, score in scores.items():
            n = score.summary.n
            table.add_row(facts, spec, f"{score.correct}/{n} ({score.correct / n:.0%})", f"{score.own_words}/{n}",
                          str(score.summary.citations_cut), str(score.summary.fallbacks),
                          f"{score.summary.latency_p50_s:.1f}", f"{score.summary.latency_p95_s:.1f}")
    console.print(table)
    for box, columns in report.mailboxes.items():
        line = "  ".join(f"{facts} {s.correct}/{s.summary.n}" for facts, by_spec in columns.items()
                         for s in by_spec.values())
        console.print(f"{split}/{box}: {line}", highlight=False)


def _ratio_line(name: str, value: float | None, pattern: str) -> str:
    return f"{name}: {_fmt(value, pattern)}"


def eval_rag_vs_structured(
    model: Annotated[str, typer.Option("--model", "-m", help="The answering model spec (used both ways).")],
    questions: QuestionsOption,
    limit: LimitOption = None,
    top_k: Annotated[int, typer.Option("--top-k", min=1, help="Chunks classic RAG puts in the prompt.")] = 5,
    out: OutOption = None,
    profile: ProfileOption = None,
    max_steps: StepsOption = 6,
    max_tokens: TokensOption = 512,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Same model, same questions: structured retrieval (the agent) vs classic embedding RAG over chunks.

    Example: quarry eval rag-vs-structured -m local:qwen2.5-coder-1.5b -q sample_corpus/gold_questions.jsonl --limit 20
    """
    from quarry.evals.rag_compare import compare_rag_structured
    from quarry.finetune.registry import open_with_adapters

    result = compare_rag_structured(model, questions, resolve_db(db), limit=limit, out_dir=out, top_k=top_k,
                                    profile=profile, max_steps=max_steps, max_tokens=max_tokens,
                                    on_done=_progress(json_out), opener=open_with_adapters)
    if json_out:
        print_json({"structured": result.structured.model_dump(), "classic": result.classic.model_dump(),
                    "token_ratio": result.token_ratio, "retrieved_ratio": result.retrieved_ratio,
                    "latency_ratio": result.latency_ratio,
                    "accuracy_delta": result.accuracy_delta, "model": result.model, "top_k": result.top_k,
                    "split": result.split.model_dump(), "chart": result.chart})
        return
    console.print(_summary_table(f"structured vs classic RAG (top-{top_k}) — {model}",
                                 {"structured": result.structured, "classic RAG": result.classic}))
    console.print(_ratio_line("prompt tokens structured/classic", result.token_ratio, "{:.3f}"))
    console.print(_ratio_line("retrieved characters structured/classic", result.retrieved_ratio, "{:.3f}"))
    console.print(_ratio_line("latency p50 structured/classic", result.latency_ratio, "{:.3f}"))
    console.print(_ratio_line("accuracy structured - classic", result.accuracy_delta, "{:+.1%}"))
    console.print(_split_line(result.split))
    console.print(f"results in {result.out_dir}; chart {result.chart}")


def cost(
    questions_per_month: Annotated[int, typer.Option("--questions-per-month", "-n", min=0,
                                                     help="Questions the agent answers a month.")],
    report: Annotated[Path | None, typer.Option("--report", help="report.json of an evaluation "
                                                "(default: the newest under $QUARRY_HOME/eval).")] = None,
    teacher: Annotated[str | None, typer.Option("--teacher", help="Which measured model is the teacher.")] = None,
    student: Annotated[str | None, typer.Option("--student", help="Which measured model is the student.")] = None,
    teacher_price: Annotated[str | None, typer.Option(
        "--teacher-price", help="Teacher price, USD per 1M tokens: IN/OUT or one number.")] = None,
    student_price: Annotated[str | None, typer.Option(
        "--student-price", help="Student price, USD per 1M tokens: IN/OUT or one number.")] = None,
    gpu_hour_usd: Annotated[float | None, typer.Option("--gpu-hour-usd", min=0,
                                                       help="GPU price per hour (default: config).")] = None,
    run_dir: Annotated[Path | None, typer.Option("--run-dir", help="Training run directory for the measured "
                                                 "training time (default: newest under $QUARRY_HOME/runs).")] = None,
    json_out: JsonOption = False,
) -> None:
    """Monthly cost per model from measured tokens per question, training cost and months to break even.

    Example: quarry cost --questions-per-month 3000 --teacher-price 0.15/0.60 --gpu-hour-usd 2.0
    """
    from quarry.evals.costing import cost_report, parse_price
    from quarry.evals.report import latest_report

    result = cost_report(report or latest_report(), questions_per_month, teacher=teacher, student=student,
                         teacher_price=parse_price(teacher_price) if teacher_price else None,
                         student_price=parse_price(student_price) if student_price else None,
                         gpu_hour_usd=gpu_hour_usd, run_dir=run_dir)
    if json_out:
        print_json(result.model_dump())
        return
    table = Table(title=f"cost at {questions_per_month:,} questions/month (measured tokens from {result.report})")
    for header in ("model", "role", "prompt tok/q", "compl. tok/q", "USD/1M in/out", "USD/q", "USD/month"):
        table.add_column(header, justify="right" if header not in ("model", "role") else "left")
    for c in result.models:
        table.add_row(c.model, c.role, f"{c.prompt_tokens_per_question:,.0f}", f"{c.completion_tokens_per_question:,.0f}",
                      f"{c.input_usd_per_mtok:g}/{c.output_usd_per_mtok:g}", f"{c.usd_per_question:.6f}",
                      f"{c.usd_per_month:,.2f}")
    console.print(table)
    if result.training_seconds is None:
        console.print("training: no training run found (pass --run-dir): no training cost, no break-even")
        return
    console.print(f"training: {result.training_seconds / 3600:.2f} h measured ({result.training_source}) x "
                  f"${result.gpu_hour_usd:g}/GPU-hour = ${result.training_cost_usd:,.2f} once")
    console.print(_ratio_line("monthly saving teacher -> student (USD)", result.monthly_saving_usd, "{:,.2f}"))
    console.print(_ratio_line("months to break even", result.months_to_break_even, "{:.2f}")
                  + ("" if result.months_to_break_even is not None else " (the student saves nothing at these prices)"))


def register(app: typer.Typer) -> None:
    eval_app.command("extract")(eval_extract)
    eval_app.command("agent")(eval_agent)
    eval_app.command("rag-vs-structured")(eval_rag_vs_structured)
    app.add_typer(eval_app, name="eval")
    app.command("cost")(cost)
