"""Find mail and documents under the paths a user gives, and stream raw messages out of them.

Handles mbox files (streamed line by line, never loaded whole; split into byte ranges so several
processes can parse one file), Maildir folders (cur/ and new/), folders of .eml files (recursive)
and single .eml files. Explicitly named paths that are missing or unsupported raise InputError;
unsupported files met while walking a folder are only counted.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from quarry.errors import InputError

DOCUMENT_KINDS = {".txt": "txt", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html",
                  ".pdf": "pdf", ".ics": "ics"}
_MBOX_SUFFIXES = {".mbox", ".mbx"}


@dataclass(slots=True)
class RawMessage:
    """The bytes of one message and where they came from."""

    source_path: str
    locator: str
    data: bytes
    truncated: bool = False


@dataclass
class Inputs:
    """What discovery found: files grouped by reader, plus how many files were skipped."""

    mboxes: list[Path] = field(default_factory=list)
    mail_files: list[tuple[Path, str]] = field(default_factory=list)  # (path, 'eml' | 'maildir')
    documents: list[tuple[Path, str]] = field(default_factory=list)  # (path, kind)
    skipped: int = 0


def _starts_like_mbox(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(5) == b"From "
    except OSError:
        return False


def classify_file(path: Path) -> tuple[str, str] | None:
    """('mbox'|'mail'|'document', kind) for a file, or None when Quarry cannot read it."""
    suffix = path.suffix.lower()
    if suffix == ".eml":
        return "mail", "eml"
    if suffix in DOCUMENT_KINDS:
        return "document", DOCUMENT_KINDS[suffix]
    if path.parent.name in ("cur", "new") and (path.parent.parent / "cur").is_dir():
        return "mail", "maildir"
    if suffix in _MBOX_SUFFIXES or _starts_like_mbox(path):
        return "mbox", "mbox"
    return None


def _add(inputs: Inputs, path: Path, found: tuple[str, str]) -> None:
    group, kind = found
    if group == "mbox":
        inputs.mboxes.append(path)
    elif group == "mail":
        inputs.mail_files.append((path, kind))
    else:
        inputs.documents.append((path, kind))


def _walk(inputs: Inputs, folder: Path) -> None:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d != "tmp" or not (Path(root) / "cur").is_dir())
        for name in sorted(files):
            path = Path(root) / name
            found = classify_file(path) if not name.startswith(".") else None
            if found is None:
                inputs.skipped += 1
            else:
                _add(inputs, path, found)


def discover(paths: list[str | Path]) -> Inputs:
    """Group every readable file under `paths`; raises InputError for a bad explicit path."""
    inputs = Inputs()
    for given in paths:
        path = Path(given).expanduser().resolve()
        if path.is_dir():
            _walk(inputs, path)
        elif path.is_file():
            found = classify_file(path)
            if found is None:
                raise InputError(f"{path}: unsupported file type (expected mbox, .eml, Maildir, "
                                 f"{', '.join(sorted(DOCUMENT_KINDS))})")
            _add(inputs, path, found)
        else:
            raise InputError(f"{path}: no such file or directory")
    return inputs


def read_mail_file(path: Path) -> RawMessage:
    """One .eml or Maildir file as a RawMessage (its own path is the locator)."""
    return RawMessage(str(path), str(path), path.read_bytes())


def mbox_ranges(path: Path, start: int, parts: int, min_bytes: int = 4 << 20) -> list[tuple[int, int]]:
    """Split an mbox from `start` into up to `parts` byte ranges that each begin at a 'From ' line."""
    size = path.stat().st_size
    if parts <= 1 or size - start < 2 * min_bytes:
        return [(start, size)]
    cuts = [start]
    with path.open("rb") as handle:
        for k in range(1, parts):
            handle.seek(start + (size - start) * k // parts)
            previous = handle.readline()
            while True:
                pos = handle.tell()
                line = handle.readline()
                if not line:
                    break
                if line.startswith(b"From ") and previous in (b"\n", b"\r\n") and pos > cuts[-1]:
                    cuts.append(pos)
                    break
                previous = line
    cuts.append(size)
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]


def iter_mbox(path: Path, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int, RawMessage]]:
    """Yield (offset, end offset, message) for each message in [start, end), reading line by line.

    A message is delimited by a 'From ' line after a blank line (or at the start). The last message
    of a file that does not end in a newline is marked truncated.
    """
    size = path.stat().st_size
    end = size if end is None else end
    with path.open("rb") as handle:
        handle.seek(start)
        offset, lines, previous_blank, pos = start, [], True, start
        for line in handle:
            if line.startswith(b"From ") and previous_blank and pos > offset:
                yield offset, pos, _mbox_message(path, offset, lines, False)
                if pos >= end:
                    return
                offset, lines = pos, []
            lines.append(line)
            previous_blank = line in (b"\n", b"\r\n")
            pos += len(line)
        if lines:
            truncated = not lines[-1].endswith(b"\n")
            yield offset, pos, _mbox_message(path, offset, lines, truncated)


def _mbox_message(path: Path, offset: int, lines: list[bytes], truncated: bool) -> RawMessage:
    body = lines[1:] if lines and lines[0].startswith(b"From ") else lines
    if body and body[-1] in (b"\n", b"\r\n") and not truncated:
        body = body[:-1]  # the blank separator line belongs to the mbox, not the message
    # mboxrd quoting: one '>' was added in front of '>*From ' body lines.
    data = b"".join(line[1:] if line.startswith(b">") and line.lstrip(b">").startswith(b"From ") else line
                    for line in body)
    return RawMessage(str(path), f"mbox offset {offset}", data, truncated)
