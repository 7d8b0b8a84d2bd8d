"""Ingest speed and memory: `quarry ingest` against `notmuch new` and `mu index` on the same Maildir, in one run.

Generates a Maildir with the sample corpus generator's command line, times each indexer as a child
process (peak memory = the largest sum of PSS over the child's process tree, sampled every 50 ms), and
prints messages/s and the ratio of Quarry to each peer. A second run ingests a big mbox to show memory
stays flat while streaming. Installs nothing: a missing peer is reported with the apt-get line.

    python bench/ingest.py                       # 20,000 messages + a 100,000-message mbox
    python bench/ingest.py --messages 5000 --mbox-messages 0
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
QUARRY = [sys.executable, "-c", "from quarry.cli import main; main()"]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _memory(proc: psutil.Process) -> int:
    """PSS where the OS reports it (pages shared by forked workers count once), else RSS."""
    try:
        return proc.memory_full_info().pss
    except (AttributeError, psutil.AccessDenied):
        return proc.memory_info().rss


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float, str]:
    """(wall s, CPU s of the whole tree, peak PSS MiB of the tree, stdout) of one command; raises on failure."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    proc = psutil.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    while proc.poll() is None:
        try:
            tree = [proc, *proc.children(recursive=True)]
            peak = max(peak, sum(_memory(p) for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} failed ({proc.returncode}): {err.strip()[-500:]}")
    return seconds, _children_cpu() - cpu_before, peak / 2**20, out


def generate(n: int, fmt: str, out: Path) -> None:
    subprocess.run([sys.executable, str(ROOT / "sample_corpus" / "generate.py"), "--messages", str(n),
                    "--format", fmt, "--out", str(out)], check=True, capture_output=True)


def bench_quarry(paths: list[Path], db: Path, extractor: str = "none") -> dict:
    """`quarry ingest`: with extractor 'none' the store layer alone (the full-text index is built, as mu and
    notmuch build theirs); with the default extractor ('auto': rules when no model is configured) end to end."""
    command = [*QUARRY, "ingest", *map(str, paths), "--db", str(db), "--json", "--extractor", extractor]
    seconds, cpu, rss, out = run_measured(command)
    try:
        summary = json.loads(out)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"quarry ingest --json printed something else: {out[:300]!r}") from exc
    return {"seconds": seconds, "cpu": cpu, "rss_mib": rss, "messages": summary["messages_new"],
            "quarantined": summary["quarantined"]}


def bench_notmuch(maildir: Path, home: Path) -> dict | None:
    if not shutil.which("notmuch"):
        return None
    config = home / "notmuch-config"
    config.write_text(f"[database]\npath={home / 'notmuch-db'}\nmail_root={maildir}\n[new]\ntags=unread;inbox;\n"
                      "[user]\nname=Bench\nprimary_email=bench@example.org\n")
    (home / "notmuch-db").mkdir()
    env = os.environ | {"NOTMUCH_CONFIG": str(config), "HOME": str(home)}
    seconds, cpu, rss, _ = run_measured(["notmuch", "new", "--quiet"], env)
    return {"seconds": seconds, "cpu": cpu, "rss_mib": rss}


def bench_mu(maildir: Path, home: Path) -> dict | None:
    if not shutil.which("mu"):
        return None
    muhome = home / "mu"
    env = os.environ | {"HOME": str(home)}
    subprocess.run(["mu", "init", f"--maildir={maildir}", f"--muhome={muhome}"], env=env, check=True,
                   capture_output=True)
    seconds, cpu, rss, _ = run_measured(["mu", "index", f"--muhome={muhome}", "--quiet"], env)
    return {"seconds": seconds, "cpu": cpu, "rss_mib": rss}


def report(name: str, n: int, result: dict | None, quarry: dict | None = None) -> None:
    """One line: wall-clock rate, rate per CPU-second (steadier on a shared machine), peak RSS, ratios."""
    if result is None:
        print(f"{name:<14} not installed (apt-get install notmuch maildir-utils)")
        return
    rate, cpu_rate = n / result["seconds"], n / max(result["cpu"], 1e-9)
    line = (f"{name:<14} {n:>7,} msgs  {result['seconds']:7.1f} s  {rate:7,.0f} msgs/s  "
            f"{cpu_rate:7,.0f} msgs/CPU-s  peak PSS {result['rss_mib']:5.0f} MiB")
    if quarry:
        peer = name.split()[0]
        line += (f"   quarry/{peer}: {quarry['seconds'] and result['seconds'] / quarry['seconds']:.2f}x wall, "
                 f"{result['cpu'] / max(quarry['cpu'], 1e-9):.2f}x per CPU")
    print(line)


def compare_peers(work: Path, n: int) -> None:
    maildir = work / "Maildir"
    generate(n, "maildir", maildir)
    quarry = bench_quarry([maildir], work / "q.duckdb")
    assert quarry["messages"] + quarry["quarantined"] <= n
    report("quarry ingest", n, quarry)
    report("+ extraction", n, bench_quarry([maildir], work / "q-facts.duckdb", "auto"))
    for name, runner in (("notmuch new", bench_notmuch), ("mu index", bench_mu)):
        home = work / name.split()[0]
        home.mkdir()
        report(name, n, runner(maildir, home), quarry)


def machine_note() -> str:
    load = os.getloadavg()[0]
    return f"load average {load:.2f} on {os.cpu_count()} cores" + (" (BUSY: figures are lower bounds)"
                                                                     if load > 1.5 else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20_000, help="Maildir size for the peer comparison (0: skip)")
    parser.add_argument("--mbox-messages", type=int, default=100_000, help="mbox size for the memory run (0: skip)")
    args = parser.parse_args()
    print(f"before: {machine_note()}")
    with tempfile.TemporaryDirectory(prefix="quarry-bench-") as tmp:
        work = Path(tmp)
        if args.messages:
            compare_peers(work, args.messages)
        if args.mbox_messages:
            mbox_dir = work / "mbox"
            generate(args.mbox_messages, "mbox", mbox_dir)
            size = sum(p.stat().st_size for p in mbox_dir.iterdir())
            result = bench_quarry([mbox_dir], work / "mbox.duckdb")
            print(f"mbox ({size / 2**20:,.0f} MiB file):")
            report("quarry ingest", args.mbox_messages, result)
    print(f"after: {machine_note()}")


if __name__ == "__main__":
    main()
