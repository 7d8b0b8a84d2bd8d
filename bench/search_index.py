"""Full-text search index: build time, no-op and incremental refresh, and BM25 query time, against a
plain ILIKE scan finding every matching chunk (the baseline, measured in the same run).

Synthetic corpus: N document chunks of ~100 words drawn from a Zipf-like vocabulary of 5,000 words,
so common words are very common and rare ones rare, as in mail. The machine's load average is
printed: figures taken while another job runs are lower bounds.

Usage:
  .venv/bin/python bench/search_index.py [--chunks 20000] [--queries 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from quarry.store.db import connect
from quarry.store.search import refresh_search_index, search


def timed(fn):
    began = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - began


def fill(con, chunks: int, offset: int = 0) -> None:
    """`chunks` synthetic document chunks; word k appears with probability ~ 1/k."""
    con.execute(f"""
        INSERT INTO chunks
        SELECT 'doc' || (i // 10) || ':' || (i % 10), 'document', 'doc' || (i // 10), i % 10,
               (SELECT string_agg('w' || CAST(floor(exp(random() * ln(5000))) AS INTEGER), ' ')
                FROM range(100) w(j) WHERE i >= 0)
        FROM range({offset}, {offset + chunks}) r(i)
    """)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=20000)
    parser.add_argument("--queries", type=int, default=20)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores; >1 means shared, figures are lower bounds)")
    con = connect(":memory:")
    fill(con, args.chunks)
    added, build_s = timed(lambda: refresh_search_index(con))
    terms = con.execute("SELECT count(*) FROM search_terms").fetchone()[0]
    print(f"build: {added} chunks, {terms} (term, chunk) rows in {build_s:.2f} s ({added / build_s:,.0f} chunks/s)")
    _, noop_s = timed(lambda: refresh_search_index(con))
    print(f"refresh with nothing new: {noop_s * 1000:.0f} ms")
    fill(con, 100, offset=args.chunks)
    added, inc_s = timed(lambda: refresh_search_index(con))
    print(f"refresh after {added} new chunks: {inc_s * 1000:.0f} ms")

    words = [f"w{k} w{k * 7 + 3}" for k in range(40, 40 + args.queries)]  # one mid-frequency, one rarer word
    search(con, words[0])  # warm up
    bm25 = [timed(lambda q=q: search(con, q, 5))[1] for q in words]
    scan = [timed(lambda q=q: con.execute(
        "SELECT chunk_id FROM chunks WHERE text ILIKE ? OR text ILIKE ?",
        [f"% {q.split()[0]} %", f"% {q.split()[1]} %"]).fetchall())[1] for q in words]
    bm25_ms, scan_ms = statistics.median(bm25) * 1000, statistics.median(scan) * 1000
    print(f"BM25 query (top 5, ranked): median {bm25_ms:.1f} ms over {len(words)} queries")
    print(f"baseline ILIKE scan (every matching chunk, unranked): median {scan_ms:.1f} ms "
          f"-> BM25/scan = {bm25_ms / scan_ms:.2f}x")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
