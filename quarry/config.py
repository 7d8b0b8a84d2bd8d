"""Where Quarry keeps its files and which defaults apply.

Precedence, lowest to highest: built-in defaults, `$QUARRY_HOME/config.toml`, environment
variables, command-line flags (the CLI passes flags in as explicit arguments).
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import BaseModel, Field

from quarry.errors import ConfigError


def quarry_home() -> Path:
    """The directory holding the default database, models, adapters and config."""
    env = os.environ.get("QUARRY_HOME")
    return Path(env).expanduser() if env else Path(platformdirs.user_data_dir("quarry"))


def default_db_path() -> Path:
    """`$QUARRY_DB` if set, else `quarry.duckdb` inside the Quarry home."""
    env = os.environ.get("QUARRY_DB")
    return Path(env).expanduser() if env else quarry_home() / "quarry.duckdb"


class Prices(BaseModel):
    """USD per million tokens for one model spec prefix."""

    input_per_mtok: float = 0.0
    output_per_mtok: float = 0.0


class Settings(BaseModel):
    """The effective configuration after config.toml and environment are applied."""

    default_model: str = "local:smollm2-135m"
    teacher: str = "local:qwen2.5-coder-1.5b"
    extractor_model: str | None = None
    threads: int | None = None
    llm_concurrency: int = 4
    gpu_hour_usd: float = 2.0
    #: IANA zone answers are shown in (e.g. "Europe/Berlin"); None: the system's zone.
    timezone: str | None = None
    prices: dict[str, Prices] = Field(default_factory=dict)


_ENV_KEYS = {
    "QUARRY_MODEL": "default_model",
    "QUARRY_TEACHER": "teacher",
    "QUARRY_EXTRACTOR_MODEL": "extractor_model",
    "QUARRY_THREADS": "threads",
    "QUARRY_TIMEZONE": "timezone",
}


@lru_cache(maxsize=8)
def _read_toml(path: Path, mtime: float) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from exc


def load_settings() -> Settings:
    """Read config.toml (if any) and apply environment overrides."""
    path = quarry_home() / "config.toml"
    data: dict[str, Any] = {}
    if path.exists():
        data = dict(_read_toml(path, path.stat().st_mtime))
    for env, key in _ENV_KEYS.items():
        if os.environ.get(env):
            data[key] = os.environ[env]
    try:
        return Settings.model_validate(data)
    except ValueError as exc:
        raise ConfigError(f"{path}: invalid setting: {exc}".splitlines()[0]) from exc
