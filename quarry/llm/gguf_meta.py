"""Read a GGUF file's key/value metadata fast, without loading tensors or the whole vocabulary.

`gguf.GGUFReader` builds numpy views for every field and tensor; on a 151k-token vocabulary that took
~1 minute on a busy 2-core machine. Quarry only needs a few keys (chat template, special token ids and
their text), so this walks the header once, skipping arrays it was not asked for.
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path
from typing import Any

from quarry.errors import ModelError

# GGUF value types -> struct format of one scalar (8 = string, 9 = array are handled apart).
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9


class _Cursor:
    def __init__(self, buf: mmap.mmap):
        self.buf, self.pos = buf, 0

    def scalar(self, fmt: str) -> Any:
        (value,) = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += struct.calcsize(fmt)
        return value

    def string(self) -> bytes:
        length = self.scalar("<Q")
        self.pos += length
        return self.buf[self.pos - length:self.pos]

    def value(self, kind: int, keep: bool) -> Any:
        if kind in _SCALARS:
            return self.scalar(_SCALARS[kind])
        if kind == _STRING:
            return self.string().decode("utf-8", errors="replace")
        if kind != _ARRAY:
            raise ValueError(f"unknown GGUF value type {kind}")
        item, count = self.scalar("<I"), self.scalar("<Q")
        if item in _SCALARS and not keep:
            self.pos += struct.calcsize(_SCALARS[item]) * count
            return None
        if item == _STRING and not keep:
            for _ in range(count):
                self.pos += struct.unpack_from("<Q", self.buf, self.pos)[0] + 8
            return None
        return [self.value(item, True) for _ in range(count)]


def read_metadata(path: str | Path, arrays: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Every scalar/string key of a GGUF file, plus the array keys named in `arrays`."""
    try:
        with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            if buf[:4] != b"GGUF":
                raise ValueError("bad magic (not a GGUF file)")
            cur = _Cursor(buf)
            cur.pos = 4
            cur.scalar("<I")  # version
            cur.scalar("<Q")  # tensor count
            out: dict[str, Any] = {}
            for _ in range(cur.scalar("<Q")):
                key = cur.string().decode("utf-8")
                value = cur.value(cur.scalar("<I"), key in arrays)
                if value is not None:
                    out[key] = value
            return out
    except (OSError, ValueError, struct.error) as exc:
        raise ModelError(f"{path}: not a readable GGUF file: {exc}") from exc
