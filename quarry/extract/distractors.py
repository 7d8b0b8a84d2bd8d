"""Mail and sentences that name dates but hold no fact of the reader's: scams and sales pitches.

A phishing note's "verify your account by Friday or it will be suspended" is no deadline of the user's, and a
shop's "30% off until Sunday" is no event. The cues are the genre's own words, not any sender's.
"""

from __future__ import annotations

import re

from quarry.extract.facts import SourceText

_SCAM = re.compile(
    r"\b(?:verify (?:your )?(?:identity|account|details|payment|information)|"
    r"(?:account|card|access|mailbox|service)s?\b[^.\n]{0,40}\b(?:suspend(?:ed|sion)?|locked|deactivated|terminated)|"
    r"(?:immediate|permanent(?:ly)?) (?:suspension|suspended|closure|deactivation)|"
    r"claim your (?:prize|reward|refund|parcel|package)|you(?:'ve| have) (?:been selected|won)|"
    r"(?:small|customs|redelivery|release) (?:fee|charge|payment) of)", re.I)
_PROMOTION = re.compile(
    r"(?:\b\d{1,2}\s?% off\b|\b(?:flash|clearance|end of season) sale\b|"
    r"\bdiscount(?:ed)?\b|\bpromo(?:tion(?:al)?)? code\b|\bcoupon\b|\bfree (?:shipping|delivery|embroidery|gift)\b|"
    r"\bshop now\b|\bthis week only\b|\blimited time\b)", re.I)


def is_scam(src: SourceText) -> bool:
    """A message that threatens or baits (suspension, a prize, a release fee): none of its dates are the user's."""
    return bool(_SCAM.search(f"{src.subject}\n{src.body}"))


def is_promotion(sentence: str) -> bool:
    """A sales pitch ("30% off everything until Sunday"): its date is when an offer ends, nobody's deadline."""
    return bool(_PROMOTION.search(sentence))
