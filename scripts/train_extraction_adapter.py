"""Train a LoRA extraction adapter on the train mailboxes' gold facts and score it on the eval mailboxes.

Issue #11's "small model trained for extraction" candidate: one record per train message the LLM extractor
would be sent (`quarry.evals.extraction_traces`), the extractor's own prompt and JSON schema (enforced while
decoding), `quarry train`'s LoRA, GGUF export, then the family scoring of `--extractor llm` with the adapter
(`--score eval`: the eval column; `--score all` adds the train column, in-sample). The adapter is written
under --out, not shipped; use it with `quarry ingest --extractor llm --model local:STUDENT+adapter:GGUF`.

Usage:
  .venv/bin/python scripts/train_extraction_adapter.py [--student qwen2.5-coder-0.5b] [--epochs 1]
      [--empty-per-fact 0.5] [--out .quarry-ship/extract] [--score eval|all|none]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from quarry.evals.corpora import mailboxes
from quarry.evals.extraction_traces import extraction_records, write_records
from quarry.evals.family import score_family
from quarry.finetune.export import export_gguf_lora
from quarry.finetune.train import StepInfo, TrainConfig, train

ROOT = Path(__file__).resolve().parent.parent


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _progress(info: StepInfo) -> None:
    _log(info.line())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--student", default="qwen2.5-coder-0.5b")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--max-steps", type=int, default=None)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--empty-per-fact", type=float, default=0.5,
                        help="messages without a gold fact kept per message with one")
    parser.add_argument("--out", type=Path, default=ROOT / ".quarry-ship" / "extract")
    parser.add_argument("--score", choices=("eval", "all", "none"), default="eval")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    records = extraction_records(mailboxes("train"), args.empty_per_fact, _log)
    traces = write_records(records, args.out / "extraction-records.jsonl")
    _log(f"{len(records)} records -> {traces}")
    config = TrainConfig(student=f"local:{args.student}", traces=[traces], out=args.out / "run", rank=args.rank,
                         alpha=2.0 * args.rank, epochs=args.epochs, max_steps=args.max_steps, batch_tokens=3072,
                         eval_fraction=0.0)
    result = train(config, _progress)
    gguf = export_gguf_lora(result.run_dir, args.out / f"extract-{args.student}.gguf")
    spec = f"local:{args.student}+adapter:{gguf}"
    _log(f"adapter {gguf} ({result.steps} steps, {result.tokens_per_s:.0f} tok/s); spec {spec}")
    if args.score == "none":
        return
    report = score_family(None if args.score == "all" else "eval", "llm", spec,
                          on_mailbox=lambda m: _log(f"{m.split}/{m.name}: events F1 {m.types['events'].f1:.2f} "
                                                    f"({m.seconds:.0f} s)"))
    (args.out / "scores.json").write_text(report.model_dump_json(indent=2), encoding="utf-8")
    print(json.dumps({part: {kind: {k: getattr(t, k) for k in ("f1", "precision", "recall", "gold")}
                             for kind, t in scores.items()} for part, scores in report.splits.items()}, indent=1))


if __name__ == "__main__":
    main()
