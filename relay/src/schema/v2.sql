-- Schema v2 of the relay's SQLite store (user_version = 2): the waiting events of a
-- paused webhook have their own status.
--
-- FROZEN once shipped, like v1.sql: change the schema by adding v3.sql.
--
-- In v1 the events of a webhook paused by a `410 Gone` (listed in disabled_webhooks)
-- stayed 'pending', and every claim filtered them out row by row. From v2 they are
-- 'paused' until the webhook is resumed, and read as pending. No table changes, but
-- the version must go up all the same: a v1 relay would never deliver a 'paused'
-- event, so it has to refuse a v2 store rather than open it.
UPDATE outbox SET status = 'paused'
 WHERE status = 'pending' AND webhook IN (SELECT webhook FROM disabled_webhooks);
