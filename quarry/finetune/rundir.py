"""A training run directory is the interface between train, resume, export and the registry.

Layout: `config.json` (TrainConfig + resolved values + student + dataset stats), `metrics.jsonl`
(one line per optimizer step, eval loss when measured), `checkpoints.jsonl` (one line per saved
checkpoint; resume reads the last "last" record), `checkpoints/last/` (adapter + trainer state),
`adapter/` (the best adapter so far, what export reads), `loss.png`.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from quarry.errors import TrainingError


class RunDir:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    def config_path(self) -> Path:
        return self.path / "config.json"

    @property
    def last(self) -> Path:
        return self.path / "checkpoints" / "last"

    @property
    def best(self) -> Path:
        return self.path / "adapter"

    def write_config(self, data: dict[str, Any]) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")

    def read_config(self) -> dict[str, Any]:
        try:
            return json.loads(self.config_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise TrainingError(f"{self.config_path}: not a training run ({exc})") from exc

    def append(self, name: str, record: dict[str, Any]) -> None:
        with open(self.path / name, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, default=str) + "\n")

    def records(self, name: str) -> list[dict[str, Any]]:
        path = self.path / name
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def last_checkpoint(self) -> dict[str, Any] | None:
        """The newest resumable checkpoint record, if its files are there."""
        records = [r for r in self.records("checkpoints.jsonl") if r["kind"] == "last"]
        return records[-1] if records and self.last.exists() else None

    def truncate_metrics(self, step: int) -> None:
        """Drop metric lines past `step` (written after the checkpoint a resume restarts from)."""
        kept = [r for r in self.records("metrics.jsonl") if r["step"] <= step]
        (self.path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in kept), encoding="utf-8")

    def save_adapter(self, model: Any, target: Path) -> None:
        """Write a peft model's adapter to `target` through a temporary folder (see `replace_dir`)."""
        tmp = target.with_name(target.name + ".tmp")
        model.save_pretrained(tmp)
        self.replace_dir(target, tmp)

    def replace_dir(self, target: Path, source: Path) -> None:
        """Swap a freshly written directory in, so a crash never leaves a half-written checkpoint."""
        old = target.with_name(target.name + ".old")
        if target.exists():
            target.rename(old)
        source.rename(target)
        shutil.rmtree(old, ignore_errors=True)

    def plot(self) -> Path:
        """loss.png: training loss per step and eval loss where measured."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        records = self.records("metrics.jsonl")
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.plot([r["step"] for r in records], [r["loss"] for r in records], label="train loss", lw=1)
        evals = [r for r in records if r.get("eval_loss") is not None]
        if evals:
            ax.plot([r["step"] for r in evals], [r["eval_loss"] for r in evals], "o-", label="eval loss")
        ax.set_xlabel("optimizer step")
        ax.set_ylabel("loss (nats/token)")
        ax.legend()
        fig.tight_layout()
        out = self.path / "loss.png"
        fig.savefig(out, dpi=100)
        plt.close(fig)
        return out


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
