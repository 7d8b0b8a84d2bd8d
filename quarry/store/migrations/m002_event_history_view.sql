-- The agent may read how events changed (moved/cancelled, by which message, the old start time).
CREATE OR REPLACE VIEW agent_views.event_history AS SELECT * FROM main.event_history;
