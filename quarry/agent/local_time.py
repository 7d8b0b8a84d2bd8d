"""Answers shown in the user's own zone: instants the model copied from tool results (UTC, as the store
keeps them) are written as local time, with the event's own zone beside it when that differs.

"2026-11-20 00:30:00+00:00" becomes "Fri 20 Nov 2026, 01:30 CET (Thu 19 Nov, 19:30 New York time)" for a reader in
Berlin and an event the sender set in New York. Only the display changes: the stored answer, the trace and
scoring keep the model's words (scoring accepts any correct written form). The zone comes from config
`timezone` (or QUARRY_TIMEZONE), else the system's (tzlocal).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from quarry.errors import ConfigError
from quarry.store.calendar import instant_or_none

#: An instant with a clock time and an explicit zone: ISO 8601 ("T" or space), seconds optional, "Z",
#: "UTC" or a numeric offset; a weekday before it (as tool results write "Sat 2026-03-14 14:00 UTC") is replaced too.
_INSTANT = re.compile(
    r"\b(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? )?(?P<iso>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
    r"(?:\s?UTC\b|Z\b|[+-]\d{2}(?::?\d{2})?\b))")

EventZone = Callable[[datetime], str | None]


def user_zone(configured: str | None) -> tzinfo:
    """The configured IANA zone, else the system's; an unknown name is a config error."""
    if configured:
        try:
            return ZoneInfo(configured)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"timezone {configured!r}: not an IANA zone name (e.g. Europe/Berlin)") from exc
    import tzlocal

    return tzlocal.get_localzone()


def place(zone_name: str) -> str:
    """'America/New_York' -> 'New York'."""
    return zone_name.rsplit("/", 1)[-1].replace("_", " ")


def _written(moment: datetime, zone: tzinfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M} {local.tzname() or ''}".rstrip()


def localize(text: str, zone: tzinfo, event_zone: EventZone | None = None) -> str:
    """`text` with each explicit-zone instant written in `zone`; `event_zone(instant in UTC)` names the zone of
    the event at that instant (None when unknown), shown beside it when it keeps other clock times."""
    def local(match: re.Match[str]) -> str:
        moment = instant_or_none(match["iso"])
        if moment is None:
            return match.group(0)
        shown = _written(moment, zone)
        own = event_zone(moment) if event_zone else None
        if own:
            there = moment.astimezone(ZoneInfo(own))
            if there.utcoffset() != moment.astimezone(zone).utcoffset():
                shown += f" ({there:%a} {there.day} {there:%b}, {there:%H:%M} {place(own)} time)"
        return shown

    return _INSTANT.sub(local, text)
