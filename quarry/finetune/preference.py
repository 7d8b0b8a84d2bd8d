"""Preference tuning (DPO, sigmoid loss) of the student's LoRA adapter on (chosen, rejected) trace pairs.

A pair is two conversations for the same question: a run that was right and one that was wrong (from
rejection sampling), or a `/good` and a `/bad` answer from the chat shell. Each pair is one packed row
(`dataset.pair_batch`: common prefix once, two segments), so one forward gives both summed log-probs of
the assistant tokens. The reference model is the adapter training starts from; its log-probs are computed
once before the first step (no second model in memory). The loss is DPO's:
-log sigmoid(beta * ((chosen - ref_chosen) - (rejected - ref_rejected))).

Why not TRL: in trl 1.x the DPO loss is fused into `DPOTrainer._compute_loss`, which drives its own HF
Trainer over its own dataset format; our packed rows, student chat formats, run directory and registry
would all have to be rebuilt around it. The loss is the paper's formula, written against our trainer.
Held-out pairs (whole questions) give an eval loss that picks the adapter kept, as in supervised training.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from quarry.errors import InputError
from quarry.finetune.dataset import DatasetConfig, PackedBatch, numbered_lines, pair_batch, tokenize_record
from quarry.finetune.rundir import RunDir, now
from quarry.finetune.train import TrainResult


class PreferencePair(BaseModel):
    """One line of a pairs file: two trace records (the `quarry traces export` shape) for one question."""

    question: str
    chosen: dict[str, Any]
    rejected: dict[str, Any]
    #: Where the pair came from: "sampled" (rejection sampling) or "feedback" (/good vs /bad in chat).
    source: str = "sampled"


class PreferenceConfig(BaseModel):
    """A preference run; saved to config.json. Defaults follow the DPO anchors for LoRA (beta 0.1, lr 1e-5)."""

    student: str
    pairs: list[Path]
    out: Path
    init_adapter: Path | None = None
    beta: float = Field(0.1, gt=0)
    lr: float = Field(1e-5, gt=0)
    epochs: int = Field(1, ge=1)
    max_steps: int | None = Field(None, ge=1)
    pairs_per_step: int = Field(4, ge=1)
    eval_fraction: float = Field(0.2, ge=0.0, lt=1.0)
    eval_every: int = Field(10, ge=1)
    warmup_ratio: float = 0.1
    max_grad_norm: float = 1.0
    max_tokens: int = Field(6144, ge=64)
    #: Recompute each layer's activations in the backward pass: a pair row is two conversations long, and
    #: attention memory grows with the square of its length (measured: see README).
    gradient_checkpointing: bool = True
    rank: int = Field(16, ge=1)
    alpha: float = 32.0
    seed: int = 0


class PreferenceStep(BaseModel):
    """Sent to `on_step` after each optimizer step; also one metrics.jsonl line."""

    step: int
    total_steps: int
    loss: float
    #: Mean of beta * (log-ratio chosen - log-ratio rejected): how far the policy prefers the chosen answers.
    reward_margin: float
    #: Share of the step's pairs whose chosen answer the policy now prefers over the reference's preference.
    pair_accuracy: float
    lr: float
    eval_loss: float | None = None
    best_eval_loss: float | None = None


def count_sources(pairs: list[PreferencePair]) -> dict[str, int]:
    """Pairs per source ("sampled", "feedback", ...), sorted by name."""
    return dict(sorted(Counter(p.source for p in pairs).items()))


def read_pairs(path: Path) -> list[PreferencePair]:
    """Pairs from a JSONL file; a bad line is an error naming file and line."""
    pairs = []
    for number, line in numbered_lines(path, "pairs"):
        try:
            pairs.append(PreferencePair.model_validate_json(line))
        except ValidationError as exc:
            raise InputError(f"{path}:{number}: not a preference pair: {exc.errors()[0]['msg']}") from exc
    return pairs


def write_pairs(pairs: list[PreferencePair], path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(p.model_dump_json() + "\n" for p in pairs), encoding="utf-8")
    return len(pairs)


def split_by_question(pairs: list[PreferencePair], fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Indices of training and held-out pairs, held out by whole question (never a question on both sides)."""
    questions = sorted({p.question for p in pairs})
    random.Random(seed).shuffle(questions)
    held = set(questions[: int(len(questions) * fraction)]) if len(questions) > 1 else set()
    train = [i for i, p in enumerate(pairs) if p.question not in held]
    return train, [i for i, p in enumerate(pairs) if p.question in held]


def _rows(pairs: list[PreferencePair], student: Any, max_tokens: int) -> tuple[list[PackedBatch | None], int]:
    """Each pair as a packed row (None when it is longer than `max_tokens`), and how many were dropped."""
    settings = DatasetConfig(traces=[], max_tokens=max_tokens)
    rows: list[PackedBatch | None] = []
    for pair in pairs:
        chosen, rejected = (tokenize_record(r, student.chat_format, student.tokenizer, settings)
                            for r in (pair.chosen, pair.rejected))
        row = pair_batch(chosen, rejected)
        rows.append(row if len(row.input_ids) <= max_tokens and row.n_target else None)
    return rows, sum(r is None for r in rows)


def _data_hash(config: PreferenceConfig, template_sha256: str) -> str:
    digest = hashlib.sha256()
    for path in config.pairs:
        digest.update(Path(path).read_bytes())
    digest.update(json.dumps(config.model_dump(mode="json", include={"beta", "max_tokens"}), sort_keys=True).encode())
    digest.update(template_sha256.encode())
    return digest.hexdigest()[:16]


def train_preference(config: PreferenceConfig,
                     on_step: Callable[[PreferenceStep], None] | None = None) -> TrainResult:
    """Train the adapter on the pairs; the run directory has the layout `registry.register` exports."""
    import torch
    from accelerate import Accelerator

    from quarry.finetune.lora import attach_lora
    from quarry.finetune.objective import SegmentLogProbs
    from quarry.finetune.student import load_student

    run = RunDir(config.out)
    if run.records("metrics.jsonl"):
        raise InputError(f"{run.path}: already holds a run; choose another --out")
    pairs = [pair for path in config.pairs for pair in read_pairs(path)]
    if not pairs:
        raise InputError(f"no preference pairs in {', '.join(map(str, config.pairs))}")
    use_cuda = torch.cuda.is_available()
    acc = Accelerator(mixed_precision="bf16" if use_cuda and torch.cuda.is_bf16_supported() else "no")
    torch.manual_seed(config.seed)
    student = load_student(config.student)
    rows, dropped = _rows(pairs, student, config.max_tokens)
    train_ids, eval_ids = split_by_question(pairs, config.eval_fraction, config.seed)
    train_ids, eval_ids = [i for i in train_ids if rows[i]], [i for i in eval_ids if rows[i]]
    if not train_ids:
        raise InputError(f"no preference pair fits --max-tokens {config.max_tokens} on the training side")
    peft = attach_lora(student.model, student.info, config.init_adapter, run.path, rank=config.rank,
                       alpha=config.alpha)
    if config.gradient_checkpointing:
        peft.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    optimizer = torch.optim.AdamW([p for p in peft.parameters() if p.requires_grad], lr=config.lr, weight_decay=0.0)
    per_epoch = math.ceil(len(train_ids) / config.pairs_per_step)
    total = min(config.max_steps or per_epoch * config.epochs, per_epoch * config.epochs)
    sources = count_sources(pairs)
    data_hash = _data_hash(config, student.info.template_sha256)
    run.write_config({"method": "dpo", "train": config.model_dump(mode="json"), "lr": config.lr, "total_steps": total,
                      "student": student.info.model_dump(), "device": str(acc.device), "created_at": now(),
                      "dataset": {"pairs": len(pairs), "train_pairs": len(train_ids), "eval_pairs": len(eval_ids),
                                  "dropped_too_long": dropped, "sources": sources,
                                  "data_hash": data_hash}})
    model, optimizer = acc.prepare(SegmentLogProbs(peft), optimizer)
    trainer = _PreferenceTrainer(config, run, acc, model, optimizer, rows, total, data_hash)
    return trainer.fit(train_ids, eval_ids, on_step)


class _PreferenceTrainer:
    def __init__(self, config: PreferenceConfig, run: RunDir, acc: Any, model: Any, optimizer: Any,
                 rows: list[PackedBatch | None], total: int, data_hash: str) -> None:
        from transformers import get_cosine_schedule_with_warmup

        from quarry.finetune.objective import to_tensors

        self.config, self.run, self.acc, self.model, self.optimizer = config, run, acc, model, optimizer
        self.total, self.data_hash = total, data_hash
        # Floor, not ceiling: a one- or two-step run must not spend its only step at learning rate 0.
        self.scheduler = get_cosine_schedule_with_warmup(optimizer, int(config.warmup_ratio * total), total)
        self.tensors = [to_tensors(row, acc.device) if row else None for row in rows]
        self.lengths = [len(row.input_ids) if row else 0 for row in rows]
        self.reference = self._logprobs(range(len(rows)), grad=False)

    def _logprobs(self, ids: Any, grad: bool) -> dict[int, Any]:
        """(chosen, rejected) summed log-probs per pair index under the current adapter."""
        import torch

        self.model.train(grad)
        out = {}
        with torch.enable_grad() if grad else torch.no_grad():
            for i in ids:
                if self.tensors[i] is not None:
                    out[i] = self.model(**self.tensors[i])
        return out

    def _losses(self, ids: list[int], grad: bool) -> tuple[Any, list[float]]:
        """Summed DPO loss over the pairs and each pair's beta-scaled margin."""
        import torch

        policy = self._logprobs(ids, grad)
        total, margins = 0.0, []
        for i, lp in policy.items():
            ref = self.reference[i]
            margin = self.config.beta * ((lp[0] - ref[0]) - (lp[1] - ref[1]))
            total = total + -torch.nn.functional.logsigmoid(margin)
            margins.append(float(margin.detach()))
        return total, margins

    def _evaluate(self, eval_ids: list[int]) -> float | None:
        if not eval_ids:
            return None
        loss, _ = self._losses(eval_ids, grad=False)
        return float(loss) / len(eval_ids)

    def fit(self, train_ids: list[int], eval_ids: list[int],
            on_step: Callable[[PreferenceStep], None] | None) -> TrainResult:
        config, step, best, best_step, loss_value = self.config, 0, None, 0, math.nan
        order: list[int] = []
        tokens, seconds = 0, 0.0
        while step < self.total:
            if not order:
                order = train_ids[:]
                random.Random(config.seed + step).shuffle(order)
            group, order = order[: config.pairs_per_step], order[config.pairs_per_step:]
            mine = group[self.acc.process_index:: self.acc.num_processes] or group[:1]
            started = time.perf_counter()
            loss, margins = self._losses(mine, grad=True)
            self.acc.backward(loss / len(mine))
            self.acc.clip_grad_norm_(self.model.parameters(), config.max_grad_norm)
            self.optimizer.step()
            self.scheduler.step()
            self.optimizer.zero_grad(set_to_none=True)
            seconds, tokens = seconds + time.perf_counter() - started, tokens + sum(self.lengths[i] for i in mine)
            step, loss_value = step + 1, float(loss.detach()) / len(mine)
            eval_loss = self._evaluate(eval_ids) if step % config.eval_every == 0 or step == self.total else None
            if eval_loss is not None and (best is None or eval_loss < best):
                best, best_step = eval_loss, step
                self._save()
            info = PreferenceStep(step=step, total_steps=self.total, loss=loss_value,
                                  reward_margin=sum(margins) / len(margins),
                                  pair_accuracy=sum(m > 0 for m in margins) / len(margins),
                                  lr=self.scheduler.get_last_lr()[0], eval_loss=eval_loss, best_eval_loss=best)
            if self.acc.is_main_process:
                self.run.append("metrics.jsonl", info.model_dump() | {"time": now()})
            if on_step:
                on_step(info)
        if best is None:  # no held-out pairs: keep the last adapter
            self._save()
            best_step = step
        self.run.plot()
        return TrainResult(run_dir=self.run.path, steps=step, total_steps=self.total, best_step=best_step,
                           best_eval_loss=best, final_loss=loss_value, tokens_per_s=tokens / max(seconds, 1e-9),
                           stopped_early=False, data_hash=self.data_hash, device=str(self.acc.device))

    def _save(self) -> None:
        if self.acc.is_main_process:
            self.run.save_adapter(self.acc.unwrap_model(self.model).model, self.run.best)
