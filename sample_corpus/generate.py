#!/usr/bin/env python3
"""Generate Quarry's sample corpus, or a large synthetic mailbox for benchmarks. Deterministic: same bytes every run.

    python sample_corpus/generate.py                      # the sample corpus, into sample_corpus/
    python sample_corpus/generate.py --out /tmp/corpus    # the same, elsewhere
    python sample_corpus/generate.py --messages 20000 --format maildir --out /tmp/bench-mail [--seed 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpusgen.bulk import write_bulk  # noqa: E402
from corpusgen.write import write_corpus  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: this folder)")
    parser.add_argument("--messages", type=int, default=None, help="write N synthetic messages for benchmarks")
    parser.add_argument("--format", choices=("mbox", "maildir"), default="mbox", help="bulk mailbox format")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.messages is None:
        counts = write_corpus(args.out or HERE, args.seed)
        summary = ", ".join(f"{k}={v}" for k, v in counts.items())
    else:
        if args.out is None:
            parser.error("--messages needs --out")
        if args.messages < 1:
            parser.error("--messages must be at least 1")
        written = write_bulk(args.out, args.messages, args.format, args.seed)
        summary = f"messages={written} format={args.format} out={args.out}"
    print(f"{summary} ({time.perf_counter() - started:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
