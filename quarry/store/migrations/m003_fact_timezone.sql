-- Times are stored in UTC; the zone the sender meant them in is kept beside them, so an answer can say
-- "19:30 New York time" when the reader is elsewhere.
ALTER TABLE events ADD COLUMN IF NOT EXISTS timezone TEXT;
ALTER TABLE deadlines ADD COLUMN IF NOT EXISTS timezone TEXT;
ALTER TABLE action_items ADD COLUMN IF NOT EXISTS timezone TEXT;
CREATE OR REPLACE VIEW agent_views.events AS SELECT * FROM main.events;
CREATE OR REPLACE VIEW agent_views.deadlines AS SELECT * FROM main.deadlines;
CREATE OR REPLACE VIEW agent_views.action_items AS SELECT * FROM main.action_items;
