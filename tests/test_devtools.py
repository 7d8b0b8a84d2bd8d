"""The house rules as tests: imports point one way through the layers, and modules stay small."""

import subprocess
import sys
from pathlib import Path

from quarry.devtools import imports, sizes


def test_every_import_points_down_the_layers():
    graph, violations = imports.check()
    assert [str(v) for v in violations] == []
    assert "finetune" not in graph["llm"] and "agent" not in graph["finetune"]
    assert graph["cli"] >= {"agent", "evals", "teach", "finetune"}


def test_the_check_catches_an_upward_and_a_sideways_import(tmp_path):
    root = tmp_path / "quarry"
    for package, source in {"store": "from quarry.agent.loop import run_agent\n",
                            "agent": "import quarry.finetune.train\n", "finetune": ""}.items():
        (root / package).mkdir(parents=True)
        (root / package / "__init__.py").write_text("")
        (root / package / "mod.py").write_text(source)
    _, violations = imports.check(root)
    reasons = sorted(v.reason for v in violations)
    assert reasons == ["agent is above store", "finetune and agent are independent siblings"]


def test_the_command_prints_the_graph_and_exits_zero():
    done = subprocess.run([sys.executable, "-m", "quarry.devtools.imports"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert "cli -> " in done.stdout and "imports point one way: ok" in done.stdout


def test_no_file_over_450_lines_and_no_function_over_60():
    assert sizes.oversized() == []


def test_the_size_check_reports_what_is_too_long(tmp_path):
    root = tmp_path / "quarry"
    root.mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(61))
    (root / "long.py").write_text(f"def long():\n{body}\n" + "\n" * 400)
    found = sizes.oversized(root)
    assert len(found) == 2
    assert found[0].startswith(str(Path("quarry") / "long.py") + ": file has")
    assert "function long has 62 lines" in found[1]
