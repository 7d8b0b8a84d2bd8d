"""Which base model should the owned agent be? Each student trained on the same traces, measured the same way.

Every step is the product's own code: the traces come from `teach.family_traces` (the train mailboxes of
the corpus family, gold facts, oracle answers: the same call `scripts/ship_adapter.py` makes), each
student is LoRA-tuned on them with one config (`finetune.train`), exported to GGUF, and answers the first
`--eval-limit` gold questions of every eval mailbox (`evals.family_agent`, student prompt, strict scoring).
Each student runs in its own process so its peak RSS (training and answering) is its own.

Usage:
  .venv/bin/python scripts/compare_students.py --out /tmp/students \\
      [--students smollm2-135m,gemma3-270m,qwen2.5-coder-0.5b] [--oracle-n 8] [--eval-limit 8] [--columns gold]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path
from time import perf_counter

from quarry.evals.family_agent import FACTS, evaluate_family_agent
from quarry.finetune.export import export_gguf_lora
from quarry.finetune.train import StepInfo, TrainConfig, train
from quarry.teach.family_traces import family_traces, train_mailboxes


def _one(student: str, traces: Path, args: argparse.Namespace) -> dict:
    """Train, export and evaluate one student; its figures as a JSON-able dict."""
    def progress(info: StepInfo) -> None:
        print(f"{student} {info.line()}", file=sys.stderr, flush=True)

    config = TrainConfig(student=f"local:{student}", traces=[traces], out=args.out / f"run-{student}",
                         rank=args.rank, alpha=2.0 * args.rank, epochs=args.epochs, max_steps=args.max_steps,
                         batch_tokens=args.batch_tokens, eval_fraction=0.0, seed=args.seed)
    started = perf_counter()
    result = train(config, progress)
    train_s = perf_counter() - started
    gguf = export_gguf_lora(result.run_dir, args.out / f"{student}.gguf")
    spec = f"local:{student}+adapter:{gguf}"
    columns = tuple(args.columns.split(","))
    report = evaluate_family_agent([spec], "eval", limit=args.eval_limit, profile="student", columns=columns)
    figures = {facts: {"right": score.correct, "own_words": score.own_words, "n": score.summary.n,
                       "p50_s": score.summary.latency_p50_s, "p95_s": score.summary.latency_p95_s}
               for facts, by_spec in report.totals.items() for score in by_spec.values()}
    return {"student": student, "steps": result.steps, "train_s": round(train_s, 1),
            "train_tokens_per_s": round(result.tokens_per_s, 1), "final_loss": round(result.final_loss, 4),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "adapter": str(gguf), "columns": figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--students", default="smollm2-135m,gemma3-270m,qwen2.5-coder-0.5b")
    parser.add_argument("--oracle-n", type=int, default=8, help="oracle traces per train mailbox")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--max-steps", type=int, default=None)
    parser.add_argument("--batch-tokens", type=int, default=3072)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-limit", type=int, default=8, help="gold questions per eval mailbox")
    parser.add_argument("--columns", default="gold", help=f"facts columns, comma-separated: {', '.join(FACTS)}")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)  # the child process: one student
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.one:
        print(json.dumps(_one(args.one, args.out / "traces.jsonl", args)))
        return
    data = family_traces(args.out, train_mailboxes(), oracle_n=args.oracle_n, seed=args.seed)
    print(f"traces: {sum(data.per_mailbox.values())} verified ({data.per_mailbox})", file=sys.stderr, flush=True)
    rows = []
    for student in args.students.split(","):
        child = subprocess.run([sys.executable, __file__, *sys.argv[1:], "--one", student],
                               stdout=subprocess.PIPE, text=True)
        if child.returncode != 0:  # its traceback went to stderr; the others still run
            rows.append({"student": student, "error": f"exit {child.returncode}"})
            continue
        rows.append(json.loads(child.stdout.strip().splitlines()[-1]))
        (args.out / "students.json").write_text(json.dumps({"traces": data.model_dump(mode="json"), "students": rows},
                                                           indent=2), encoding="utf-8")
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    for row in rows:
        if "error" in row:
            print(f"{row['student']}: failed ({row['error']})")
            continue
        cells = "  ".join(f"{facts} {c['right']}/{c['n']} (own {c['own_words']}, p50 {c['p50_s']:.1f} s, "
                          f"p95 {c['p95_s']:.1f} s)" for facts, c in row["columns"].items())
        print(f"{row['student']}: {row['steps']} steps in {row['train_s']:.0f} s, peak RSS {row['peak_rss_mib']} MiB; "
              f"{cells}")


if __name__ == "__main__":
    main()
