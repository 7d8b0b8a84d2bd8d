"""Train the encoder extractor's heads on the train mailboxes and write quarry/extract/fact_filter.json.

Only train mailboxes are read (corpora/split.toml). With --cv, each train mailbox is also scored end to end
with heads fitted without it, beside the rules on the same mailbox: the honest train column (the heads have
seen every train mailbox, so `quarry eval extract --split train --extractor encoder` is in-sample). The eval
column is `quarry eval extract --split eval --extractor encoder` with the shipped heads.

Usage:
  .venv/bin/python scripts/train_fact_filter.py [--cv] [--out quarry/extract/fact_filter.json]
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from quarry.evals.corpora import mailboxes
from quarry.evals.fact_filter_training import C, collect, fit_weights, fold_weights
from quarry.evals.family import score_mailbox, summed
from quarry.extract.fact_filter import WEIGHTS_FILE, EncoderExtractor

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("events", "deadlines", "action_items")


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=WEIGHTS_FILE)
    parser.add_argument("--cv", action="store_true", help="also score each train mailbox with heads fitted without it")
    args = parser.parse_args()
    boxes = mailboxes("train")
    names = [b.name for b in boxes]
    data = collect(boxes, _log)
    weights = fit_weights(data, names, _log)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    weights.provenance = {
        "command": "python scripts/train_fact_filter.py " + shlex.join(sys.argv[1:]), "commit": commit, "C": C,
        "candidates": dict(Counter(data.table)),
        "real": dict(Counter(t for t, real in zip(data.table, data.label, strict=True) if real)),
    }
    args.out.write_text(weights.model_dump_json(indent=1) + "\n", encoding="utf-8")
    _log(f"wrote {args.out}: heads for {', '.join(weights.heads) or 'no type'}")
    if not args.cv:
        return
    scores: dict[str, list] = {"rules": [], "encoder": []}
    with tempfile.TemporaryDirectory(prefix="quarry-filter-cv-") as tmp:
        for name in scores:
            (Path(tmp) / name).mkdir()
        for box in boxes:
            scores["rules"].append(score_mailbox(box, "rules", None, Path(tmp) / "rules"))
            held_out = EncoderExtractor(fold_weights(data, names, box.name))
            scores["encoder"].append(score_mailbox(box, held_out, None, Path(tmp) / "encoder"))
            _log(f"{box.name}: events F1 rules {scores['rules'][-1].types['events'].f1:.2f}, "
                 f"encoder (without it) {scores['encoder'][-1].types['events'].f1:.2f}")
    print("train mailboxes, each scored with heads fitted without it")
    print(f"{'type':<14}{'rules F1 (P/R)':>22}{'encoder F1 (P/R)':>22}")
    for kind in KINDS:
        cells = [summed([s.types[kind] for s in scores[name]]) for name in ("rules", "encoder")]
        print(f"{kind:<14}" + "".join(f"{f'{c.f1:.2f} ({c.precision:.2f}/{c.recall:.2f})':>22}" for c in cells))


if __name__ == "__main__":
    main()
