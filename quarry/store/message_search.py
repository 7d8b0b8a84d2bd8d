"""Messages found by subject words, by a person on them and by date: "the email Priya sent me about the Q3 numbers".

The `search` tool ranks bodies; this lookup answers the header questions (who sent it, when, to whom, what
was attached) a small model would otherwise put together from three joins. The words are ranked by
`store.ranking` over the subject (counted twice) and the rest (sender, attachment names, the start of the
cleaned body); `sender` and `recipient` keep messages from (to, cc) someone whose name or address holds all
their words; `since`/`until` bound the date. Without words, the newest come first ("the latest mail from Dana").
"""

from __future__ import annotations

from datetime import date

import duckdb

from quarry.store.query import QueryResult
from quarry.store.ranking import QUESTION_WORDS, Field, rank_rows
from quarry.store.search import tokens_sql

SUBJECT_WEIGHT = 2.0
BODY_CHARS = 300
#: Words of a message question that pick out no message ("the email about ...").
_MESSAGE_WORDS = ("email", "mail", "message", "sent", "send", "wrote", "about", "attached", "attach", "file")

_COLUMNS = "message_id, sent_at, sender, recipients, subject, attachments"


def _on_it(role_sql: str) -> str:
    """SQL: someone in `role_sql` on message m has a name or address holding every word of the '?' text."""
    person = tokens_sql("concat_ws(' ', p.display_name, array_to_string(p.names, ' '), replace(p.email, '.', ' '))")
    return f"""AND EXISTS (SELECT 1 FROM message_people mp JOIN people p USING (email)
                WHERE mp.message_id = m.message_id AND mp.role IN ({role_sql})
                  AND list_has_all({person}, {tokens_sql('?')}))"""


def _messages(sender: bool, recipient: bool) -> str:
    """The candidate messages, each with its sender, recipients and attachment names (the tool's columns)."""
    return f"""
SELECT m.message_id, m.sent_at, m.subject,
       CASE WHEN m.sender_name IS NULL THEN m.sender ELSE m.sender_name || ' <' || m.sender || '>' END AS sender,
       (SELECT string_agg(mp.email, ', ' ORDER BY mp.email) FROM message_people mp
        WHERE mp.message_id = m.message_id AND mp.role IN ('to', 'cc')) AS recipients,
       (SELECT list(a.filename ORDER BY a.attachment_id) FROM attachments a
        WHERE a.message_id = m.message_id AND a.filename IS NOT NULL) AS attachments,
       concat_ws(' ', m.sender_name, m.sender,
                 (SELECT string_agg(a.filename, ' ') FROM attachments a WHERE a.message_id = m.message_id),
                 left(coalesce(m.body_clean, m.body_text, ''), {BODY_CHARS})) AS rest_text
FROM messages m
WHERE (CAST(? AS DATE) IS NULL OR m.sent_at >= CAST(? AS DATE))
  AND (CAST(? AS DATE) IS NULL OR m.sent_at < CAST(? AS DATE) + 1)
  {_on_it("'from'") if sender else ""} {_on_it("'to', 'cc', 'bcc'") if recipient else ""}
"""


def find_messages(con: duckdb.DuckDBPyConnection, text: str = "", sender: str = "", recipient: str = "",
                  since: date | None = None, until: date | None = None, k: int = 5) -> QueryResult:
    """Up to `k` messages matching the words (best first; newest first without words), the sender, the
    recipient and the dates (`until` included)."""
    sender, recipient = sender.strip(), recipient.strip()
    params = [since, since, until, until, *([sender] if sender else []), *([recipient] if recipient else [])]
    source = _messages(bool(sender), bool(recipient))
    if text.strip():
        return rank_rows(con, source, "message_id", [Field("subject", "subject", SUBJECT_WEIGHT),
                                                     Field("rest", "rest_text")],
                         _COLUMNS, text, k=k, tie="sent_at DESC NULLS LAST, message_id", params=params,
                         drop=(*QUESTION_WORDS, *_MESSAGE_WORDS))
    cursor = con.execute(f"SELECT {_COLUMNS} FROM ({source}) ORDER BY sent_at DESC NULLS LAST, message_id "
                         f"LIMIT {int(k)}", params)
    return QueryResult(columns=[d[0] for d in cursor.description], rows=cursor.fetchall())
