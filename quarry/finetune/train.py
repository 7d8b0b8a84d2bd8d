"""LoRA fine-tuning of the student on verified traces (torch + peft, on 🤗 accelerate).

Accelerate picks the device (CUDA with bf16 autocast when present, else CPU fp32) and, under
`accelerate launch`, wraps the model for data-parallel training; each process takes every N-th
packed batch. Gradient accumulation is done here, weighted by target tokens, so resume can restart
at any optimizer step. Eval loss on held-out templates every K steps drives best-checkpoint
keeping and early stopping. The library never prints: progress goes to the `on_step` callback.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from quarry.errors import InputError, TrainingError
from quarry.finetune.dataset import Dataset, DatasetConfig, PackedBatch, build_dataset, pack
from quarry.finetune.rundir import RunDir, now
from quarry.finetune.student import StudentInfo


class TrainConfig(BaseModel):
    """Everything a run needs; saved to config.json so `--resume` needs only the run directory."""

    student: str
    traces: list[Path]
    out: Path
    rank: int = Field(16, ge=1)
    alpha: float = 32.0
    dropout: float = 0.0
    lr: float | None = None
    epochs: int = Field(2, ge=1)
    max_steps: int | None = None
    batch_tokens: int = Field(2048, ge=64)
    grad_accum: int = Field(1, ge=1)
    warmup_ratio: float = 0.05
    schedule: Literal["cosine", "linear"] = "cosine"
    eval_every: int = Field(20, ge=1)
    patience: int = Field(3, ge=1)
    seed: int = 0
    system_prompt: str | None = None
    eval_fraction: float = 0.2
    eval_templates: list[str] | None = None
    max_grad_norm: float = 1.0
    #: An adapter to continue from (retraining): a peft folder or a GGUF LoRA file; its rank and alpha then
    #: replace `rank`/`alpha`.
    init_adapter: Path | None = None

    def dataset_config(self) -> DatasetConfig:
        return DatasetConfig(traces=self.traces, system_prompt=self.system_prompt, seed=self.seed,
                             eval_fraction=self.eval_fraction, eval_templates=self.eval_templates,
                             max_tokens=self.batch_tokens)


class StepInfo(BaseModel):
    """Sent to `on_step` after each optimizer step."""

    step: int
    total_steps: int
    epoch: int
    loss: float
    lr: float
    tokens: int
    tokens_per_s: float
    eval_loss: float | None = None
    best_eval_loss: float | None = None

    def line(self) -> str:
        """'step 3/67 loss 0.544 [eval 0.610] 118 tok/s': the progress line the training scripts print."""
        eval_part = f" eval {self.eval_loss:.3f}" if self.eval_loss is not None else ""
        return f"step {self.step}/{self.total_steps} loss {self.loss:.3f}{eval_part} {self.tokens_per_s:.0f} tok/s"


class TrainResult(BaseModel):
    run_dir: Path
    steps: int
    total_steps: int
    best_step: int
    best_eval_loss: float | None
    final_loss: float
    tokens_per_s: float
    stopped_early: bool
    data_hash: str
    device: str


class _State(BaseModel):
    """Trainer counters saved with every checkpoint."""

    step: int = 0
    epoch: int = 0
    step_in_epoch: int = 0
    tokens: int = 0
    train_seconds: float = 0.0
    best_eval_loss: float | None = None
    best_step: int = 0
    bad_evals: int = 0
    last_loss: float = float("nan")


def train(config: TrainConfig, on_step: Callable[[StepInfo], None] | None = None,
          resume: bool = False) -> TrainResult:
    """Train a LoRA adapter; with `resume`, continue the run in `config.out` from its last checkpoint."""
    import torch
    from accelerate import Accelerator

    from quarry.finetune.student import default_lr, load_student

    run = RunDir(config.out)
    record = run.last_checkpoint() if resume else None
    if resume and record is None:
        raise TrainingError(f"{run.path}: no checkpoint to resume from")
    if not resume and run.records("checkpoints.jsonl"):
        raise TrainingError(f"{run.path}: already holds a run; use --resume or another --out")
    use_cuda = torch.cuda.is_available()
    accelerator = Accelerator(mixed_precision="bf16" if use_cuda and torch.cuda.is_bf16_supported() else "no")
    student = load_student(config.student)
    dataset = build_dataset(config.dataset_config(), student.chat_format, student.tokenizer,
                            student.info.template_sha256)
    if not dataset.train:
        raise InputError("no training examples left after the template split")
    lr = config.lr or default_lr(student.info)
    per_epoch = _steps_per_epoch(dataset, config, accelerator.num_processes)
    total = min(config.max_steps or per_epoch * config.epochs, per_epoch * config.epochs)
    if not resume:
        run.write_config({"train": config.model_dump(mode="json"), "lr": lr, "total_steps": total,
                          "steps_per_epoch": per_epoch, "student": student.info.model_dump(),
                          "dataset": dataset.stats(), "device": str(accelerator.device),
                          "processes": accelerator.num_processes, "created_at": now()})
    trainer = _Trainer(config, run, accelerator, student.model, student.info, dataset, lr, total)
    if record is not None:
        trainer.restore()
    return trainer.fit(on_step)


def resume_config(run_dir: Path) -> TrainConfig:
    """The TrainConfig a run directory was started with."""
    return TrainConfig.model_validate(RunDir(run_dir).read_config()["train"])


def _steps_per_epoch(dataset: Dataset, config: TrainConfig, processes: int) -> int:
    batches = len(pack(dataset.train, config.batch_tokens)) // processes
    if batches == 0:
        raise InputError(f"too little training data for {processes} processes")
    return math.ceil(batches / config.grad_accum)


class _Trainer:
    def __init__(self, config: TrainConfig, run: RunDir, accelerator: Any, model: Any, info: StudentInfo,
                 dataset: Dataset, lr: float, total: int) -> None:
        import torch
        from transformers import get_cosine_schedule_with_warmup, get_linear_schedule_with_warmup

        from quarry.finetune.lora import attach_lora
        from quarry.finetune.objective import AssistantLoss

        self.config, self.run, self.acc, self.dataset, self.total = config, run, accelerator, dataset, total
        torch.manual_seed(config.seed)
        random.seed(config.seed)
        self.peft = attach_lora(model, info, config.init_adapter, run.path, rank=config.rank, alpha=config.alpha,
                                dropout=config.dropout)
        params = [p for p in self.peft.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
        make = get_cosine_schedule_with_warmup if config.schedule == "cosine" else get_linear_schedule_with_warmup
        self.scheduler = make(optimizer, math.ceil(config.warmup_ratio * total), total)
        self.loss_model, self.optimizer = accelerator.prepare(AssistantLoss(self.peft), optimizer)
        self.state = _State()
        self.eval_batches = pack(dataset.eval, config.batch_tokens)

    def _epoch_steps(self, epoch: int) -> list[list[PackedBatch]]:
        """This process's packed batches for an epoch, grouped into optimizer steps."""
        batches = pack(self.dataset.train, self.config.batch_tokens, seed=self.config.seed + epoch)
        n = self.acc.num_processes
        mine = batches[self.acc.process_index: len(batches) // n * n: n]
        k = self.config.grad_accum
        return [mine[i: i + k] for i in range(0, len(mine), k)]

    def fit(self, on_step: Callable[[StepInfo], None] | None) -> TrainResult:
        state, stopped = self.state, False
        while state.step < self.total and not stopped:
            groups = self._epoch_steps(state.epoch)
            while state.step_in_epoch < len(groups) and state.step < self.total and not stopped:
                started = time.perf_counter()
                loss, tokens = self._optimizer_step(groups[state.step_in_epoch])
                state.train_seconds += time.perf_counter() - started
                state.step, state.step_in_epoch = state.step + 1, state.step_in_epoch + 1
                state.tokens, state.last_loss = state.tokens + tokens, loss
                stopped = self._after_step(on_step)
            if state.step_in_epoch >= len(groups):
                state.epoch, state.step_in_epoch = state.epoch + 1, 0
        if state.best_eval_loss is None:  # no eval split: the last adapter is the one to keep
            self._save_adapter(self.run.best)
            state.best_step = state.step
        self.run.plot()
        return TrainResult(
            run_dir=self.run.path, steps=state.step, total_steps=self.total, best_step=state.best_step,
            best_eval_loss=state.best_eval_loss, final_loss=state.last_loss, stopped_early=stopped,
            tokens_per_s=state.tokens / max(state.train_seconds, 1e-9), data_hash=self.dataset.data_hash,
            device=str(self.acc.device),
        )

    def _optimizer_step(self, group: list[PackedBatch]) -> tuple[float, int]:
        """Accumulate gradients over the group's micro-batches (token-weighted), then step."""
        from quarry.finetune.objective import to_tensors

        self.loss_model.train()
        n_total = sum(b.n_target for b in group)
        loss_sum = 0.0
        for i, batch in enumerate(group):
            last = i == len(group) - 1
            context = self.acc.no_sync(self.loss_model) if not last else nullcontext()
            with context:
                loss, _ = self.loss_model(**to_tensors(batch, self.acc.device))
                self.acc.backward(loss / n_total)
            loss_sum += loss.item()
        self.acc.clip_grad_norm_(self.loss_model.parameters(), self.config.max_grad_norm)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return loss_sum / n_total, sum(b.example_tokens for b in group)

    def evaluate(self) -> float | None:
        """Token-weighted loss over the held-out templates (None without an eval split)."""
        import torch

        from quarry.finetune.objective import to_tensors

        if not self.eval_batches:
            return None
        self.loss_model.eval()
        total, count = 0.0, 0
        with torch.no_grad():
            for batch in self.eval_batches:
                loss, n = self.loss_model(**to_tensors(batch, self.acc.device))
                total, count = total + loss.item(), count + int(n)
        return total / count

    def _after_step(self, on_step: Callable[[StepInfo], None] | None) -> bool:
        """Log, evaluate, checkpoint; True when early stopping says to stop."""
        state, config = self.state, self.config
        eval_loss = None
        final = state.step >= self.total
        if state.step % config.eval_every == 0 or final:
            eval_loss = self.evaluate()
            if eval_loss is not None and (state.best_eval_loss is None or eval_loss < state.best_eval_loss):
                state.best_eval_loss, state.best_step, state.bad_evals = eval_loss, state.step, 0
                self._save_adapter(self.run.best)
            elif eval_loss is not None:
                state.bad_evals += 1
        info = StepInfo(step=state.step, total_steps=self.total, epoch=state.epoch, loss=state.last_loss,
                        lr=self.scheduler.get_last_lr()[0], tokens=state.tokens,
                        tokens_per_s=state.tokens / max(state.train_seconds, 1e-9), eval_loss=eval_loss,
                        best_eval_loss=state.best_eval_loss)
        if self.acc.is_main_process:
            self.run.append("metrics.jsonl", info.model_dump() | {"time": now()})
        if state.step % config.eval_every == 0 or final:
            self.save_checkpoint()
        if on_step is not None:
            on_step(info)
        return state.bad_evals >= config.patience

    def _save_adapter(self, target: Path) -> None:
        if not self.acc.is_main_process:
            return
        self.run.save_adapter(self.acc.unwrap_model(self.loss_model).model, target)

    def save_checkpoint(self) -> None:
        """Adapter + optimizer + scheduler + counters into checkpoints/last, then a record line."""
        import torch

        if not self.acc.is_main_process:
            return
        tmp = self.run.last.with_name("last.tmp")
        self.acc.unwrap_model(self.loss_model).model.save_pretrained(tmp)
        torch.save({"optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
                    "state": self.state.model_dump(), "rng": torch.get_rng_state()}, tmp / "trainer_state.pt")
        self.run.replace_dir(self.run.last, tmp)
        self.run.append("checkpoints.jsonl", {"kind": "last", "step": self.state.step, "path": "checkpoints/last",
                                              "eval_loss": self.state.best_eval_loss, "time": now()})

    def restore(self) -> None:
        """Load the last checkpoint: adapter weights, optimizer, scheduler, counters, RNG."""
        import torch
        from peft import set_peft_model_state_dict
        from safetensors.torch import load_file

        weights = load_file(str(self.run.last / "adapter_model.safetensors"))
        set_peft_model_state_dict(self.peft, weights)
        saved = torch.load(self.run.last / "trainer_state.pt", weights_only=False)
        self.optimizer.load_state_dict(saved["optimizer"])
        self.scheduler.load_state_dict(saved["scheduler"])
        torch.set_rng_state(saved["rng"])
        self.state = _State.model_validate(saved["state"])
        self.run.truncate_metrics(self.state.step)
