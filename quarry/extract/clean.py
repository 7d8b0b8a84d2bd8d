"""body_clean: a message body without quoted replies and signatures, so facts are not counted twice.

Removes '>' quoted lines, an "On ... wrote:" attribution and everything after it, Outlook
"-----Original Message-----" / "From: ... Sent: ..." header blocks and what follows, forwarded-message
markers, the '-- ' signature delimiter and what follows, and a closing sign-off ("Thanks,", "Best,")
followed by a short name block, and "Sent from my iPhone" footers.
"""

from __future__ import annotations

import re

_ATTRIBUTION = re.compile(
    r"^\s*(On\s.{0,200}?\swrote:|Am\s.{0,200}?\sschrieb\s?.{0,80}:|Le\s.{0,200}?\sa\sécrit\s?:)\s*$",
    re.IGNORECASE,
)
_ATTRIBUTION_START = re.compile(r"^\s*(On|Am|Le)\s.*\d", re.IGNORECASE)
_ORIGINAL = re.compile(r"^\s*-{2,}\s*(Original Message|Ursprüngliche Nachricht|Forwarded message)\s*-{2,}\s*$",
                       re.IGNORECASE)
_FORWARD_BEGIN = re.compile(r"^\s*Begin forwarded message:\s*$", re.IGNORECASE)
_OUTLOOK_FROM = re.compile(r"^\s*\**(From|Von|De)\s*:\**\s+\S", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\s*\**(Sent|Date|Gesendet|To|An|Subject|Betreff|Cc)\s*:", re.IGNORECASE)
_SIGN_OFF = re.compile(
    r"^\s*(best|best regards|kind regards|regards|warm regards|cheers|thanks|thank you|many thanks|"
    r"thx|sincerely|yours|all the best|talk soon|see you|ciao|greetings|viele grüße|liebe grüße|"
    r"mit freundlichen grüßen|gruß|lg|bg|-\s*\w+)\s*[,!.]?\s*$",
    re.IGNORECASE,
)
_MOBILE_FOOTER = re.compile(r"^\s*(Sent from my \w+|Sent from (Mail|Outlook) for \w+|Get Outlook for \w+)\.?\s*$",
                            re.IGNORECASE)
_MAX_NAME_BLOCK_LINES = 6
_MAX_NAME_LINE_CHARS = 60


def _cut_index(lines: list[str]) -> int:
    """Index of the first line that starts quoted/forwarded history or the signature."""
    for i, line in enumerate(lines):
        stripped = line.rstrip()
        if stripped == "--" or stripped == "-- " or line.rstrip("\n") == "-- ":
            return i
        if _ORIGINAL.match(line) or _FORWARD_BEGIN.match(line) or _ATTRIBUTION.match(line):
            return i
        # Attribution lines wrapped over two lines: "On Tue, 3 Mar 2026 at 10:00, Ann" / "<ann@x> wrote:"
        if _ATTRIBUTION_START.match(line) and i + 1 < len(lines) and lines[i + 1].rstrip().endswith("wrote:"):
            return i
        if _OUTLOOK_FROM.match(line) and any(_OUTLOOK_NEXT.match(n) for n in lines[i + 1:i + 3]):
            return i
    return len(lines)


def _looks_like_name_line(line: str) -> bool:
    """Name, title, phone or address lines; not sentences (lowercase start, final punctuation)."""
    return len(line) <= _MAX_NAME_LINE_CHARS and not line[0].islower() and not line.endswith((".", "?", "!"))


def _strip_sign_off(lines: list[str]) -> list[str]:
    """Drop a final sign-off line and the short name/title/phone block under it."""
    lines = [line for line in lines if not _MOBILE_FOOTER.match(line)]
    while lines and not lines[-1].strip():
        lines.pop()
    block = 0
    for i in range(len(lines) - 1, -1, -1):
        if _SIGN_OFF.match(lines[i]):
            return lines[:i]
        if lines[i].strip():
            block += 1
            if block > _MAX_NAME_BLOCK_LINES or not _looks_like_name_line(lines[i].strip()):
                break
    return lines


def body_clean(text: str) -> str:
    """The author's own words of a message body."""
    if not text:
        return ""
    lines = text.replace("\r\n", "\n").split("\n")
    lines = lines[:_cut_index(lines)]
    lines = [line for line in lines if not line.lstrip().startswith(">")]
    lines = _strip_sign_off(lines)
    cleaned = "\n".join(lines).strip()
    return re.sub(r"\n{3,}", "\n\n", cleaned)
