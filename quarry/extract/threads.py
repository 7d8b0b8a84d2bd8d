"""Thread assignment: Message-ID / In-Reply-To / References links, with a normalized-subject fallback.

The index is loaded from the store at the start of a run, so a message arriving in a later run joins
the thread that already exists. Thread ids are message ids (the root of the References chain), or
'subject:<normalized subject>' for header-less replies whose original is unknown. When a late message
links two existing threads, they merge into one; the merges are reported so the writer can update rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg|sv|vs|antw|tr|rif)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_LIST_TAG = re.compile(r"^\s*\[[^\]]{1,40}\]\s*")
SUBJECT_THREAD_PREFIX = "subject:"


def normalize_subject(subject: str | None) -> tuple[str, bool]:
    """(subject without Re:/Fwd:/AW:/WG: prefixes or list tags, lowercased and squeezed; whether it was a reply)."""
    text = subject or ""
    is_reply = False
    while True:
        stripped = _LIST_TAG.sub("", text)
        match = _PREFIX.match(stripped)
        if not match:
            break
        is_reply = True
        text = stripped[match.end():]
    return " ".join(_LIST_TAG.sub("", text).lower().split()), is_reply


class ThreadIndex:
    """Maps every known message id (stored or only referenced) and normalized subject to a thread id."""

    def __init__(self) -> None:
        self.by_id: dict[str, str] = {}
        self.by_subject: dict[str, str] = {}
        self.members: dict[str, set[str]] = {}
        self.merged_into: dict[str, str] = {}  # old thread id -> surviving one (by_subject is not rewritten)
        self.merges: list[tuple[str, str]] = []  # (old thread id, new thread id), for the writer

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str, str | None, str | None, list[str] | None]]) -> ThreadIndex:
        """Build from stored (message_id, thread_id, subject, in_reply_to, refs) rows."""
        index = cls()
        for message_id, thread_id, subject, in_reply_to, refs in rows:
            index._register(thread_id, [message_id, in_reply_to, *(refs or [])], subject)
        return index

    def _register(self, thread_id: str, ids: list[str | None], subject: str | None) -> None:
        group = self.members.setdefault(thread_id, set())
        for key in ids:
            if key:
                self.by_id[key] = thread_id
                group.add(key)
        norm, _ = normalize_subject(subject)
        if norm:
            self.by_subject[norm] = thread_id

    def _merge(self, keep: str, others: set[str]) -> None:
        for old in others:
            for key in self.members.pop(old, set()):
                self.by_id[key] = keep
                self.members[keep].add(key)
            self.merged_into[old] = keep
            self.merges.append((old, keep))

    def _subject_thread(self, norm: str) -> str | None:
        thread_id = self.by_subject.get(norm)
        while thread_id in self.merged_into:
            thread_id = self.merged_into[thread_id]
        return thread_id

    def assign(self, message_id: str, in_reply_to: str | None, refs: list[str], subject: str | None) -> str:
        """The thread of a new message; records it so later messages can join."""
        links = [key for key in (in_reply_to, *refs) if key]
        found = {self.by_id[key] for key in (message_id, *links) if key in self.by_id}
        norm, is_reply = normalize_subject(subject)
        if found:
            thread_id = min(found)
            self.members.setdefault(thread_id, set())
            self._merge(thread_id, found - {thread_id})
        elif links:
            thread_id = refs[0] if refs else links[0]
        elif (by_subject := self._subject_thread(norm)) and (is_reply or by_subject.startswith(SUBJECT_THREAD_PREFIX)):
            thread_id = by_subject
        elif is_reply and norm:
            thread_id = SUBJECT_THREAD_PREFIX + norm
        else:
            thread_id = message_id
        self._register(thread_id, [message_id, *links], subject)
        return thread_id
