"""Train, measure and write the owned model that ships with Quarry (quarry/finetune/shipped/NAME.{gguf,json}).

Every step is the product's own code, and NAME.json records how the adapter was made (this command,
seed, trace counts by teacher and by mailbox, data hash, training config) and what it measured on the
eval mailboxes of the corpus family, which no training trace comes from:

  1. each `--mailboxes` train mailbox (default: every train mailbox but `sample`, so the demo's board
     dinner is an event no training trace mentions) ingested with its gold facts, so traces teach
     tool use, not extraction errors;
  2. verified traces per mailbox: `--oracle-n` from the oracle, `--teacher-n` answered by a real teacher
     model (paraphrased questions; kept only if their tool calls ran and the answer checks out);
  3. `quarry train` on them (student prompt and compact tools);
  4. GGUF export, then `quarry eval agent --split eval` for the new adapter: the first `--eval-limit`
     gold questions of every eval mailbox, over extracted facts and over gold facts.

Usage:
  .venv/bin/python scripts/ship_adapter.py [--name quarry-smollm2-v2] [--student smollm2-135m]
      [--oracle-n 40] [--teacher-n 0] [--teacher local:qwen2.5-coder-1.5b] [--epochs 1] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from datetime import datetime, timezone
from pathlib import Path

from quarry.evals.family_agent import evaluate_family_agent
from quarry.evals.report import QuestionOutcome
from quarry.finetune.export import export_gguf_lora
from quarry.finetune.registry import SHIPPED_DIR, AdapterRecord, model_spec
from quarry.finetune.student import StudentInfo
from quarry.finetune.train import StepInfo, TrainConfig, train
from quarry.teach.family_traces import family_traces, train_mailboxes

ROOT = Path(__file__).resolve().parent.parent


def _progress(info: StepInfo) -> None:
    print(info.line(), file=sys.stderr, flush=True)


def _answered(mailbox: str, facts: str, outcome: QuestionOutcome) -> None:
    print(f"eval/{mailbox} {facts} {outcome.id}: {'right' if outcome.correct else 'wrong'} "
          f"({outcome.latency_s:.1f} s)", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", default="quarry-smollm2-v2")
    parser.add_argument("--student", default="smollm2-135m")
    parser.add_argument("--mailboxes", default=None, help="comma-separated train mailboxes (default: all but sample)")
    parser.add_argument("--oracle-n", type=int, default=40, help="oracle traces per mailbox")
    parser.add_argument("--teacher-n", type=int, default=0, help="real-teacher traces per mailbox")
    parser.add_argument("--teacher", default="local:qwen2.5-coder-1.5b")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--max-steps", type=int, default=None)
    parser.add_argument("--batch-tokens", type=int, default=3072)
    parser.add_argument("--eval-fraction", type=float, default=0.0,
                        help="templates held out for eval loss (default none: the eval mailboxes are the held-out set)")
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-limit", type=int, default=12, help="gold questions per eval mailbox")
    parser.add_argument("--note", default="", help="free text kept in the provenance (e.g. earlier steps)")
    parser.add_argument("--work", type=Path, default=ROOT / ".quarry-ship", help="scratch stores, traces, run")
    args = parser.parse_args()
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    boxes = train_mailboxes(args.mailboxes.split(",") if args.mailboxes else None)
    data = family_traces(work, boxes, oracle_n=args.oracle_n, teacher_n=args.teacher_n, teacher=args.teacher,
                         seed=args.seed, log=lambda line: print(line, file=sys.stderr))
    per_mailbox = data.per_mailbox
    print(f"traces: {sum(per_mailbox.values())} verified ({per_mailbox})", file=sys.stderr)
    config = TrainConfig(student=f"local:{args.student}", traces=[data.path], out=work / f"run-{args.name}",
                         rank=args.rank, alpha=2.0 * args.rank, epochs=args.epochs, max_steps=args.max_steps,
                         batch_tokens=args.batch_tokens, eval_fraction=args.eval_fraction, seed=args.seed)
    result = train(config, _progress)
    run_config = json.loads((result.run_dir / "config.json").read_text(encoding="utf-8"))
    info = StudentInfo.model_validate(run_config["student"])
    gguf = export_gguf_lora(result.run_dir, SHIPPED_DIR / f"{args.name}.gguf")
    record = AdapterRecord(
        name=args.name, base=info.name, base_sha256=info.gguf_sha256, template_sha256=info.template_sha256,
        data_hash=result.data_hash, run_dir="", created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        path=gguf.name, shipped=True,
    )
    owned_spec = model_spec(record.model_copy(update={"path": str(gguf)}))
    report = evaluate_family_agent([owned_spec], "eval", limit=args.eval_limit, profile="student",
                                   on_done=_answered)
    (work / f"eval-{args.name}.json").write_text(report.model_dump_json(indent=2), encoding="utf-8")
    extracted, gold = report.totals["extracted"][owned_spec], report.totals["gold"][owned_spec]
    record.metrics = {
        "final_loss": round(result.final_loss, 4), "best_eval_loss": result.best_eval_loss,
        "best_step": result.best_step, "steps": result.steps, "train_tokens_per_s": round(result.tokens_per_s, 1),
        "heldout_success": extracted.summary.accuracy, "heldout_n": extracted.summary.n,
        "heldout_own_words": extracted.own_words, "heldout_gold_facts_success": gold.summary.accuracy,
        "heldout_tool_call_valid_rate": extracted.summary.tool_call_valid_rate,
        "heldout_latency_p50_s": extracted.summary.latency_p50_s,
        "heldout_questions": f"first {args.eval_limit} gold questions of each eval mailbox (corpora/split.toml), "
                             "over extracted facts (heldout_success) and gold facts",
    }
    record.provenance = {
        "command": "python scripts/ship_adapter.py " + shlex.join(sys.argv[1:]), "seed": args.seed,
        "data_hash": result.data_hash, "traces": data.per_teacher, "traces_per_mailbox": per_mailbox,
        "traces_per_template": data.per_template, "teacher": ", ".join(sorted(data.per_teacher)), "note": args.note,
        "train_config": config.model_dump(mode="json", exclude={"traces", "out"}),
        "dataset": run_config["dataset"], "device": result.device,
    }
    (SHIPPED_DIR / f"{args.name}.json").write_text(record.model_dump_json(indent=2) + "\n", encoding="utf-8")
    print(json.dumps({"adapter": str(gguf), "extracted": extracted.model_dump(), "gold": gold.model_dump()}, indent=2))


if __name__ == "__main__":
    main()
