"""Training benchmark: Quarry's trainer vs a plain transformers + peft loop, per student, same traces.

Both sides train the same LoRA (r=16, alpha=32, all linear layers, AdamW, fp32 on CPU) on the same
verified oracle traces of the sample corpus, rendered the same way (student prompt, compact tools,
assistant-only targets). They differ in how a step is computed:
  plain:  padded batches of `--batch` examples, `model(input_ids, attention_mask, labels)`, i.e.
          full-vocabulary logits at every position (what a first transformers+peft script does);
  quarry: `quarry.finetune.train` (examples packed into rows that hold their shared prefix --
          system prompt, schema, tool specs -- once; no padding; LM head only at assistant positions).
Throughput counts the examples' own tokens (no padding; a shared prefix counted once per example, as
if unpacked) per second of optimizer steps, so both sides measure how fast the same data is learned
from; tests/test_finetune.py checks that the packed loss equals the unpacked one. Every configuration runs
in its own subprocess, so peak RSS is that configuration's alone. Run it with nothing else on the
cores: PyTorch slows 10-20x when it shares them.

Usage:
  .venv/bin/python bench/train.py [--students smollm2-135m gemma3-270m qwen2.5-coder-0.5b]
      [--steps 4] [--traces 48] [--batch-tokens 2048] [--batch 2]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_traces(folder: Path, count: int) -> Path:
    """Verified oracle traces of the sample corpus, as training JSONL."""
    from quarry.evals.gold import build_gold_store
    from quarry.store.session import StoreSession
    from quarry.teach.teacher import generate_traces

    store = StoreSession(build_gold_store(ROOT / "sample_corpus", folder / "sample.duckdb"))
    try:
        out = folder / "traces.jsonl"
        summary = generate_traces(store, "oracle", count, seed=0, out=out)
    finally:
        store.close()
    print(f"{summary.written} oracle traces in {out}", file=sys.stderr)
    return out


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_quarry(student: str, traces: Path, steps: int, batch_tokens: int, out: Path) -> dict:
    from quarry.finetune.train import TrainConfig, train

    config = TrainConfig(student=f"local:{student}", traces=[traces], out=out, max_steps=steps,
                         batch_tokens=batch_tokens, eval_fraction=0.0, eval_every=10_000, seed=0)
    result = train(config)
    return {"tokens_per_s": result.tokens_per_s, "steps": result.steps}


def run_plain(student: str, traces: Path, steps: int, batch: int) -> dict:
    """The baseline loop: padded batches, labels=-100 outside assistant tokens, the model's own loss."""
    import torch
    from peft import LoraConfig, get_peft_model

    from quarry.finetune.dataset import IGNORE, DatasetConfig, build_dataset
    from quarry.finetune.student import load_student

    torch.manual_seed(0)
    loaded = load_student(f"local:{student}")
    dataset = build_dataset(DatasetConfig(traces=[traces], eval_fraction=0.0, max_tokens=1 << 20),
                            loaded.chat_format, loaded.tokenizer)
    model = get_peft_model(loaded.model, LoraConfig(r=16, lora_alpha=32, target_modules="all-linear",
                                                    task_type="CAUSAL_LM"))
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-4)
    pad = loaded.tokenizer.pad_token_id or 0
    examples = dataset.train
    tokens, seconds = 0, 0.0
    model.train()
    for step in range(steps):
        chunk = [examples[(step * batch + i) % len(examples)] for i in range(batch)]
        width = max(len(e.input_ids) for e in chunk)
        ids = torch.tensor([e.input_ids + [pad] * (width - len(e.input_ids)) for e in chunk])
        attention = torch.tensor([[1] * len(e.input_ids) + [0] * (width - len(e.input_ids)) for e in chunk])
        labels = torch.tensor([[t if m else IGNORE for t, m in zip(e.input_ids, e.mask)] + [IGNORE] * (width - len(e.input_ids))
                               for e in chunk])
        started = time.perf_counter()
        loss = model(input_ids=ids, attention_mask=attention, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        seconds += time.perf_counter() - started
        tokens += sum(len(e.input_ids) for e in chunk)
    return {"tokens_per_s": tokens / seconds, "steps": steps}


def child(args: argparse.Namespace) -> None:
    """One configuration, in this process; prints one JSON line."""
    if args.child == "quarry":
        figures = run_quarry(args.student, args.traces_file, args.steps, args.batch_tokens, args.out)
    else:
        figures = run_plain(args.student, args.traces_file, args.steps, args.batch)
    print(json.dumps({**figures, "peak_rss_mib": _peak_rss_mib()}))


def measure(kind: str, student: str, traces: Path, args: argparse.Namespace, scratch: Path) -> dict:
    command = [sys.executable, __file__, "--child", kind, "--student", student, "--traces-file", str(traces),
               "--steps", str(args.steps), "--batch-tokens", str(args.batch_tokens), "--batch", str(args.batch),
               "--out", str(scratch / f"{kind}-{student}")]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", nargs="+", default=["smollm2-135m", "gemma3-270m", "qwen2.5-coder-0.5b"])
    parser.add_argument("--steps", type=int, default=4, help="optimizer steps per configuration")
    parser.add_argument("--traces", type=int, default=48, help="oracle traces to generate")
    parser.add_argument("--batch-tokens", type=int, default=2048, help="quarry: tokens per packed row")
    parser.add_argument("--batch", type=int, default=2, help="plain loop: examples per padded batch")
    parser.add_argument("--child", choices=["quarry", "plain"], help=argparse.SUPPRESS)
    parser.add_argument("--student", help=argparse.SUPPRESS)
    parser.add_argument("--traces-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    with tempfile.TemporaryDirectory(prefix="quarry-bench-train-") as tmp:
        scratch = Path(tmp)
        traces = make_traces(scratch, args.traces)
        print(f"{'student':<20} {'plain tok/s':>11} {'quarry tok/s':>12} {'ratio':>6} "
              f"{'plain RSS MiB':>13} {'quarry RSS MiB':>14}")
        for student in args.students:
            plain = measure("plain", student, traces, args, scratch)
            ours = measure("quarry", student, traces, args, scratch)
            if "error" in plain or "error" in ours:
                print(f"{student:<20} error: {plain.get('error') or ours.get('error')}")
                continue
            ratio = ours["tokens_per_s"] / plain["tokens_per_s"]
            print(f"{student:<20} {plain['tokens_per_s']:>11.0f} {ours['tokens_per_s']:>12.0f} {ratio:>5.2f}x "
                  f"{plain['peak_rss_mib']:>13.0f} {ours['peak_rss_mib']:>14.0f}", flush=True)


if __name__ == "__main__":
    main()
