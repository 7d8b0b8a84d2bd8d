"""`quarry cost`: monthly cost from a report's measured tokens, training cost from a run dir, break-even."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

QUARRY = str(Path(sys.executable).parent / "quarry")
TEACHER, STUDENT = "local:qwen2.5-coder-1.5b", "local:smollm2-135m+adapter:/tmp/a.gguf"


def _summary(prompt: float, completion: float) -> dict:
    return {"n": 10, "accuracy": 0.8, "tool_call_valid_rate": 1.0, "sql_success_rate": 0.9, "steps_mean": 2.0,
            "prompt_tokens_mean": prompt, "completion_tokens_mean": completion, "latency_p50_s": 1.0,
            "latency_p95_s": 2.0, "cost_per_question_usd": 0.0}


@pytest.fixture
def report(tmp_path):
    path = tmp_path / "eval" / "run1" / "report.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"kind": "agent", "models": {TEACHER: _summary(4000, 100), STUDENT: _summary(1000, 50)}}))
    return path


@pytest.fixture
def run_dir(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    records = [{"step": 1, "tokens": 1000, "tokens_per_s": 100.0}, {"step": 2, "tokens": 7200, "tokens_per_s": 2.0}]
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return folder


def _cost(*args: str, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run([QUARRY, "cost", *args], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "QUARRY_HOME": str(home), "COLUMNS": "200"})


def test_cost_uses_measured_tokens_prices_and_training_time(report, run_dir, tmp_path):
    run = _cost("--questions-per-month", "10000", "--report", str(report), "--run-dir", str(run_dir),
                "--teacher-price", "1.0/2.0", "--student-price", "0.1", "--gpu-hour-usd", "3", "--json", home=tmp_path)
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    by_model = {m["model"]: m for m in data["models"]}
    teacher, student = by_model[TEACHER], by_model[STUDENT]
    assert teacher["role"] == "teacher" and student["role"] == "student"
    assert teacher["usd_per_question"] == pytest.approx((4000 * 1.0 + 100 * 2.0) / 1e6)
    assert teacher["usd_per_month"] == pytest.approx(42.0)
    assert student["usd_per_month"] == pytest.approx(10000 * 1050 * 0.1 / 1e6)
    assert data["training_seconds"] == pytest.approx(3600.0)  # 7200 tokens at 2 tokens/s
    assert data["training_cost_usd"] == pytest.approx(3.0)
    assert data["months_to_break_even"] == pytest.approx(3.0 / (42.0 - 1.05))


def test_cost_table_reads_the_newest_report_and_says_when_nothing_is_saved(report, tmp_path):
    run = _cost("--questions-per-month", "500", home=tmp_path)  # report under $QUARRY_HOME/eval; local = $0
    assert run.returncode == 0, run.stderr
    assert TEACHER in run.stdout and "no training run found" in run.stdout


def test_cost_errors_are_one_line(tmp_path, report):
    missing = _cost("--questions-per-month", "5", home=tmp_path / "empty")
    assert missing.returncode == 1 and "quarry eval agent" in missing.stderr and len(missing.stderr.splitlines()) == 1
    bad = _cost("--questions-per-month", "5", "--report", str(report), "--teacher-price", "cheap", home=tmp_path)
    assert bad.returncode == 1 and "IN/OUT" in bad.stderr
