"""The corpus family: mailboxes with gold facts and gold questions, split into train and eval by mailbox.

The split lives in one file, `corpora/split.toml` at the project root: `train` mailboxes may be read while
writing extractors and prompts, `eval` mailboxes are only scored. Each mailbox folder holds its mail
(`mail/`), `gold_facts.json`, `gold_questions.jsonl` and optionally the owner's `my_calendar.ics`.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from quarry.errors import InputError

Split = Literal["train", "eval"]
PROJECT_ROOT = Path(__file__).resolve().parents[2]
SPLIT_FILE = PROJECT_ROOT / "corpora" / "split.toml"


class Mailbox(BaseModel):
    """One member of the corpus family."""

    name: str
    split: Split
    root: Path

    @property
    def gold_facts(self) -> Path:
        return self.root / "gold_facts.json"

    @property
    def gold_questions(self) -> Path:
        return self.root / "gold_questions.jsonl"

    @property
    def calendar(self) -> Path | None:
        path = self.root / "my_calendar.ics"
        return path if path.is_file() else None


def mailboxes(split: Split | None = None, split_file: Path = SPLIT_FILE) -> list[Mailbox]:
    """The mailboxes of one split (or all), in file order; a mailbox in both splits is an error."""
    try:
        data = tomllib.loads(split_file.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{split_file}: cannot read the corpus split: {exc}") from exc
    found = [Mailbox(name=name, split=part, root=split_file.parent.parent / folder)
             for part in ("train", "eval") for name, folder in data.get(part, {}).items()]
    roots = [m.root.resolve() for m in found]
    if len(set(roots)) != len(roots):
        raise InputError(f"{split_file}: a mailbox is listed twice (train and eval must not share one)")
    return [m for m in found if split is None or m.split == split]
