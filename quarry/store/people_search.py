"""People found by what the user calls them: a name, part of one, or words from their signature or domain.

"What is Priya's email address?" or "my accountant's address" should not need an ILIKE guess at a display
name. A person has two fields for `store.ranking`: the name (display name, every name seen, the address's
local part; counted twice) and the rest (the address's domain and the end of a message they sent, before any
quoted text: the latest one with a number in it, where a signature says "Raman & Holt Accounting"). The row
carries that text (phone numbers and roles live there, and `body_clean` drops signatures) and its message (else
the latest they are on), so the answer can cite it.
"""

from __future__ import annotations

import duckdb

from quarry.store.query import QueryResult
from quarry.store.ranking import QUESTION_WORDS, Field, rank_rows

NAME_WEIGHT = 2.0
#: Characters of a sent message kept before its quoted part: the sign-off and signature block.
SIGNATURE_CHARS = 200
#: Words of an address question that name no one ("Priya's email address").
_ADDRESS_WORDS = ("email", "mail", "address", "contact", "reach", "write")

#: One row per person with the fields above, their cited message and its signature text.
PEOPLE_ROWS = rf"""
SELECT p.email, p.display_name, p.aliases, coalesce(s.sent, 0) AS messages_sent,
       coalesce(s.cited, o.last_on) AS message_id, s.signature,
       concat_ws(' ', p.display_name, array_to_string(p.names, ' '), split_part(p.email, '@', 1)) AS name_text,
       concat_ws(' ', split_part(p.email, '@', 2), s.signature) AS rest_text
FROM people p
LEFT JOIN (SELECT email, count(*) AS sent, arg_max(message_id, pick) AS cited, arg_max(tail, pick) AS signature
           FROM (SELECT *, (regexp_matches(tail, '\d{{3}}'), sent_at) AS pick  -- the latest tail with a number
                 FROM (SELECT mp.email, m.message_id, m.sent_at,
                              right(trim(regexp_replace(split_part(coalesce(m.body_text, ''), chr(10) || '>', 1),
                                                        '\n[^\n]{{0,200}}wrote:\s*$', '')), {SIGNATURE_CHARS}) AS tail
                       FROM message_people mp JOIN messages m USING (message_id) WHERE mp.role = 'from'))
           GROUP BY email) s
       USING (email)
LEFT JOIN (SELECT mp.email, arg_max(m.message_id, m.sent_at) AS last_on
           FROM message_people mp JOIN messages m USING (message_id) GROUP BY mp.email) o USING (email)
"""


def find_people(con: duckdb.DuckDBPyConnection, text: str, k: int = 3) -> QueryResult:
    """The `k` people who best match `text`, best first, with their address and a message to cite."""
    return rank_rows(con, PEOPLE_ROWS, "email", [Field("name", "name_text", NAME_WEIGHT), Field("rest", "rest_text")],
                     "email, display_name, aliases, messages_sent, message_id, signature", text, k=k,
                     tie="messages_sent DESC, email", drop=(*QUESTION_WORDS, *_ADDRESS_WORDS))
