"""The candidate queries of the question templates: which facts of a store each question form can ask about.

Each query returns one row per candidate fact, with the columns its template's builder reads; a fact is a
candidate only when a question about it has exactly one answer (its title or task names no other fact).
"""

from quarry.store.people_search import PEOPLE_ROWS

#: Calendar entries overlapping each event (the calendar tools' rule: no end means one hour); events
#: already on the calendar are left out, since "am I free then?" has no clear answer for them.
CALENDAR_OVERLAPS = """
SELECT e.fact_id, e.title, e.starts_at, e.ends_at, e.all_day, e.status, e.message_id, e.updated_by,
       (SELECT count(*) FROM calendar_events c
        WHERE c.starts_at < coalesce(e.ends_at, e.starts_at + INTERVAL 1 HOUR)
          AND coalesce(c.ends_at, c.starts_at + INTERVAL 1 HOUR) > e.starts_at) AS clashes
FROM events e
WHERE e.starts_at IS NOT NULL AND NOT e.all_day AND e.status <> 'cancelled'
  AND NOT EXISTS (SELECT 1 FROM calendar_events c WHERE c.source_fact_id = e.fact_id)
  AND (SELECT count(*) FROM events o WHERE o.title ILIKE '%' || e.title || '%') = 1
ORDER BY e.fact_id
"""

#: Events whose title names exactly one event, so a question about it has one answer.
UNIQUE_EVENTS = """
SELECT e.fact_id, e.title, e.starts_at, e.ends_at, e.all_day, e.location, e.status, e.message_id, e.updated_by
FROM events e
WHERE e.starts_at IS NOT NULL
  AND (SELECT count(*) FROM events o WHERE o.title ILIKE '%' || e.title || '%') = 1
ORDER BY e.fact_id
"""

UNIQUE_ACTIONS = """
SELECT a.fact_id, a.task, a.owner, a.message_id, p.email, p.display_name
FROM action_items a
LEFT JOIN people p ON lower(p.email) = lower(a.owner) OR lower(p.display_name) = lower(a.owner)
WHERE a.owner IS NOT NULL
  AND (SELECT count(*) FROM action_items o WHERE o.task ILIKE '%' || a.task || '%') = 1
ORDER BY a.fact_id
"""

UNIQUE_DEADLINES = """
SELECT d.fact_id, d.task, d.due_at, d.message_id
FROM deadlines d
WHERE d.due_at IS NOT NULL
  AND (SELECT count(*) FROM deadlines o WHERE o.task ILIKE '%' || d.task || '%') = 1
ORDER BY d.fact_id
"""

WEEKS = """
SELECT date_trunc('week', starts_at) AS week,
       count(*) AS n,
       list(title ORDER BY starts_at) AS titles,
       list(message_id ORDER BY starts_at) AS message_ids
FROM events
WHERE starts_at IS NOT NULL AND status <> 'cancelled'
GROUP BY 1 ORDER BY 1
"""

MONTHS = """
SELECT date_trunc('month', due_at) AS month, count(*) AS n, list(message_id ORDER BY due_at) AS message_ids
FROM deadlines WHERE due_at IS NOT NULL GROUP BY 1 ORDER BY 1
"""

NOT_ON_CALENDAR = """
SELECT e.fact_id, e.title, e.starts_at, e.ends_at, e.all_day, e.location, e.participants, e.message_id, e.updated_by
FROM events e
WHERE e.starts_at IS NOT NULL AND e.status <> 'cancelled'
  AND NOT EXISTS (SELECT 1 FROM calendar_events c WHERE c.source_fact_id = e.fact_id)
  AND (SELECT count(*) FROM events o WHERE o.title ILIKE '%' || e.title || '%') = 1
ORDER BY e.fact_id
"""

#: People with a full name (two words or more) that names no one else, and a message they are on.
NAMED_PEOPLE = """
SELECT p.email, p.display_name, min(mp.message_id) AS message_id
FROM people p JOIN message_people mp ON lower(mp.email) = lower(p.email)
WHERE p.display_name LIKE '% %'
  AND (SELECT count(*) FROM people o WHERE o.display_name ILIKE '%' || p.display_name || '%') = 1
GROUP BY ALL ORDER BY p.email
"""

#: Messages with exactly one named attachment whose subject names no other message.
ONE_ATTACHMENT = """
SELECT m.message_id, coalesce(m.sender_name, m.sender) AS sender, m.subject, min(a.filename) AS filename
FROM messages m JOIN attachments a ON a.message_id = m.message_id
WHERE a.filename IS NOT NULL AND length(m.subject) BETWEEN 4 AND 80
  AND (SELECT count(*) FROM messages o WHERE o.subject ILIKE '%' || m.subject || '%') = 1
GROUP BY ALL HAVING count(*) = 1 ORDER BY m.message_id
"""

#: People with a full name that names no one else and a phone number (digits in groups) in the signature
#: find_person shows.
PHONES = f"""
SELECT x.email, x.display_name, x.message_id, x.phone
FROM (SELECT *, trim(regexp_extract(signature, '(\\+?\\(?\\d[\\d ().-]{{6,}}\\d)')) AS phone FROM ({PEOPLE_ROWS})) x
WHERE x.display_name LIKE '% %' AND length(regexp_replace(x.phone, '\\D', '', 'g')) BETWEEN 7 AND 15
  AND regexp_matches(x.phone, '\\d[ ().-]+\\d')  -- written as a phone is, in groups: not an order number
  AND (SELECT count(*) FROM people o WHERE o.display_name ILIKE '%' || x.display_name || '%') = 1
ORDER BY x.email
"""

#: Messages from a named sender whose subject names no other message (find_message ranks it by its words).
UNIQUE_SUBJECTS = """
SELECT m.message_id, m.subject, m.sender, m.sender_name
FROM messages m
WHERE m.sender_name IS NOT NULL AND length(m.subject) BETWEEN 5 AND 80
  AND (SELECT count(*) FROM messages o WHERE o.subject ILIKE '%' || m.subject || '%') = 1
ORDER BY m.message_id
"""

#: The newest message of a sender with a full name that names no one else, when no other message of theirs
#: has the same time.
LATEST_FROM = """
SELECT m.message_id, m.subject, m.sender_name
FROM messages m
WHERE m.sender_name LIKE '% %' AND m.subject IS NOT NULL AND m.sent_at IS NOT NULL
  AND m.sent_at = (SELECT max(o.sent_at) FROM messages o WHERE o.sender = m.sender)
  AND (SELECT count(*) FROM messages o WHERE o.sender = m.sender AND o.sent_at = m.sent_at) = 1
  AND (SELECT count(*) FROM people o WHERE o.display_name ILIKE '%' || m.sender_name || '%') = 1
ORDER BY m.message_id
"""

#: Things a personal mailbox might mention; a question about one the store never mentions is "unknown".
UNKNOWN_THINGS = (
    "dentist appointment", "company picnic", "yoga retreat", "car inspection", "piano recital",
    "wine tasting", "hackathon", "tax filing", "marathon", "book club", "chess tournament",
    "kayak trip", "pottery class", "flu shot", "ski trip", "science fair", "poetry reading",
    "charity gala", "fire drill", "bake sale", "salsa lesson", "escape room outing",
    "orchestra rehearsal", "garage sale", "lighthouse tour",
)

#: How the gold questions spell an answer the mailbox does not hold (answer "unknown", type text).
UNKNOWN_ACCEPT = ("the mailbox does not say", "not mentioned")

#: Unknown things the store never mentions: the whole phrase nowhere in the facts, its head noun
#: ("picnic") in no event title and no message, so the lookups of the ideal trace really find nothing.
UNKNOWN_CANDIDATES = """
SELECT t.thing, t.head
FROM (SELECT thing, list_last(string_split(thing, ' ')) AS head FROM (SELECT unnest(?) AS thing)) t
WHERE NOT EXISTS (SELECT 1 FROM events WHERE title ILIKE '%' || t.head || '%' OR location ILIKE '%' || t.thing || '%')
  AND NOT EXISTS (SELECT 1 FROM deadlines WHERE task ILIKE '%' || t.thing || '%')
  AND NOT EXISTS (SELECT 1 FROM action_items WHERE task ILIKE '%' || t.thing || '%')
  AND NOT EXISTS (SELECT 1 FROM calendar_events WHERE title ILIKE '%' || t.thing || '%')
  AND NOT EXISTS (SELECT 1 FROM messages
                  WHERE subject ILIKE '%' || t.head || '%' OR body_text ILIKE '%' || t.head || '%')
ORDER BY 1
"""
