"""SFT vs RFT vs DPO from the same starting adapter, measured on an eval mailbox nobody trained on.

Every step is the product's own code (`teach.sampling`, `teach.rounds`, `finetune.train`,
`finetune.preference`, `evals.evaluation`):

  1. a store of the train mailboxes (default: every one but the sample corpus) with their gold facts;
     `--questions` synthesized questions from it;
  2. the starting adapter (default: the live one, e.g. the shipped SmolLM2 adapter) answers each
     `--samples` times at `--temperature`, scored by the strict reward (the round's reward);
  3. three candidates continue from the same weights with the same optimizer-step budget: `sft` on the
     oracle's traces of the same questions, `rft` on the distinct right samples, `dpo` on right-vs-wrong pairs;
  4. start + the three candidates answer the gold questions of every eval mailbox (`evals.family_agent`,
     `--columns`: over extracted and/or gold facts), strictly scored; right, own words, training seconds.

Usage:
  .venv/bin/python scripts/compare_retrain_methods.py --out /tmp/methods [--train school netball] \\
      [--eval-limit 12 --columns gold]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from time import perf_counter

from quarry.evals.corpora import mailboxes
from quarry.evals.family_agent import FACTS, evaluate_family_agent
from quarry.finetune import registry
from quarry.finetune.preference import PreferenceConfig, train_preference, write_pairs
from quarry.finetune.train import TrainConfig, train
from quarry.store.session import StoreSession
from quarry.store.traces import write_jsonl
from quarry.teach.family_traces import train_mailboxes
from quarry.teach.rounds import Policy, serve_policy
from quarry.teach.sampling import SamplingConfig, distinct_right, sample_questions, sampled_pairs
from quarry.teach.synthesis import synthesize
from quarry.teach.teacher import DEFAULT_HELDOUT, generate_traces, heldout_hashes

#: The train mailboxes' folders by name, read once from corpora/split.toml.
TRAIN_ROOTS = {m.name: m.root for m in mailboxes("train")}


def _train_store(names: list[str], out: Path) -> Path:
    """One store holding the named train mailboxes (mail + gold facts)."""
    from quarry.evals.gold import load_gold_facts
    from quarry.extract.pipeline import ingest
    from quarry.store.db import connect

    path = out / "train.duckdb"
    if path.exists():
        return path
    ingest([TRAIN_ROOTS[n] / "mail" for n in names], path)
    con = connect(path)
    try:
        for name in names:
            load_gold_facts(con, TRAIN_ROOTS[name] / "gold_facts.json")
    finally:
        con.close()
    return path


def _timed(label: str, fn, *args, **kwargs):
    started = perf_counter()
    result = fn(*args, **kwargs)
    seconds = round(perf_counter() - started, 1)
    print(f"{label}: {seconds} s", file=sys.stderr, flush=True)
    return result, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", nargs="+", default=[b.name for b in train_mailboxes()], choices=TRAIN_ROOTS)
    parser.add_argument("--eval-limit", type=int, default=12, help="gold questions per eval mailbox")
    parser.add_argument("--columns", nargs="+", default=list(FACTS), choices=FACTS,
                        help="facts the eval questions are asked over")
    parser.add_argument("--questions", type=int, default=16)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--steps", type=int, default=8, help="optimizer steps for every candidate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    active = registry.get_adapter(registry.active_name())
    student = f"local:{active.base}"
    start = Policy(spec=registry.model_spec(active), weights=active.peft_dir if active.peft_dir.is_dir()
                   else Path(active.path))
    db = _train_store(args.train, args.out)
    store = StoreSession(db)
    figures: dict = {"start": active.name, "train": args.train, "steps": args.steps}
    try:
        # The oracle's traces first, on an empty trace store, so both draws are the same questions.
        # Eval questions are another mailbox's: only the sample corpus's held-out wordings need keeping out.
        summary = generate_traces(store, "oracle", args.questions, args.seed, out=args.out / "sft.jsonl")
        held = heldout_hashes(DEFAULT_HELDOUT)
        questions = synthesize(store.reader(), args.questions, args.seed, held).questions
        sampling = SamplingConfig(samples=args.samples, temperature=args.temperature, seed=args.seed)
        (sampled, reward), figures["sampling_s"] = _timed("sampling", sample_questions, store, start.spec,
                                                           questions, sampling)
        figures["reward"] = reward.model_dump()
        right = write_jsonl(distinct_right(sampled), args.out / "rft.jsonl")
        pairs = write_pairs(sampled_pairs(sampled, 2), args.out / "pairs.jsonl")
    finally:
        store.close()
    figures["data"] = {"sft_traces": summary.written, "rft_traces": right, "dpo_pairs": pairs}
    specs = {"start": start.spec}
    def supervised(name: str) -> TrainConfig:
        return TrainConfig(student=student, traces=[args.out / f"{name}.jsonl"], out=args.out / name,
                           init_adapter=start.weights, max_steps=args.steps, epochs=100, eval_fraction=0.0,
                           seed=args.seed)

    jobs = {"sft": (train, supervised("sft")), "rft": (train, supervised("rft")),
            "dpo": (train_preference, PreferenceConfig(student=student, pairs=[args.out / "pairs.jsonl"],
                                                       out=args.out / "dpo", init_adapter=start.weights,
                                                       max_steps=args.steps, epochs=100, pairs_per_step=2,
                                                       seed=args.seed))}
    figures["train_s"] = {}
    for name, (fn, config) in jobs.items():
        if (name == "rft" and not right) or (name == "dpo" and not pairs):
            continue
        _, figures["train_s"][name] = _timed(f"train {name}", fn, config)
        specs[name] = serve_policy(args.out / name, student, args.out / f"{name}.gguf").spec
    report, figures["eval_s"] = _timed("eval", evaluate_family_agent, list(specs.values()), "eval",
                                       limit=args.eval_limit, profile="student", columns=tuple(args.columns))
    figures["eval"] = {facts: {name: {"n": scores[spec].summary.n, "right": scores[spec].correct,
                                      "own_words": scores[spec].own_words,
                                      "p50_s": scores[spec].summary.latency_p50_s}
                               for name, spec in specs.items()}
                       for facts, scores in report.totals.items()}
    (args.out / "figures.json").write_text(json.dumps(figures, indent=2, default=str), encoding="utf-8")
    print(json.dumps(figures, indent=2, default=str))


if __name__ == "__main__":
    main()
