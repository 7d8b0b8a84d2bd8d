"""The student model in trainable (Hugging Face, full-precision) form, from whatever the user has.

Sources, tried in this order: a catalog name ("smollm2-135m", "local:smollm2-135m") or a `.gguf`
path, loaded through transformers' GGUF loader (dequantized: the only route to trainable weights
on a machine without a model hub); a local HF folder; a hub id. The chat format always comes from
quarry.llm.chat_format so training renders exactly what serving renders.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from quarry.errors import ModelError

#: transformers `model_type` -> GGUF architecture name, for students not loaded from a GGUF.
_GGUF_ARCH = {"llama": "llama", "qwen2": "qwen2", "gemma3_text": "gemma3", "gemma3": "gemma3",
              "mistral": "llama", "qwen3": "qwen3", "phi3": "phi3"}


class StudentInfo(BaseModel):
    """What export and the registry need to know about the base the adapter was trained on."""

    spec: str
    name: str
    gguf_path: str | None = None
    gguf_sha256: str | None = None
    gguf_arch: str
    model_type: str
    hidden_size: int
    n_head: int
    n_kv_head: int
    n_layers: int
    template_sha256: str = ""


@dataclass
class Student:
    model: Any
    tokenizer: Any
    chat_format: Any
    info: StudentInfo


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def resolve_gguf(spec: str) -> Path | None:
    """The GGUF file a spec names (catalog name or path), or None for HF folders and hub ids."""
    name = spec.removeprefix("local:")
    path = Path(name).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise ModelError(f"{path}: GGUF file not found")
        return path
    if path.is_dir() or "/" in name:
        return None
    from quarry.llm.catalog import model_path

    return Path(model_path(name))


def student_name(spec: str) -> str:
    """Short base-model name for the registry: the catalog name, else the file or folder stem."""
    name = spec.removeprefix("local:")
    return Path(name).stem if ("/" in name or name.endswith(".gguf")) else name


def dequantized_dir(gguf: Path) -> Path:
    """Where the dequantized Hugging Face copy of a GGUF file is kept: beside the pulled models
    (`$QUARRY_HOME/models/dequantized/`), named by the file's stem, size and modification time."""
    from quarry.llm.catalog import models_dir

    stat = gguf.stat()
    return models_dir() / "dequantized" / f"{gguf.stem}-{stat.st_size}-{stat.st_mtime_ns}"


def _dequantized(gguf: Path) -> Path:
    """The GGUF's weights and tokenizer as a Hugging Face folder, written on first use.

    transformers dequantizes GGUF tensors in numpy and builds the tokenizer from the GGUF vocabulary: about
    30 s for SmolLM2-135M on 2 cores, paid by every training run. The folder loads in a second or two."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = dequantized_dir(gguf)
    if (folder / "config.json").is_file():
        return folder
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    # The weights are dequantized now; the GGUF marker would only block save_pretrained.
    model.hf_quantizer = None
    model.config.quantization_config = None
    model.is_quantized = False
    partial = folder.with_name(f"{folder.name}.partial-{os.getpid()}")
    model.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    try:
        partial.rename(folder)
    except OSError:  # another process finished first: keep its copy
        shutil.rmtree(partial, ignore_errors=True)
    return folder


def load_student(spec: str, dtype: Any = None) -> Student:
    """Load weights, tokenizer and chat format; a GGUF's weights are dequantized once and kept (fp32 by
    default, or `dtype`)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from quarry.llm.chat_format import ChatFormat

    gguf = resolve_gguf(spec)
    try:
        where = str(_dequantized(gguf)) if gguf else spec
        tokenizer = AutoTokenizer.from_pretrained(where)
        model = AutoModelForCausalLM.from_pretrained(where, dtype=dtype or torch.float32)
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"{spec}: cannot load student weights: {exc}".splitlines()[0]) from exc
    chat_format = ChatFormat.for_gguf(gguf) if gguf else _hf_chat_format(tokenizer, spec)
    return Student(model, tokenizer, chat_format, _info(spec, model.config, gguf, chat_format))


def _hf_chat_format(tokenizer: Any, spec: str) -> Any:
    """ChatFormat from an HF tokenizer's template, folding tools exactly when for_gguf would."""
    from quarry.llm.chat_format import GEMMA_TEMPLATE, TOOL_CALL_OPEN, ChatFormat

    template = tokenizer.chat_template or GEMMA_TEMPLATE
    native = "tools" in template and TOOL_CALL_OPEN in template
    return ChatFormat(template, fold=not native, bos_token=tokenizer.bos_token or "",
                      eos_token=tokenizer.eos_token or "", name=spec)


def _info(spec: str, config: Any, gguf: Path | None, chat_format: Any) -> StudentInfo:
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    arch = _gguf_arch(gguf) if gguf else _GGUF_ARCH.get(text.model_type)
    if arch is None:
        raise ModelError(f"{spec}: no GGUF architecture known for model type {text.model_type!r}")
    return StudentInfo(
        spec=spec, name=student_name(spec), gguf_path=str(gguf) if gguf else None,
        gguf_sha256=file_sha256(gguf) if gguf else None, gguf_arch=arch, model_type=text.model_type,
        hidden_size=text.hidden_size, n_head=text.num_attention_heads,
        n_kv_head=getattr(text, "num_key_value_heads", None) or text.num_attention_heads,
        n_layers=text.num_hidden_layers, template_sha256=getattr(chat_format, "template_sha256", ""),
    )


def _gguf_arch(path: Path) -> str:
    from quarry.llm.gguf_meta import read_metadata

    return str(read_metadata(path)["general.architecture"])


def default_lr(info: StudentInfo) -> float:
    """LoRA learning rate from the hidden size (tinker-cookbook's measured rule, see DESIGN.md)."""
    power = 0.0775 if info.model_type.startswith("qwen") else 0.781
    return 5e-5 * 10 * (2000 / info.hidden_size) ** power
