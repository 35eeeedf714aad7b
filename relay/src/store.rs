//! Storage: the outbox of accepted events, their delivery attempts, de-duplication by
//! event id, and the server-side Stop timers, behind one trait.
//!
//! The trait is synchronous and called from `spawn_blocking`: the embedded backend is
//! SQLite, whose calls block, and a later PostgreSQL backend can implement the same
//! contract. Every method is one transaction.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, params};
use sitehook_core::{Event, Restart};

use crate::clock::Clock;

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored event could not be read back.
    #[error("stored event {id} is unreadable: {source}")]
    Corrupt {
        /// The event's id.
        id: String,
        /// Why.
        source: serde_json::Error,
    },
    /// The store's lock was poisoned by a panic elsewhere.
    #[error("the store is unusable after an earlier panic")]
    Poisoned,
}

/// An event to accept, with its webhook's server-side Stop.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    /// The validated event.
    pub event: &'a Event,
    /// The webhook's `restart_after`, if any.
    pub restart_after: Option<Restart>,
}

/// What happened to an accepted event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Stored, to be delivered.
    Queued,
    /// An event with this id was stored before; it is not delivered again.
    Duplicate,
    /// Stored but not to be delivered: the trigger fired for this profile within the
    /// webhook's restart window.
    Suppressed,
}

/// A delivery to attempt.
#[derive(Debug, Clone)]
pub struct Job {
    /// The event.
    pub event: Event,
    /// Attempts made so far.
    pub attempts: u32,
}

/// Where an event is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Waiting for its (next) attempt.
    Pending,
    /// Delivered: the webhook answered 2xx.
    Delivered,
    /// Every attempt failed (a dead letter), kept for inspection and replay.
    Failed,
    /// Not delivered because of the webhook's Stop.
    Suppressed,
}

impl Status {
    /// The word stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Delivered => "delivered",
            Status::Failed => "failed",
            Status::Suppressed => "suppressed",
        }
    }

    fn parse(text: &str) -> Status {
        match text {
            "delivered" => Status::Delivered,
            "failed" => Status::Failed,
            "suppressed" => Status::Suppressed,
            _ => Status::Pending,
        }
    }
}

/// A stored event and how its delivery went, for listings.
#[derive(Debug, Clone)]
pub struct Record {
    /// The event's id.
    pub id: String,
    /// The webhook.
    pub webhook: String,
    /// The trigger.
    pub trigger: String,
    /// The profile id (`""` when anonymous).
    pub profileid: String,
    /// Its status.
    pub status: Status,
    /// Attempts made.
    pub attempts: u32,
    /// The last HTTP status received, if any.
    pub last_status: Option<u16>,
    /// The last error, if any.
    pub last_error: Option<String>,
    /// When the relay accepted it (ms since the epoch).
    pub received_at: u64,
}

/// The result of one delivery attempt.
#[derive(Debug, Clone)]
pub enum Attempt {
    /// The webhook answered 2xx with this status.
    Delivered(u16),
    /// The attempt failed; retry at `next_at`, or give up when `None`.
    Failed {
        /// The HTTP status, when there was a response.
        status: Option<u16>,
        /// What went wrong.
        error: String,
        /// When to try again; `None` makes it a dead letter.
        next_at: Option<u64>,
    },
}

/// The storage contract of the relay.
pub trait Store: Send + Sync + 'static {
    /// Durably stores `events` (one transaction, committed before returning) and says
    /// what happened to each, in order.
    fn accept(&self, events: &[Incoming<'_>]) -> Result<Vec<Outcome>, StoreError>;
    /// Takes up to `limit` due events for delivery. A taken event is not handed out
    /// again until its attempt is recorded (or the relay restarts).
    fn claim(&self, limit: usize) -> Result<Vec<Job>, StoreError>;
    /// Records the outcome of an attempt at event `id`.
    fn record(&self, id: &str, attempt: &Attempt) -> Result<(), StoreError>;
    /// When the next pending event is due, if any is waiting.
    fn next_due(&self) -> Result<Option<u64>, StoreError>;
    /// The most recent events, newest first.
    fn recent(&self, limit: usize) -> Result<Vec<Record>, StoreError>;
}

/// The embedded store: one SQLite file in `data_dir`, in WAL mode.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    clock: Arc<dyn Clock>,
}

const SCHEMA: &str = "
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
CREATE TABLE IF NOT EXISTS stops (
    webhook   TEXT NOT NULL,
    trigger   TEXT NOT NULL,
    profileid TEXT NOT NULL,
    fired_at  INTEGER NOT NULL,
    PRIMARY KEY (webhook, trigger, profileid)
);
";

impl SqliteStore {
    /// Opens (creating if needed) the store in `data_dir`.
    pub fn open(data_dir: &Path, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir)?;
        let conn = Connection::open(data_dir.join("sitehook.sqlite"))?;
        // WAL lets the worker read while requests write; synchronous=FULL makes a
        // commit durable before the 202 that acknowledges it.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        // Claims belong to a process that is gone: hand those events out again.
        conn.execute("UPDATE outbox SET claimed = 0 WHERE claimed = 1", [])?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            clock,
        })
    }

    fn conn(&self) -> Result<std::sync::MutexGuard<'_, Connection>, StoreError> {
        self.conn.lock().map_err(|_| StoreError::Poisoned)
    }
}

impl Store for SqliteStore {
    fn accept(&self, events: &[Incoming<'_>]) -> Result<Vec<Outcome>, StoreError> {
        let now = self.clock.now_ms();
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let mut outcomes = Vec::with_capacity(events.len());
        for incoming in events {
            let e = incoming.event;
            let exists: bool = tx
                .query_row("SELECT 1 FROM outbox WHERE id = ?1", [&e.id], |_| Ok(()))
                .optional()?
                .is_some();
            if exists {
                outcomes.push(Outcome::Duplicate);
                continue;
            }
            let profileid = e
                .profile
                .get(sitehook_core::event::PROFILE_ID)
                .cloned()
                .unwrap_or_default();
            let mut outcome = Outcome::Queued;
            if let (Some(restart), true) = (incoming.restart_after, e.is_known()) {
                let last: Option<u64> = tx
                    .query_row(
                        "SELECT fired_at FROM stops WHERE webhook = ?1 AND trigger = ?2 AND profileid = ?3",
                        params![e.webhook, e.trigger, profileid],
                        |row| row.get(0),
                    )
                    .optional()?;
                let stop = sitehook_core::Stop {
                    restart_after: restart,
                };
                if stop.check(last, now).is_err() {
                    outcome = Outcome::Suppressed;
                } else {
                    tx.execute(
                        "INSERT INTO stops (webhook, trigger, profileid, fired_at) VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT DO UPDATE SET fired_at = excluded.fired_at",
                        params![e.webhook, e.trigger, profileid, now],
                    )?;
                }
            }
            let status = match outcome {
                Outcome::Suppressed => Status::Suppressed,
                _ => Status::Pending,
            };
            // An Event always serialises: it is plain strings, maps and numbers.
            let json = serde_json::to_string(e).expect("events serialise");
            tx.execute(
                "INSERT INTO outbox (id, webhook, trigger, profileid, event, status, next_at, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                params![e.id, e.webhook, e.trigger, profileid, json, status.as_str(), now],
            )?;
            outcomes.push(outcome);
        }
        tx.commit()?;
        Ok(outcomes)
    }

    fn claim(&self, limit: usize) -> Result<Vec<Job>, StoreError> {
        let now = self.clock.now_ms();
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let rows: Vec<(String, String, u32)> = {
            let mut stmt = tx.prepare_cached(
                "SELECT id, event, attempts FROM outbox
                 WHERE status = 'pending' AND claimed = 0 AND next_at <= ?1
                 ORDER BY next_at, received_at LIMIT ?2",
            )?;
            stmt.query_map(params![now, limit as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<Result<_, _>>()?
        };
        let mut jobs = Vec::with_capacity(rows.len());
        for (id, json, attempts) in rows {
            tx.execute("UPDATE outbox SET claimed = 1 WHERE id = ?1", [&id])?;
            let event =
                serde_json::from_str(&json).map_err(|source| StoreError::Corrupt { id, source })?;
            jobs.push(Job { event, attempts });
        }
        tx.commit()?;
        Ok(jobs)
    }

    fn record(&self, id: &str, attempt: &Attempt) -> Result<(), StoreError> {
        let now = self.clock.now_ms();
        let conn = self.conn()?;
        match attempt {
            Attempt::Delivered(status) => conn.execute(
                "UPDATE outbox SET status = 'delivered', attempts = attempts + 1, claimed = 0,
                 last_status = ?2, last_error = NULL, done_at = ?3 WHERE id = ?1",
                params![id, status, now],
            )?,
            Attempt::Failed { status, error, next_at } => conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, claimed = 0, last_status = ?2, last_error = ?3,
                 status = CASE WHEN ?4 IS NULL THEN 'failed' ELSE 'pending' END,
                 next_at = COALESCE(?4, next_at),
                 done_at = CASE WHEN ?4 IS NULL THEN ?5 ELSE NULL END
                 WHERE id = ?1",
                params![id, status, error, next_at, now],
            )?,
        };
        Ok(())
    }

    fn next_due(&self) -> Result<Option<u64>, StoreError> {
        let conn = self.conn()?;
        Ok(conn.query_row(
            "SELECT MIN(next_at) FROM outbox WHERE status = 'pending' AND claimed = 0",
            [],
            |r| r.get(0),
        )?)
    }

    fn recent(&self, limit: usize) -> Result<Vec<Record>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT id, webhook, trigger, profileid, status, attempts, last_status, last_error, received_at
             FROM outbox ORDER BY received_at DESC, rowid DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok(Record {
                id: r.get(0)?,
                webhook: r.get(1)?,
                trigger: r.get(2)?,
                profileid: r.get(3)?,
                status: Status::parse(&r.get::<_, String>(4)?),
                attempts: r.get(5)?,
                last_status: r.get(6)?,
                last_error: r.get(7)?,
                received_at: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use sitehook_core::{Duration, Page};

    const DAY: u64 = 86_400_000;

    fn event(id: &str, profileid: &str) -> Event {
        Event {
            id: id.into(),
            trigger: "pricing".into(),
            webhook: "crm".into(),
            profile: [("profileid".to_owned(), profileid.to_owned())]
                .into_iter()
                .filter(|(_, v)| !v.is_empty())
                .collect(),
            identity: None,
            data: Default::default(),
            page: Page::default(),
            at: 1,
        }
    }

    fn store() -> (tempfile::TempDir, Arc<ManualClock>, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(1_000 * DAY));
        let store = SqliteStore::open(dir.path(), clock.clone()).unwrap();
        (dir, clock, store)
    }

    #[test]
    fn duplicates_are_acknowledged_once() {
        let (_dir, _clock, store) = store();
        let a = event("a", "p1");
        let one = [Incoming {
            event: &a,
            restart_after: None,
        }];
        assert_eq!(store.accept(&one).unwrap(), [Outcome::Queued]);
        assert_eq!(store.accept(&one).unwrap(), [Outcome::Duplicate]);
        assert_eq!(store.claim(10).unwrap().len(), 1);
        assert_eq!(
            store.claim(10).unwrap().len(),
            0,
            "a claimed event is not handed out twice"
        );
    }

    #[test]
    fn server_side_stop_per_profile() {
        let (_dir, clock, store) = store();
        let thirty = Some(Restart::After(Duration::from_millis(30 * DAY)));
        let (a, b, c, anon1, anon2) = (
            event("a", "p1"),
            event("b", "p1"),
            event("c", "p2"),
            event("d", ""),
            event("e", ""),
        );
        let batch = [&a, &b, &c, &anon1, &anon2].map(|event| Incoming {
            event,
            restart_after: thirty,
        });
        assert_eq!(
            store.accept(&batch).unwrap(),
            [
                Outcome::Queued,
                Outcome::Suppressed,
                Outcome::Queued,
                Outcome::Queued,
                Outcome::Queued
            ],
            "the second event of p1 is inside the window; anonymous events have no profile to stop"
        );
        clock.advance(30 * DAY);
        let again = event("f", "p1");
        assert_eq!(
            store
                .accept(&[Incoming {
                    event: &again,
                    restart_after: thirty
                }])
                .unwrap(),
            [Outcome::Queued]
        );
        let statuses: Vec<_> = store
            .recent(10)
            .unwrap()
            .into_iter()
            .map(|r| (r.id, r.status))
            .collect();
        assert!(
            statuses.contains(&("b".into(), Status::Suppressed)),
            "{statuses:?}"
        );
    }

    #[test]
    fn attempts_retry_and_dead_letter() {
        let (dir, clock, store) = store();
        let a = event("a", "p1");
        store
            .accept(&[Incoming {
                event: &a,
                restart_after: None,
            }])
            .unwrap();
        let job = store.claim(1).unwrap().pop().unwrap();
        assert_eq!(job.attempts, 0);
        let retry_at = clock.now_ms() + 5_000;
        store
            .record(
                "a",
                &Attempt::Failed {
                    status: Some(500),
                    error: "500".into(),
                    next_at: Some(retry_at),
                },
            )
            .unwrap();
        assert!(store.claim(1).unwrap().is_empty(), "not due yet");
        assert_eq!(store.next_due().unwrap(), Some(retry_at));
        clock.advance(5_000);
        let job = store.claim(1).unwrap().pop().unwrap();
        assert_eq!(job.attempts, 1);
        store
            .record(
                "a",
                &Attempt::Failed {
                    status: None,
                    error: "refused".into(),
                    next_at: None,
                },
            )
            .unwrap();
        let r = &store.recent(1).unwrap()[0];
        assert_eq!(
            (r.status, r.attempts, r.last_error.as_deref()),
            (Status::Failed, 2, Some("refused"))
        );

        // Claims do not survive a restart: the event is handed out again.
        let b = event("b", "p2");
        store
            .accept(&[Incoming {
                event: &b,
                restart_after: None,
            }])
            .unwrap();
        assert_eq!(store.claim(5).unwrap().len(), 1);
        drop(store);
        let reopened = SqliteStore::open(dir.path(), clock.clone()).unwrap();
        assert_eq!(reopened.claim(5).unwrap().len(), 1);
    }
}
