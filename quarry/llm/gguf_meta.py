"""Read a GGUF file's key/value metadata fast, without loading tensors or the whole vocabulary.

`gguf.GGUFReader` builds numpy views for every field and tensor; on a 151k-token vocabulary that took
~1 minute on a busy 2-core machine. Quarry only needs a few keys (chat template, special token ids and
their text) and, to tell untrained token rows, a few rows of one tensor, so this walks the header once,
skipping arrays it was not asked for.
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path
from typing import Any

import numpy as np

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


def _read_header(buf: mmap.mmap, arrays: frozenset[str]) -> tuple[dict[str, Any], _Cursor, int]:
    """The key/value section (arrays only where named), a cursor just after it, and the tensor count."""
    if buf[:4] != b"GGUF":
        raise ValueError("bad magic (not a GGUF file)")
    cur = _Cursor(buf)
    cur.pos = 4
    cur.scalar("<I")  # version
    tensors = cur.scalar("<Q")
    out: dict[str, Any] = {}
    for _ in range(cur.scalar("<Q")):
        key = cur.string().decode("utf-8")
        value = cur.value(cur.scalar("<I"), key in arrays)
        if value is not None:
            out[key] = value
    return out, cur, tensors


def read_metadata(path: str | Path, arrays: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Every scalar/string key of a GGUF file, plus the array keys named in `arrays`."""
    try:
        with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            return _read_header(buf, arrays)[0]
    except (OSError, ValueError, struct.error) as exc:
        raise ModelError(f"{path}: not a readable GGUF file: {exc}") from exc


def tensor_rows(path: str | Path, names: tuple[str, ...], rows: tuple[int, ...]) -> np.ndarray | None:
    """Some rows of the first tensor in `names` the file has, dequantized to float32 ([len(rows), n]), or
    None when it has none of them; only those rows are read."""
    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType
    from gguf.quants import dequantize

    try:
        with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            meta, cur, count = _read_header(buf, frozenset())
            infos: dict[str, tuple[list[int], int, int]] = {}
            for _ in range(count):
                name = cur.string().decode("utf-8")
                dims = [cur.scalar("<Q") for _ in range(cur.scalar("<I"))]
                infos[name] = (dims, cur.scalar("<I"), cur.scalar("<Q"))
            alignment = int(meta.get("general.alignment", 32))
            data_start = -(-cur.pos // alignment) * alignment
            name = next((n for n in names if n in infos), None)
            if name is None:
                return None
            dims, kind, offset = infos[name]
            block, block_bytes = GGML_QUANT_SIZES[GGMLQuantizationType(kind)]
            row_bytes = dims[0] // block * block_bytes
            start = data_start + offset
            raw = b"".join(buf[start + r * row_bytes:start + (r + 1) * row_bytes] for r in rows)
            quantized = np.frombuffer(raw, dtype=np.uint8).reshape(len(rows), row_bytes)
            return np.asarray(dequantize(quantized, GGMLQuantizationType(kind)), dtype=np.float32)
    except (OSError, ValueError, KeyError, NotImplementedError, struct.error) as exc:
        raise ModelError(f"{path}: not a readable GGUF file: {exc}") from exc
