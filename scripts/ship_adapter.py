"""Train, measure and write the owned model that ships with Quarry (quarry/finetune/shipped/NAME.{gguf,json}).

Every step is the product's own code, and NAME.json records how the adapter was made (this command,
seed, trace counts by teacher, data hash, training config) and what it measured (training and eval
loss, held-out task success next to the bare base model on the same gold questions):

  1. the sample corpus ingested with its gold facts (so traces teach tool use, not extraction errors);
  2. verified traces: `--oracle-n` from the oracle, `--teacher-n` answered by a real teacher model
     (paraphrased questions; kept only if their tool calls ran and the answer checks out);
  3. `quarry train` on them (student prompt and compact tools; by default every template is trained
     on, since the gold questions are the held-out set);
  4. GGUF export, then both models through `quarry eval agent` on the first `--eval-limit` gold
     questions (never used for training: generation drops them by hash).

Usage:
  .venv/bin/python scripts/ship_adapter.py [--name quarry-smollm2-v1] [--student smollm2-135m]
      [--oracle-n 240] [--teacher-n 40] [--teacher local:qwen2.5-coder-1.5b] [--epochs 2] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from quarry.evals.evaluation import evaluate_models
from quarry.evals.gold import build_gold_store
from quarry.finetune.export import export_gguf_lora
from quarry.finetune.registry import SHIPPED_DIR, AdapterRecord, model_spec
from quarry.finetune.student import StudentInfo
from quarry.finetune.train import StepInfo, TrainConfig, train
from quarry.store.session import StoreSession
from quarry.store.traces import export_jsonl
from quarry.teach.teacher import generate_traces

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "sample_corpus"


def _traces(work: Path, args: argparse.Namespace) -> tuple[Path, dict[str, int]]:
    """Generate the verified traces into the work store and export them as training JSONL."""
    db = work / "sample.duckdb"
    if not db.exists():
        build_gold_store(CORPUS, db)
    store = StoreSession(db)
    try:
        if args.oracle_n:
            generate_traces(store, "oracle", args.oracle_n, args.seed)
        if args.teacher_n:
            real = generate_traces(store, args.teacher, args.teacher_n, args.seed + 1, paraphrase=True)
            print(f"teacher {args.teacher}: kept {real.kept}/{real.synthesized}, rejected {real.rejected}",
                  file=sys.stderr)
        out = work / "traces.jsonl"
        export_jsonl(store.reader(), out, verified_only=True)
    finally:
        store.close()
    # Every verified trace in the work store is training data, also those of earlier runs of this script.
    teachers = [json.loads(line)["metadata"].get("teacher", "chat") for line in out.read_text().splitlines() if line]
    return out, dict(Counter(teachers))


def _progress(info: StepInfo) -> None:
    eval_part = f" eval {info.eval_loss:.3f}" if info.eval_loss is not None else ""
    print(f"step {info.step}/{info.total_steps} loss {info.loss:.3f}{eval_part} {info.tokens_per_s:.0f} tok/s",
          file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", default="quarry-smollm2-v1")
    parser.add_argument("--student", default="smollm2-135m")
    parser.add_argument("--oracle-n", type=int, default=240)
    parser.add_argument("--teacher-n", type=int, default=40)
    parser.add_argument("--teacher", default="local:qwen2.5-coder-1.5b")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--max-steps", type=int, default=None)
    parser.add_argument("--batch-tokens", type=int, default=3072)
    parser.add_argument("--eval-fraction", type=float, default=0.0,
                        help="templates held out for eval loss (default none: the gold questions are the held-out set)")
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-limit", type=int, default=20)
    parser.add_argument("--note", default="", help="free text kept in the provenance (e.g. earlier steps)")
    parser.add_argument("--work", type=Path, default=ROOT / ".quarry-ship", help="scratch store, traces, run")
    args = parser.parse_args()
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    traces, counts = _traces(work, args)
    config = TrainConfig(student=f"local:{args.student}", traces=[traces], out=work / f"run-{args.name}",
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
    base_spec, owned_spec = f"local:{args.student}", model_spec(record.model_copy(update={"path": str(gguf)}))
    report = evaluate_models([base_spec, owned_spec], CORPUS / "gold_questions.jsonl", work / "sample.duckdb",
                             limit=args.eval_limit, out_dir=work / f"eval-{args.name}", profile="student")
    base, owned = report.models[base_spec], report.models[owned_spec]
    record.metrics = {
        "final_loss": round(result.final_loss, 4), "best_eval_loss": result.best_eval_loss,
        "best_step": result.best_step, "steps": result.steps, "train_tokens_per_s": round(result.tokens_per_s, 1),
        "heldout_success": owned.accuracy, "heldout_n": owned.n, "base_heldout_success": base.accuracy,
        "heldout_tool_call_valid_rate": owned.tool_call_valid_rate, "heldout_latency_p50_s": owned.latency_p50_s,
        "heldout_questions": f"first {args.eval_limit} of sample_corpus/gold_questions.jsonl",
    }
    record.provenance = {
        "command": "python scripts/ship_adapter.py " + shlex.join(sys.argv[1:]), "seed": args.seed,
        "data_hash": result.data_hash, "traces": counts, "teacher": ", ".join(sorted(counts)), "note": args.note,
        "train_config": config.model_dump(mode="json", exclude={"traces", "out"}),
        "dataset": run_config["dataset"], "device": result.device,
    }
    (SHIPPED_DIR / f"{args.name}.json").write_text(record.model_dump_json(indent=2) + "\n", encoding="utf-8")
    print(json.dumps({"adapter": str(gguf), "base": base.model_dump(), "owned": owned.model_dump()}, indent=2))


if __name__ == "__main__":
    main()
