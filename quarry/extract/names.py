"""Names for addresses that arrive without one: the archive headers some exports add (X-From, X-To, X-cc,
as in the public Enron corpus, whose From headers hold bare addresses) and the name a sender signs with.

Without them a person is stored as an address alone, and "what is Dana Whitfield's address?" has no answer.
A signature name is taken only when it fits the address (a name word in its local part), so a forwarded
footer or a quoted colleague's sign-off does not rename the sender.
"""

from __future__ import annotations

import re
import unicodedata

#: Archive header -> the address role whose blank names it fills, position by position.
ARCHIVE_HEADERS = {"x-from": "from", "x-to": "to", "x-cc": "cc"}
_QUOTE_START = re.compile(r"^(?:On .{4,200} wrote:|-{2,}\s*(?:Original|Forwarded) Message|From: .+@|>)", re.I)
_CLOSINGS = {"thanks", "thank", "you", "best", "regards", "kind", "warm", "cheers", "sincerely", "yours",
             "love", "all", "the", "many", "sent", "from", "my", "iphone", "see", "soon", "talk", "later"}


_TRANSLITERATED = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ø": "oe", "æ": "ae", "å": "aa"})


def _fold(text: str) -> str:
    """Lowercase ASCII letters only ("Jörg" -> "jorg"), for comparing a name with an address."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if "a" <= ch <= "z")


def _spellings(word: str) -> set[str]:
    """How a name word may be written in an address: "Müller" -> {"muller", "mueller"}."""
    return {_fold(word), _fold(word.casefold().translate(_TRANSLITERATED))}


def _archive_entries(value: str) -> list[str]:
    """Names of an X-From/X-To value: `Name <Name/Org@Domain>` entries, comma-separated; markup removed."""
    entries = []
    for part in value.split(","):
        name = re.sub(r"<[^>]*>", "", part).strip().strip('"').strip()
        entries.append(name if "@" not in name and "/" not in name else "")
    return entries


def fill_from_archive_headers(archive: dict[str, str],
                              addresses: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """`addresses` with blank display names taken from the decoded X-From/X-To/X-cc values in `archive`,
    matched by position within a role."""
    out = list(addresses)
    for header, role in ARCHIVE_HEADERS.items():
        value = archive.get(header)
        if not value:
            continue
        slots = [i for i, (r, _, _) in enumerate(out) if r == role]
        names = _archive_entries(value)
        if len(names) != len(slots):  # a name list that does not line up is not guessed at
            continue
        for i, name in zip(slots, names, strict=True):
            if not out[i][2] and name:
                out[i] = (role, out[i][1], name)
    return out


def _unquoted_tail(body: str, lines: int = 12) -> list[str]:
    """The last non-empty lines of the sender's own text (before any quoted or forwarded part)."""
    own = []
    for line in body.splitlines():
        if _QUOTE_START.match(line.strip()):
            break
        own.append(line.strip())
    return [line for line in own if line][-lines:]


def _name_word(word: str) -> bool:
    """A capitalised word of letters ("Jörg", "O'Neil", "Smith-Jones") or an initial ("K.")."""
    core = word.rstrip(".")
    if len(core) == 1:
        return core.isalpha() and core.isupper()
    letters = core.replace("'", "").replace("’", "").replace("-", "")
    return letters.isalpha() and core[0].isupper() and not core.isupper()


def _looks_like_name(line: str) -> list[str] | None:
    text = line.lstrip("-–— ").strip().rstrip(",")
    words = text.split()
    if not 2 <= len(words) <= 4 or len(text) > 40:
        return None
    if any(w.casefold().strip(",.!") in _CLOSINGS for w in words):
        return None
    return words if all(_name_word(w) for w in words) else None


def signature_name(body: str, address: str) -> str | None:
    """The full name the sender signs with, if one of its words (three letters or more) is in the address."""
    local = _fold(address.split("@")[0])
    for line in reversed(_unquoted_tail(body)):
        words = _looks_like_name(line)
        if words and any(len(f) >= 3 and f in local for w in words for f in _spellings(w)):
            return " ".join(words)
    return None


def fill_sender_from_signature(addresses: list[tuple[str, str, str]], body: str) -> list[tuple[str, str, str]]:
    """`addresses` with the sender's blank display name taken from its signature, when one fits."""
    out = list(addresses)
    for i, (role, address, name) in enumerate(out):
        if role == "from" and not name:
            signed = signature_name(body, address)
            if signed:
                out[i] = (role, address, signed)
    return out
