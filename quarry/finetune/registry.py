"""The adapter registry: exported GGUF adapters with their provenance, and which one is live.

Files under `$QUARRY_HOME/adapters/`: `NAME.gguf` + `NAME.json` per adapter, `NAME.peft/` (the trainable
weights, so `quarry retrain` can continue from the adapter) and `state.json` holding the active adapter
and the ones active before it, so `rollback` can go back one step.

Adapters shipped with Quarry live in the package (`quarry/finetune/shipped/`, read-only); until the user
activates or rolls back anything (no state.json yet), the shipped default is the live owned model.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from quarry.config import load_settings, quarry_home
from quarry.errors import TrainingError
from quarry.finetune.export import adapter_source, export_gguf_lora
from quarry.finetune.student import StudentInfo
from quarry.llm.base import ChatModel
from quarry.llm.specs import open_model


class AdapterRecord(BaseModel):
    """What `quarry models adapters` shows for one adapter."""

    name: str
    base: str
    base_sha256: str | None = None
    template_sha256: str = ""
    data_hash: str | None = None
    metrics: dict[str, Any] = Field(default_factory=dict)
    run_dir: str
    created_at: str
    path: str
    shipped: bool = False
    #: How it was made (command, seed, traces used), for adapters trained outside the registry's own runs.
    provenance: dict[str, Any] = Field(default_factory=dict)

    @property
    def peft_dir(self) -> Path:
        """The trainable (peft) weights next to the GGUF; may be absent for shipped adapters."""
        return Path(self.path).with_suffix(".peft")


class _State(BaseModel):
    active: str | None = None
    history: list[str] = Field(default_factory=list)


#: Adapters that come with the package, and the one live before the user chooses.
SHIPPED_DIR = Path(__file__).resolve().parent / "shipped"
SHIPPED_DEFAULT = "quarry-smollm2-v2"


def adapters_dir() -> Path:
    return quarry_home() / "adapters"


def _state() -> _State:
    path = adapters_dir() / "state.json"
    if path.exists():
        return _State.model_validate_json(path.read_text(encoding="utf-8"))
    return _State(active=SHIPPED_DEFAULT if (SHIPPED_DIR / f"{SHIPPED_DEFAULT}.json").exists() else None)


def _save_state(state: _State) -> None:
    adapters_dir().mkdir(parents=True, exist_ok=True)
    (adapters_dir() / "state.json").write_text(state.model_dump_json(indent=2), encoding="utf-8")


def register(run_dir: Path, name: str) -> AdapterRecord:
    """Export the run's best adapter to GGUF and record it (not yet active)."""
    if (adapters_dir() / f"{name}.json").exists():
        raise TrainingError(f"an adapter named {name!r} already exists; choose another --name")
    config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    info = StudentInfo.model_validate(config["student"])
    metrics = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line]
    if (SHIPPED_DIR / f"{name}.json").exists():
        raise TrainingError(f"{name!r} is the name of an adapter shipped with Quarry; choose another --name")
    path = export_gguf_lora(run_dir, adapters_dir() / f"{name}.gguf")
    shutil.copytree(adapter_source(run_dir), path.with_suffix(".peft"), dirs_exist_ok=True)
    record = AdapterRecord(
        name=name, base=info.name, base_sha256=info.gguf_sha256, template_sha256=info.template_sha256,
        data_hash=config.get("dataset", {}).get("data_hash"), metrics=metrics[-1] if metrics else {},
        run_dir=str(run_dir.resolve()), created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        path=str(path),
    )
    (adapters_dir() / f"{name}.json").write_text(record.model_dump_json(indent=2), encoding="utf-8")
    return record


def _read_record(path: Path) -> AdapterRecord:
    """A record file; shipped records name their GGUF relative to the package folder."""
    record = AdapterRecord.model_validate_json(path.read_text(encoding="utf-8"))
    if path.parent == SHIPPED_DIR:
        record = record.model_copy(update={"shipped": True, "path": str(SHIPPED_DIR / Path(record.path).name)})
    return record


def _record_files() -> list[Path]:
    files = sorted(SHIPPED_DIR.glob("*.json")) if SHIPPED_DIR.exists() else []
    if adapters_dir().exists():
        files += [p for p in adapters_dir().glob("*.json") if p.name != "state.json"]
    return files


def list_adapters() -> list[AdapterRecord]:
    """Shipped adapters first, then the user's, oldest first."""
    return sorted((_read_record(p) for p in _record_files()), key=lambda r: (not r.shipped, r.created_at))


def get_adapter(name: str) -> AdapterRecord:
    for path in (adapters_dir() / f"{name}.json", SHIPPED_DIR / f"{name}.json"):
        if path.exists():
            return _read_record(path)
    known = ", ".join(r.name for r in list_adapters()) or "none"
    raise TrainingError(f"no adapter named {name!r} (known: {known})")


def active_name() -> str | None:
    return _state().active


def activate(name: str) -> AdapterRecord:
    """Make `name` the live adapter; the previous one is remembered for rollback."""
    record = get_adapter(name)
    state = _state()
    if state.active and state.active != name:
        state.history.append(state.active)
    state.active = name
    _save_state(state)
    return record


def rollback() -> str | None:
    """Go back to the adapter active before the current one (None: back to the bare base model)."""
    state = _state()
    if state.active is None:
        raise TrainingError("no active adapter to roll back")
    state.active = state.history.pop() if state.history else None
    _save_state(state)
    return state.active


def active_adapter(base_name: str) -> Path | None:
    """The live adapter's GGUF if it was trained on `base_name`."""
    name = active_name()
    if name is None:
        return None
    record = get_adapter(name)
    return Path(record.path) if record.base == base_name else None


def model_spec(record: AdapterRecord) -> str:
    """An adapter as a model spec, e.g. 'local:smollm2-135m+adapter:/…/NAME.gguf'."""
    return f"local:{record.base}+adapter:{record.path}"


def active_model_spec() -> str | None:
    """The owned model as a model spec, or None when no adapter is live."""
    name = active_name()
    return model_spec(get_adapter(name)) if name is not None else None


def open_with_adapters(spec: str) -> ChatModel:
    """A model from a spec, `+adapter:active` meaning this registry's live adapter for that base."""
    return open_model(spec, active_adapter=active_adapter)


def default_model_spec() -> str:
    """The model that answers when none is named: the live owned model, else the configured teacher."""
    return active_model_spec() or load_settings().teacher


def update_metrics(name: str, metrics: dict[str, Any]) -> AdapterRecord:
    """Add measured figures (e.g. held-out task success) to a user adapter's record."""
    path = adapters_dir() / f"{name}.json"
    if not path.exists():
        raise TrainingError(f"no user adapter named {name!r} (shipped adapters are read-only)")
    record = _read_record(path)
    record = record.model_copy(update={"metrics": {**record.metrics, **metrics}})
    path.write_text(record.model_dump_json(indent=2), encoding="utf-8")
    return record


def gate(candidate_success: float, active_success: float | None) -> bool:
    """Retraining activates a new adapter only if its held-out task success is not lower."""
    return active_success is None or candidate_success >= active_success
