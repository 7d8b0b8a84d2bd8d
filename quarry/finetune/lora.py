"""The trainable LoRA wrapper around a student: new, or continued from an adapter (peft folder or GGUF).

Both trainers (supervised and preference) start here, so a run continues from the live owned model the
same way whether its weights were trained here (peft folder) or shipped as GGUF only (converted once).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from quarry.errors import InputError
from quarry.finetune.export import peft_from_gguf
from quarry.finetune.student import StudentInfo


def attach_lora(model: Any, info: StudentInfo, init: Path | None, work: Path, *, rank: int = 16,
                alpha: float = 32.0, dropout: float = 0.0) -> Any:
    """A peft model over `model`: continued from `init` when given (its rank and alpha win), else new.

    A GGUF `init` is converted into `work/init-adapter/` first."""
    from peft import LoraConfig, PeftModel, get_peft_model

    if init is None:
        lora = LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=dropout, target_modules="all-linear",
                          task_type="CAUSAL_LM")
        return get_peft_model(model, lora)
    init = Path(init)
    if init.is_file() and init.suffix == ".gguf":
        init = peft_from_gguf(init, info, work / "init-adapter")
    if not (init / "adapter_config.json").exists():
        raise InputError(f"{init}: not a peft adapter folder (no adapter_config.json) nor a GGUF adapter")
    return PeftModel.from_pretrained(model, str(init), is_trainable=True)
