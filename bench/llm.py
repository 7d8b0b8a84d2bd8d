"""Local model speed: Quarry's backend against a bare llama-cpp-python call, in the same run.

For every pulled catalog model, in a fresh subprocess per (model, path) so peak RSS is per run:
prompt tokens/s, generation tokens/s, schema-constrained generation tokens/s, time to first token
and peak RSS, through `quarry.llm.local` and through `llama_cpp.Llama.create_completion` (whose
constrained figure uses llama-cpp-python's own grammar sampling). Ratios: ours/bare (target >= 0.95,
i.e. overhead < 1.05) and constrained/unconstrained (target >= 0.8).

Run on an otherwise idle machine: `python bench/llm.py [--models a,b] [--threads N]`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from typing import Any

PROMPT = (
    "Here are notes from a busy week. " + " ".join(
        f"On day {i} the team met at {8 + i % 9}:00 to review item {i}, and Dana promised a follow-up." for i in range(24)
    ) + "\nWrite a long, detailed story about the team's week."
)
SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "maxLength": 60},
        "people": {"type": "array", "items": {"type": "string", "maxLength": 20}, "maxItems": 4},
        "day": {"type": "integer", "minimum": 0, "maximum": 30},
        "summary": {"type": "string", "maxLength": 300},
    },
    "required": ["title", "people", "day", "summary"],
}
GEN_TOKENS = 128


def _messages() -> list[dict[str, str]]:
    return [{"role": "user", "content": PROMPT}]


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_ours(name: str, threads: int) -> dict[str, Any]:
    from quarry.llm.catalog import model_path
    from quarry.llm.decode import generate
    from quarry.llm.grammar import step_grammar
    from quarry.llm.local import LocalModel

    model = LocalModel(model_path(name), threads=threads)
    prompt = model.tokenize(model.format.render(_messages(), add_generation_prompt=True))
    generate(model.llm, prompt[:16], max_tokens=2)  # warm-up
    model.llm.reset()
    first = generate(model.llm, prompt, max_tokens=1)
    model.llm.reset()
    free = generate(model.llm, prompt, max_tokens=GEN_TOKENS)
    model.llm.reset()
    grammar = step_grammar(SCHEMA)
    constrained = generate(model.llm, prompt, grammar=grammar, max_tokens=GEN_TOKENS * 2)
    json.loads(constrained.text)
    return {
        "prompt_tokens": len(prompt),
        "prompt_tps": len(prompt) / first.first_token_s,
        "ttft_s": first.first_token_s,
        "gen_tokens": free.completion_tokens,
        "gen_tps": (free.completion_tokens - 1) / (free.total_s - free.first_token_s),
        "constrained_tokens": constrained.completion_tokens,
        "constrained_tps": (constrained.completion_tokens - 1) / (constrained.total_s - constrained.first_token_s),
        "full_masks": constrained.full_masks,
        "peak_rss_mib": _rss_mib(),
    }


def _timed_stream(llm: Any, prompt: list[int], **kwargs: Any) -> tuple[int, float, float]:
    """(tokens, seconds to first token, total seconds) of a streamed bare completion."""
    start, first, count = time.perf_counter(), 0.0, 0
    for _chunk in llm.create_completion(prompt, stream=True, temperature=0.0, **kwargs):
        count += 1
        first = first or time.perf_counter() - start
    return count, first, time.perf_counter() - start


def run_bare(name: str, threads: int) -> dict[str, Any]:
    from quarry.llm.catalog import model_path
    from quarry.llm.chat_format import ChatFormat
    from quarry.llm.grammar import step_grammar
    from quarry.llm.llamacpp import llama_cpp

    path = model_path(name)
    llm = llama_cpp.Llama(model_path=str(path), n_ctx=4096, n_threads=threads, n_threads_batch=threads, verbose=False)
    text = ChatFormat.for_gguf(path).render(_messages(), add_generation_prompt=True)
    prompt = llm.tokenize(text.encode(), add_bos=False, special=True)
    _timed_stream(llm, prompt[:16], max_tokens=2)  # warm-up
    llm.reset()
    _, first, _ = _timed_stream(llm, prompt, max_tokens=1)
    llm.reset()
    count, gen_first, total = _timed_stream(llm, prompt, max_tokens=GEN_TOKENS)
    llm.reset()
    grammar = llama_cpp.LlamaGrammar.from_string(step_grammar(SCHEMA), verbose=False)
    c_count, c_first, c_total = _timed_stream(llm, prompt, max_tokens=GEN_TOKENS * 2, grammar=grammar)
    return {
        "prompt_tokens": len(prompt),
        "prompt_tps": len(prompt) / first,
        "ttft_s": first,
        "gen_tokens": count,
        "gen_tps": (count - 1) / (total - gen_first),
        "constrained_tokens": c_count,
        "constrained_tps": (c_count - 1) / (c_total - c_first),
        "peak_rss_mib": _rss_mib(),
    }


def _child(name: str, path: str, threads: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", path, "--models", name, "--threads", str(threads)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=os.environ.copy())
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    from quarry.llm.catalog import CATALOG, models_dir
    from quarry.llm.local import default_threads

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", help="comma-separated catalog names (default: every pulled model)")
    parser.add_argument("--threads", type=int, default=default_threads())
    parser.add_argument("--child", choices=["ours", "bare"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps((run_ours if args.child == "ours" else run_bare)(args.models, args.threads)))
        return
    names = args.models.split(",") if args.models else [n for n in CATALOG if (models_dir() / f"{n}.gguf").is_file()]
    print(f"load average before: {os.getloadavg()[0]:.2f}; threads={args.threads}; {GEN_TOKENS} generated tokens")
    header = (f"{'model':20} {'path':5} {'prompt t/s':>10} {'gen t/s':>8} {'json t/s':>8} {'ttft s':>7} "
              f"{'RSS MiB':>8} {'json/gen':>8}")
    print(header)
    for name in names:
        rows = {path: _child(name, path, args.threads) for path in ("bare", "ours")}
        for path, row in rows.items():
            print(f"{name:20} {path:5} {row['prompt_tps']:10.1f} {row['gen_tps']:8.1f} {row['constrained_tps']:8.1f} "
                  f"{row['ttft_s']:7.2f} {row['peak_rss_mib']:8.0f} {row['constrained_tps'] / row['gen_tps']:8.2f}")
        ours, bare = rows["ours"], rows["bare"]
        print(f"{'':20} ours/bare: prompt {ours['prompt_tps'] / bare['prompt_tps']:.2f}, "
              f"gen {ours['gen_tps'] / bare['gen_tps']:.2f}, json {ours['constrained_tps'] / bare['constrained_tps']:.2f}"
              f" (full-vocabulary masks: {ours['full_masks']})")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
