"""Split message bodies and documents into overlapping, paragraph-ish passages for search and RAG."""

from __future__ import annotations

import re

CHUNK_CHARS = 800
OVERLAP_CHARS = 150
_PARAGRAPH = re.compile(r"\n\s*\n")


def _pieces(text: str, size: int) -> list[str]:
    """Paragraphs, with any paragraph longer than `size` cut at whitespace."""
    out = []
    for para in _PARAGRAPH.split(text):
        para = para.strip()
        while len(para) > size:
            cut = para.rfind(" ", size // 2, size)
            cut = cut if cut > 0 else size
            out.append(para[:cut].strip())
            para = para[cut:].strip()
        if para:
            out.append(para)
    return out


def _tail(text: str, overlap: int) -> str:
    """The last `overlap` characters of a chunk, starting at a word boundary."""
    if len(text) <= overlap:
        return text
    tail = text[-overlap:]
    space = tail.find(" ")
    return tail[space + 1:] if 0 <= space < overlap // 2 else tail


def chunk_text(text: str, size: int = CHUNK_CHARS, overlap: int = OVERLAP_CHARS) -> list[str]:
    """Passages of about `size` characters; each starts with the last ~`overlap` characters of the one before."""
    chunks: list[str] = []
    current = ""
    for piece in _pieces(text or "", size - overlap):
        if current and len(current) + 2 + len(piece) > size:
            chunks.append(current)
            current = _tail(current, overlap)
        current = f"{current}\n\n{piece}" if current else piece
    if current.strip() and (not chunks or current != _tail(chunks[-1], overlap)):
        chunks.append(current)
    return chunks
