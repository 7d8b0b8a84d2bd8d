"""Preference-tuning benchmark: DPO steps with and without activation recomputation, same pairs, same student.

A DPO pair row holds two conversations after their shared prefix (student prompt, schema, tool specs), so it
is about twice as long as a supervised row, and attention memory grows with the square of its length.
`finetune.preference` recomputes each layer's activations in the backward pass by default; this prints what
that costs in time and saves in peak RSS, each configuration in its own subprocess, with the plain
configuration as the baseline measured in the same run. Pairs are oracle traces of the sample corpus
(chosen) and the same conversation ending in another question's answer (rejected), at realistic lengths.

Usage:
  .venv/bin/python bench/preference.py [--student smollm2-135m] [--pairs 4] [--steps 2]
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_pairs(folder: Path, count: int) -> Path:
    """(oracle trace, same trace with the next trace's final answer) pairs from the sample corpus."""
    from train import make_traces  # bench/train.py: verified oracle traces of the sample corpus

    records = [json.loads(line) for line in make_traces(folder, count + 1).read_text().splitlines()]
    lines = []
    for record, other in zip(records, records[1:]):
        rejected = copy.deepcopy(record)
        rejected["messages"][-1]["content"] = other["messages"][-1]["content"]
        lines.append(json.dumps({"question": record["messages"][1]["content"], "chosen": record,
                                 "rejected": rejected, "source": "bench"}))
    path = folder / "pairs.jsonl"
    path.write_text("\n".join(lines[:count]) + "\n", encoding="utf-8")
    return path


def run_one(student: str, pairs: Path, steps: int, checkpointing: bool, out: Path) -> dict:
    """In this process: one DPO run; prints seconds per step and peak RSS."""
    from train import _peak_rss_mib

    from quarry.finetune.preference import PreferenceConfig, train_preference

    started = time.perf_counter()
    result = train_preference(PreferenceConfig(student=f"local:{student}", pairs=[pairs], out=out, max_steps=steps,
                                               epochs=steps, pairs_per_step=2, eval_fraction=0.0,
                                               gradient_checkpointing=checkpointing))
    return {"checkpointing": checkpointing, "steps": result.steps, "seconds": round(time.perf_counter() - started, 1),
            "tokens_per_s": round(result.tokens_per_s, 1),
            "peak_rss_mib": round(_peak_rss_mib())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--student", default="smollm2-135m")
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--one", choices=["on", "off"], help=argparse.SUPPRESS)
    parser.add_argument("--pairs-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.student, args.pairs_file, args.steps, args.one == "on", args.out)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pairs = make_pairs(folder, args.pairs)
        rows = {}
        for mode in ("off", "on"):
            done = subprocess.run([sys.executable, __file__, "--one", mode, "--pairs-file", str(pairs),
                                   "--student", args.student, "--steps", str(args.steps), "--out",
                                   str(folder / f"run-{mode}")], capture_output=True, text=True, check=True)
            rows[mode] = json.loads(done.stdout.strip().splitlines()[-1])
    plain, recomputed = rows["off"], rows["on"]
    print(f"{args.student}, {args.pairs} pairs, {args.steps} steps of 2 pairs:")
    for name, row in (("plain", plain), ("recompute activations (default)", recomputed)):
        print(f"  {name:32s} {row['seconds']:7.1f} s  {row['tokens_per_s']:7.1f} tok/s  {row['peak_rss_mib']:6d} MiB")
    print(f"  time x{recomputed['seconds'] / plain['seconds']:.2f}, peak RSS x"
          f"{recomputed['peak_rss_mib'] / plain['peak_rss_mib']:.2f} against plain")


if __name__ == "__main__":
    main()
