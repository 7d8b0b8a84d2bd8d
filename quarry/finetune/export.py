"""Write a trained LoRA adapter as a GGUF LoRA file that llama.cpp applies on the quantized catalog base.

Serving the adapter next to the 4-bit base (not merging) is deliberate: DESIGN.md measured that merging and
re-quantizing to the base's own 4-bit type erases the LoRA delta. transformers un-permutes the q/k weights
when it loads a llama-architecture GGUF, so the adapter's q/k `lora_b` rows are permuted back the way
llama.cpp's converter permutes q/k weights; without it the adapter loads but computes the wrong thing.
The way back (`peft_from_gguf`) makes an adapter that ships only as GGUF trainable again, so retraining
continues from the live owned model instead of starting over.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from quarry.errors import TrainingError
from quarry.finetune.student import StudentInfo
from quarry.llm.local import ADAPTER_TEMPLATE_KEY, ADAPTER_TOOLS_KEY

#: peft names such as base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight
_PEFT_KEY = re.compile(r"^base_model\.model\.(?P<module>.+)\.lora_(?P<part>[AB])\.weight$")
#: Architectures whose GGUF q/k weights are stored permuted relative to the HF layout.
_PERMUTED_ARCHS = {"llama"}


def _permute_rows(weight: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's q/k row order: within each head, interleave the two rotary halves."""
    rows = weight.shape[0]
    return weight.reshape(n_head, 2, rows // n_head // 2, *weight.shape[1:]).swapaxes(1, 2).reshape(weight.shape)


def _unpermute_rows(weight: np.ndarray, n_head: int) -> np.ndarray:
    """The inverse of `_permute_rows`: back to the HF row order."""
    rows = weight.shape[0]
    return weight.reshape(n_head, rows // n_head // 2, 2, *weight.shape[1:]).swapaxes(1, 2).reshape(weight.shape)


def _tensor_map(arch: str, n_layers: int) -> Any:
    import gguf

    arch_id = next((a for a, name in gguf.MODEL_ARCH_NAMES.items() if name == arch), None)
    if arch_id is None:
        raise TrainingError(f"no GGUF tensor map for architecture {arch!r}")
    return gguf.get_tensor_name_map(arch_id, n_layers)


def _gguf_tensor_name(module: str, arch: str, n_layers: int) -> str:
    name = _tensor_map(arch, n_layers).get_name(module)
    if name is None:
        raise TrainingError(f"adapter module {module!r} has no GGUF tensor name for {arch}")
    return name


def _permutation(module: str, info: StudentInfo) -> int | None:
    """The head count a module's lora_b rows are permuted by in GGUF, or None."""
    if info.gguf_arch not in _PERMUTED_ARCHS:
        return None
    return info.n_head if module.endswith("q_proj") else info.n_kv_head if module.endswith("k_proj") else None


def _lora_tensors(adapter_dir: Path, info: StudentInfo) -> dict[str, np.ndarray]:
    """GGUF tensor name -> float16 array (half the file, as llama.cpp's own converter writes adapters),
    with the llama q/k permutation applied to lora_b."""
    from safetensors.numpy import load_file

    tensors: dict[str, np.ndarray] = {}
    for key, value in load_file(str(adapter_dir / "adapter_model.safetensors")).items():
        match = _PEFT_KEY.match(key)
        if not match:
            continue
        module, part = match["module"], match["part"]
        array = value.astype(np.float16)
        heads = _permutation(module, info)
        if part == "B" and heads:
            array = _permute_rows(array, heads)
        name = _gguf_tensor_name(module, info.gguf_arch, info.n_layers)
        tensors[f"{name}.weight.lora_{part.lower()}"] = array
    if not tensors:
        raise TrainingError(f"{adapter_dir}: no LoRA tensors in adapter_model.safetensors")
    return tensors


def adapter_source(run_dir: Path) -> Path:
    """The run's adapter folder to export: the best checkpoint by eval loss, else the last."""
    best = run_dir / "adapter"
    return best if best.exists() else run_dir / "checkpoints" / "last"


def export_gguf_lora(run_dir: Path, out: Path) -> Path:
    """Write the run's adapter (see `adapter_source`) as a GGUF LoRA file."""
    import gguf

    config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    info = StudentInfo.model_validate(config["student"])
    adapter_dir = adapter_source(run_dir)
    peft_config = json.loads((adapter_dir / "adapter_config.json").read_text(encoding="utf-8"))
    writer = gguf.GGUFWriter(str(out), info.gguf_arch)
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(peft_config["lora_alpha"]))
    writer.add_string("general.name", f"quarry adapter for {info.name}")
    if info.template_sha256:
        # LocalModel refuses an adapter trained on a different chat template than the one it serves with.
        writer.add_string(ADAPTER_TEMPLATE_KEY, info.template_sha256)
    tools = config.get("dataset", {}).get("tools")
    if tools:  # served with the tools it learned to call, not tools added to Quarry since
        writer.add_string(ADAPTER_TOOLS_KEY, ",".join(tools))
    for name, array in _lora_tensors(adapter_dir, info).items():
        writer.add_tensor(name, array)
    out.parent.mkdir(parents=True, exist_ok=True)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out


#: The linear modules a LoRA adapter of a catalog model (llama, qwen2, gemma3 layouts) may hold, per layer.
_LAYER_MODULES = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                  "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")


def peft_from_gguf(path: Path, info: StudentInfo, out: Path) -> Path:
    """A GGUF LoRA adapter as a trainable peft folder `out` (float32; q/k rows un-permuted)."""
    import gguf
    from peft import LoraConfig
    from safetensors.numpy import save_file

    reader = gguf.GGUFReader(str(path))
    field = reader.fields.get("adapter.lora.alpha")
    if field is None:
        raise TrainingError(f"{path}: not a GGUF LoRA adapter (no adapter.lora.alpha)")
    alpha = float(field.parts[field.data[0]][0])
    names = _tensor_map(info.gguf_arch, info.n_layers)
    modules = {names.get_name(f"model.layers.{i}.{m}"): f"model.layers.{i}.{m}"
               for i in range(info.n_layers) for m in _LAYER_MODULES}
    tensors: dict[str, np.ndarray] = {}
    for tensor in reader.tensors:
        base, _, part = tensor.name.rpartition(".weight.lora_")
        module = modules.get(base)
        if module is None or part not in ("a", "b"):
            raise TrainingError(f"{path}: tensor {tensor.name} is not a LoRA weight of a known module")
        array = np.array(tensor.data, dtype=np.float32)
        heads = _permutation(module, info)
        if part == "b" and heads:
            array = _unpermute_rows(array, heads)
        tensors[f"base_model.model.{module}.lora_{part.upper()}.weight"] = np.ascontiguousarray(array)
    rank = next(a.shape[0] for k, a in tensors.items() if k.endswith("lora_A.weight"))
    targets = sorted({k.split(".")[-3] for k in tensors})
    out.mkdir(parents=True, exist_ok=True)
    LoraConfig(r=rank, lora_alpha=alpha, target_modules=targets, task_type="CAUSAL_LM").save_pretrained(str(out))
    save_file(tensors, str(out / "adapter_model.safetensors"))
    return out
