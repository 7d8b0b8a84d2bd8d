"""Zones written after a clock time: "7am ET", "10am Perth time", "19:00 CET", "6pm my time".

People who write across zones say which zone a time is in; without this the time is read on the sender's
clock. Abbreviations name a region, not an offset ("ET" is New York whether or not DST is on), so each
maps to an IANA zone and the offset comes from the date. "my time" is the sender's own zone (the default);
"your time" is left to the sender's clock too: extraction does not know the reader's zone.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

_ABBREVIATIONS = {
    "et": "America/New_York", "est": "America/New_York", "edt": "America/New_York", "eastern": "America/New_York",
    "ct": "America/Chicago", "cst": "America/Chicago", "cdt": "America/Chicago", "central": "America/Chicago",
    "mt": "America/Denver", "mst": "America/Denver", "mdt": "America/Denver", "mountain": "America/Denver",
    "pt": "America/Los_Angeles", "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles",
    "pacific": "America/Los_Angeles", "gmt": "Europe/London", "bst": "Europe/London", "uk": "Europe/London",
    "utc": "UTC", "z": "UTC", "cet": "Europe/Paris", "cest": "Europe/Paris", "wet": "Europe/Lisbon",
    "west": "Europe/Lisbon", "eet": "Europe/Helsinki", "eest": "Europe/Helsinki", "ist": "Asia/Kolkata",
    "india": "Asia/Kolkata", "sgt": "Asia/Singapore", "hkt": "Asia/Hong_Kong", "jst": "Asia/Tokyo",
    "kst": "Asia/Seoul", "aest": "Australia/Brisbane", "aedt": "Australia/Sydney", "acst": "Australia/Darwin",
    "acdt": "Australia/Adelaide", "awst": "Australia/Perth", "nzst": "Pacific/Auckland", "nzdt": "Pacific/Auckland",
}
#: City and country names people put before "time" ("Perth time", "New York time"), beside every IANA city.
_PLACES = {
    "new york": "America/New_York", "nyc": "America/New_York", "boston": "America/New_York",
    "washington": "America/New_York", "miami": "America/New_York", "atlanta": "America/New_York",
    "montreal": "America/Toronto", "ottawa": "America/Toronto", "dallas": "America/Chicago",
    "houston": "America/Chicago", "austin": "America/Chicago", "seattle": "America/Los_Angeles",
    "san francisco": "America/Los_Angeles", "sf": "America/Los_Angeles", "portland": "America/Los_Angeles",
    "california": "America/Los_Angeles", "london": "Europe/London", "england": "Europe/London",
    "britain": "Europe/London", "ireland": "Europe/Dublin", "france": "Europe/Paris", "germany": "Europe/Berlin",
    "spain": "Europe/Madrid", "italy": "Europe/Rome", "netherlands": "Europe/Amsterdam",
    "portugal": "Europe/Lisbon", "japan": "Asia/Tokyo", "china": "Asia/Shanghai", "beijing": "Asia/Shanghai",
    "bangalore": "Asia/Kolkata", "bengaluru": "Asia/Kolkata", "mumbai": "Asia/Kolkata", "delhi": "Asia/Kolkata",
    "canberra": "Australia/Sydney", "queensland": "Australia/Brisbane", "nz": "Pacific/Auckland",
    "new zealand": "Pacific/Auckland", "wellington": "Pacific/Auckland", "vancouver": "America/Vancouver",
}


@lru_cache(maxsize=1)
def _cities() -> dict[str, str]:
    """'sydney' -> 'Australia/Sydney' for every zone whose last part is a city, plus the names above; read
    from the zone database on first use, not at import (every CLI start imports this module)."""
    cities: dict[str, str] = {}
    for name in sorted(zoneinfo.available_timezones()):
        if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/")):
            cities.setdefault(name.rsplit("/", 1)[1].replace("_", " ").lower(), name)
    return {**cities, **_PLACES}


_WORD = r"[A-Za-z][A-Za-z.]*"
_SUFFIX = re.compile(
    rf"^\s*\(?\s*(?:(?P<abbr>[A-Z]{{1,4}}T|UTC|GMT|Z)\b|(?P<place>(?:{_WORD}\s+){{0,2}}?{_WORD})\s+time\b)", re.I
)


def zone_after(text: str) -> tzinfo | None:
    """The zone named at the start of `text` (the words after a clock time), or None when none is named or it
    is "my time" / "your time" (read on the sender's clock, which the caller already uses)."""
    match = _SUFFIX.match(text)
    if match is None:
        return None
    if match.group("abbr"):
        name = _ABBREVIATIONS.get(match.group("abbr").lower())
        return ZoneInfo(name) if name else None
    place = " ".join(match.group("place").lower().replace(".", "").split())
    for words in (place, place.split(" ", 1)[-1], place.rsplit(" ", 1)[-1]):
        name = _ABBREVIATIONS.get(words) or _cities().get(words)
        if name:
            return ZoneInfo(name)
    return None
