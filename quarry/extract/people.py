"""People: one row per person, merging addresses that share a full display name (two or more words).

The first address seen for a name is canonical; later addresses with the same full name become its
aliases, and message_people rows use the canonical address. The index is loaded from the store at the
start of a run, so merging is stable across incremental runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class Person:
    email: str
    display_name: str | None = None
    names: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)


def name_key(name: str | None) -> str | None:
    """The merge key of a display name: its casefolded words, only when there are two or more."""
    if not name:
        return None
    words = name.replace(",", " ").casefold().split()
    if len(words) < 2 or any("@" in w for w in words):
        return None
    # Sorted, so "Lee, Ann" and "Ann Lee" are one person.
    return " ".join(sorted(words))


class PeopleIndex:
    """Canonical address for any address, plus the set of people changed since the last flush."""

    def __init__(self) -> None:
        self.people: dict[str, Person] = {}
        self.canonical: dict[str, str] = {}
        self.by_name: dict[str, str] = {}
        self.dirty: set[str] = set()

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str | None, list[str] | None, list[str] | None]]) -> PeopleIndex:
        """Build from stored (email, display_name, names, aliases) rows."""
        index = cls()
        for email, display_name, names, aliases in rows:
            person = Person(email, display_name, list(names or []), list(aliases or []))
            index.people[email] = person
            index.canonical[email] = email
            for alias in person.aliases:
                index.canonical[alias] = email
            for name in person.names:
                key = name_key(name)
                if key:
                    index.by_name.setdefault(key, email)
        return index

    def resolve(self, address: str, name: str | None) -> str:
        """The canonical address for (address, display name), creating or merging as needed."""
        key = name_key(name)
        canonical = self.canonical.get(address)
        if canonical is None:
            canonical = self.by_name.get(key, address) if key else address
            self.canonical[address] = canonical
            person = self.people.setdefault(canonical, Person(canonical))
            if canonical != address:
                person.aliases.append(address)
            self.dirty.add(canonical)
        person = self.people[canonical]
        if key:
            self.by_name.setdefault(key, canonical)
        if name and name not in person.names:
            person.names.append(name)
            self.dirty.add(canonical)
        if name and not person.display_name:
            person.display_name = name
            self.dirty.add(canonical)
        return canonical

    def take_dirty(self) -> list[Person]:
        """People created or changed since the last call (to upsert)."""
        changed = [self.people[email] for email in sorted(self.dirty)]
        self.dirty.clear()
        return changed
