-- Quarry store schema: the single source of truth for a fresh database.
-- Migrations under store/migrations/ bring older files to this same schema; a test checks both agree.
-- All timestamps are TIMESTAMPTZ stored in UTC; connections run with TimeZone='UTC'.

CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

-- One row per ingested file (an mbox, a Maildir message file, an .eml, a document).
CREATE TABLE IF NOT EXISTS sources (
    source_id    TEXT PRIMARY KEY,          -- sha256 of the absolute path
    path         TEXT NOT NULL,
    kind         TEXT NOT NULL,             -- mbox | maildir | eml | txt | md | html | pdf | ics
    content_hash TEXT NOT NULL,             -- sha256 of the bytes at last ingest
    size_bytes   BIGINT NOT NULL,
    ingested_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

CREATE TABLE IF NOT EXISTS messages (
    message_id      TEXT PRIMARY KEY,       -- Message-ID header without <>, or 'sha256-<hash>@quarry'
    thread_id       TEXT NOT NULL,
    source_id       TEXT NOT NULL,
    sent_at         TIMESTAMPTZ,            -- UTC; NULL when Date is missing or garbled
    sent_offset_min INTEGER,                -- the Date header's own UTC offset, in minutes
    date_raw        TEXT,
    sender          TEXT,                   -- lowercased address of From
    sender_name     TEXT,
    subject         TEXT,
    in_reply_to     TEXT,
    refs            TEXT[],
    body_text       TEXT,                   -- the full decoded text body
    body_clean      TEXT,                   -- without quoted replies and signatures
    has_html        BOOLEAN NOT NULL DEFAULT false,
    content_hash    TEXT NOT NULL,
    ingested_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

CREATE TABLE IF NOT EXISTS people (
    email        TEXT PRIMARY KEY,          -- canonical lowercased address
    display_name TEXT,
    names        TEXT[],                    -- every display name seen
    aliases      TEXT[]                     -- other addresses merged into this person
);

CREATE TABLE IF NOT EXISTS message_people (
    message_id TEXT NOT NULL,
    email      TEXT NOT NULL,               -- canonical address (people.email)
    role       TEXT NOT NULL,               -- from | to | cc | bcc | reply_to
    PRIMARY KEY (message_id, email, role)
);

CREATE TABLE IF NOT EXISTS attachments (
    attachment_id TEXT PRIMARY KEY,         -- message_id + '#' + part index
    message_id    TEXT NOT NULL,
    filename      TEXT,
    content_type  TEXT NOT NULL,
    size_bytes    BIGINT NOT NULL,
    text          TEXT                      -- kept for text-like attachments only
);

CREATE TABLE IF NOT EXISTS documents (
    document_id  TEXT PRIMARY KEY,          -- sha256 of the content
    source_id    TEXT NOT NULL,
    path         TEXT NOT NULL,
    kind         TEXT NOT NULL,             -- txt | md | html | pdf | ics
    title        TEXT,
    text         TEXT,
    ingested_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

-- Passages of messages and documents, for full-text search and the classic-RAG baseline.
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id    TEXT PRIMARY KEY,           -- parent id + ':' + seq
    parent_kind TEXT NOT NULL,              -- message | document
    parent_id   TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    text        TEXT NOT NULL
);

-- Embeddings of chunks for the classic-RAG baseline (quarry.evals.rag_baseline), one row per chunk and model.
CREATE TABLE IF NOT EXISTS chunk_embeddings (
    chunk_id    TEXT NOT NULL,              -- chunks.chunk_id
    model       TEXT NOT NULL,              -- embedding model name
    embedding   FLOAT[384] NOT NULL,
    PRIMARY KEY (chunk_id, model)
);

CREATE TABLE IF NOT EXISTS quarantine (
    quarantine_id TEXT PRIMARY KEY,         -- sha256 of source path + locator
    source_path   TEXT NOT NULL,
    locator       TEXT,                     -- e.g. 'mbox offset 1234' or the file itself
    reason        TEXT NOT NULL,
    raw           BLOB,                     -- first 1 MiB of the raw bytes
    raw_size      BIGINT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

-- Facts. Each carries its provenance: message or document, evidence (exact words), extractor.
CREATE TABLE IF NOT EXISTS events (
    fact_id       TEXT PRIMARY KEY,
    title         TEXT NOT NULL,
    starts_at     TIMESTAMPTZ,
    ends_at       TIMESTAMPTZ,
    all_day       BOOLEAN NOT NULL DEFAULT false,
    location      TEXT,
    participants  TEXT[],
    status        TEXT NOT NULL DEFAULT 'scheduled',   -- scheduled | moved | cancelled
    phrase        TEXT,                                -- the original date/time words
    thread_id     TEXT,
    message_id    TEXT,
    document_id   TEXT,
    evidence      TEXT NOT NULL,
    extractor     TEXT NOT NULL,
    model         TEXT,
    extractor_version TEXT NOT NULL,
    confidence    DOUBLE NOT NULL DEFAULT 1.0,
    updated_by    TEXT,                                -- message_id of the last change
    timezone      TEXT                                 -- IANA zone the sender meant the time in
);

-- Every move/cancel of an event, in order: which message changed what.
CREATE TABLE IF NOT EXISTS event_history (
    fact_id        TEXT NOT NULL,
    message_id     TEXT NOT NULL,
    change         TEXT NOT NULL,                      -- created | moved | cancelled | relocated | mentioned
    old_starts_at  TIMESTAMPTZ,
    new_starts_at  TIMESTAMPTZ,
    evidence       TEXT,
    PRIMARY KEY (fact_id, message_id, change)
);

CREATE TABLE IF NOT EXISTS deadlines (
    fact_id       TEXT PRIMARY KEY,
    task          TEXT NOT NULL,
    due_at        TIMESTAMPTZ,
    owner         TEXT,
    phrase        TEXT,
    message_id    TEXT,
    document_id   TEXT,
    evidence      TEXT NOT NULL,
    extractor     TEXT NOT NULL,
    model         TEXT,
    extractor_version TEXT NOT NULL,
    confidence    DOUBLE NOT NULL DEFAULT 1.0,
    timezone      TEXT                                 -- IANA zone the sender meant the time in
);

CREATE TABLE IF NOT EXISTS action_items (
    fact_id       TEXT PRIMARY KEY,
    owner         TEXT,
    task          TEXT NOT NULL,
    due_at        TIMESTAMPTZ,
    status        TEXT NOT NULL DEFAULT 'open',        -- open | done
    phrase        TEXT,
    message_id    TEXT,
    document_id   TEXT,
    evidence      TEXT NOT NULL,
    extractor     TEXT NOT NULL,
    model         TEXT,
    extractor_version TEXT NOT NULL,
    confidence    DOUBLE NOT NULL DEFAULT 1.0,
    timezone      TEXT                                 -- IANA zone the sender meant the time in
);

CREATE TABLE IF NOT EXISTS entities (
    fact_id       TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,                       -- person | org | project | place
    message_id    TEXT,
    document_id   TEXT,
    evidence      TEXT NOT NULL,
    extractor     TEXT NOT NULL,
    model         TEXT,
    extractor_version TEXT NOT NULL,
    confidence    DOUBLE NOT NULL DEFAULT 1.0
);

CREATE TABLE IF NOT EXISTS topics (
    fact_id       TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    message_id    TEXT,
    document_id   TEXT,
    evidence      TEXT NOT NULL,
    extractor     TEXT NOT NULL,
    model         TEXT,
    extractor_version TEXT NOT NULL,
    confidence    DOUBLE NOT NULL DEFAULT 1.0
);

-- Extraction results by (content hash, extractor, model, prompt version): re-ingest never re-asks a model.
CREATE TABLE IF NOT EXISTS extraction_cache (
    content_hash   TEXT NOT NULL,
    extractor      TEXT NOT NULL,
    model          TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    result         JSON NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (content_hash, extractor, model, prompt_version)
);

-- Which message/document each extractor has processed, at which content hash: extraction is incremental,
-- and an item whose facts were all dropped (invalid model output) is not retried on every run.
CREATE TABLE IF NOT EXISTS extraction_log (
    item_id       TEXT NOT NULL,                       -- message_id or document_id
    extractor     TEXT NOT NULL,
    model         TEXT NOT NULL,                       -- '' for the rules extractor
    content_hash  TEXT NOT NULL,
    n_facts       INTEGER NOT NULL,
    outcome       TEXT NOT NULL,                       -- extracted | cached | skipped | dropped
    error         TEXT,
    extracted_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (item_id, extractor, model)
);

-- The user's own calendar.
CREATE TABLE IF NOT EXISTS calendar_events (
    event_id       TEXT PRIMARY KEY,
    title          TEXT NOT NULL,
    starts_at      TIMESTAMPTZ NOT NULL,
    ends_at        TIMESTAMPTZ,
    location       TEXT,
    attendees      TEXT[],
    source_fact_id TEXT,
    origin         TEXT NOT NULL DEFAULT 'user',       -- user | agent | ics
    created_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

-- Every agent run, in OpenAI chat format, plus metadata for training and evaluation.
CREATE TABLE IF NOT EXISTS traces (
    trace_id      TEXT PRIMARY KEY,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    model         TEXT NOT NULL,
    question      TEXT NOT NULL,
    messages      JSON NOT NULL,
    tools         JSON NOT NULL,
    final_answer  TEXT,
    citations     TEXT[],
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    latency_s     DOUBLE NOT NULL DEFAULT 0,
    verified      BOOLEAN,
    feedback      TEXT,                                -- good | bad | NULL
    metadata      JSON                                 -- teacher/oracle, template, known answer...
);

-- Documented views: what the agent's sql tool may read. Compact columns only.
CREATE OR REPLACE VIEW threads AS
SELECT thread_id,
       min(sent_at)        AS first_at,
       max(sent_at)        AS last_at,
       count(*)            AS n_messages,
       arg_min(subject, coalesce(sent_at, TIMESTAMPTZ '9999-12-31 00:00:00+00')) AS subject
FROM messages GROUP BY thread_id;

-- The agent's documented views, in their own schema: the sql tool reads ONLY these (the guard
-- qualifies every table name into this schema), so bodies and document texts stay out of reach of
-- model-written SQL even through `SELECT m FROM messages m` or COLUMNS(*). Bodies come through the
-- read_message and search tools. Columns are read from information_schema, so this list decides.
CREATE SCHEMA IF NOT EXISTS agent_views;
CREATE OR REPLACE VIEW agent_views.events AS SELECT * FROM main.events;
CREATE OR REPLACE VIEW agent_views.event_history AS SELECT * FROM main.event_history;
CREATE OR REPLACE VIEW agent_views.deadlines AS SELECT * FROM main.deadlines;
CREATE OR REPLACE VIEW agent_views.action_items AS SELECT * FROM main.action_items;
CREATE OR REPLACE VIEW agent_views.entities AS SELECT * FROM main.entities;
CREATE OR REPLACE VIEW agent_views.topics AS SELECT * FROM main.topics;
CREATE OR REPLACE VIEW agent_views.people AS SELECT * FROM main.people;
CREATE OR REPLACE VIEW agent_views.message_people AS SELECT * FROM main.message_people;
CREATE OR REPLACE VIEW agent_views.calendar_events AS SELECT * FROM main.calendar_events;
CREATE OR REPLACE VIEW agent_views.threads AS SELECT * FROM main.threads;
CREATE OR REPLACE VIEW agent_views.messages AS
SELECT message_id, thread_id, sent_at, sender, sender_name, subject FROM main.messages;
CREATE OR REPLACE VIEW agent_views.documents AS SELECT document_id, path, kind, title FROM main.documents;

-- Full-text search index (store/search.py keeps it in step with messages and document chunks).
-- A unit is a message (subject + body_clean) or a chunk of a document.
CREATE TABLE IF NOT EXISTS search_docs (
    unit_id     TEXT PRIMARY KEY,                      -- 'message:' + message_id, or a chunk_id
    parent_kind TEXT NOT NULL,                         -- message | document
    parent_id   TEXT NOT NULL,                         -- message_id or document_id
    doc_len     INTEGER NOT NULL                       -- number of tokens in the unit
);
CREATE TABLE IF NOT EXISTS search_terms (
    term        TEXT NOT NULL,
    unit_id     TEXT NOT NULL,
    tf          INTEGER NOT NULL                       -- occurrences of the term in the unit
);
