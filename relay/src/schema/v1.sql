-- Schema v1 of the relay's SQLite store, as shipped (user_version = 1).
--
-- FROZEN: data directories in the field were made by exactly these statements. Never
-- edit it; change the schema by adding the next migration (v2.sql) in
-- relay/src/schema.rs. `IF NOT EXISTS` lets it also complete databases made before
-- the schema had a version (user_version 0), which had a subset of these tables.
CREATE TABLE IF NOT EXISTS outbox (
    id          TEXT PRIMARY KEY,
    webhook     TEXT NOT NULL,
    trigger     TEXT NOT NULL,
    profileid   TEXT NOT NULL,
    event       TEXT NOT NULL,
    status      TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     INTEGER NOT NULL,
    claimed     INTEGER NOT NULL DEFAULT 0,
    last_status INTEGER,
    last_error  TEXT,
    received_at INTEGER NOT NULL,
    done_at     INTEGER
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_at);
CREATE INDEX IF NOT EXISTS outbox_received ON outbox (received_at);
CREATE TABLE IF NOT EXISTS attempts (
    event_id    TEXT NOT NULL,
    at          INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    status      INTEGER,
    error       TEXT,
    next        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS attempts_event ON attempts (event_id);
CREATE TABLE IF NOT EXISTS stops (
    webhook   TEXT NOT NULL,
    trigger   TEXT NOT NULL,
    profileid TEXT NOT NULL,
    fired_at  INTEGER NOT NULL,
    PRIMARY KEY (webhook, trigger, profileid)
);
CREATE TABLE IF NOT EXISTS disabled_webhooks (
    webhook TEXT PRIMARY KEY,
    reason  TEXT NOT NULL,
    at      INTEGER NOT NULL
);
