//! Storage: the outbox of accepted events, their delivery attempts, de-duplication by
//! event id, and the server-side Stop timers, behind one trait.
//!
//! The embedded backend is SQLite in `data_dir` ([`SqliteStore`]).

use std::path::Path;
use std::sync::{Arc, Mutex, mpsc};

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
    /// The group commit failed; nothing of it was stored.
    #[error("commit failed: {0}")]
    Commit(String),
    /// The writer thread is gone (the store is shutting down).
    #[error("the store's writer has stopped")]
    WriterGone,
}

/// An event to accept, with its webhook's server-side Stop.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// The validated event.
    pub event: Event,
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
    /// Waiting for its (next) attempt, including the events of a webhook paused by a
    /// `410 Gone`: they wait for it to be resumed (stored apart, as `'paused'`).
    Pending,
    /// Delivered: the webhook answered 2xx.
    Delivered,
    /// Every attempt failed (a dead letter), kept for inspection and replay.
    Failed,
    /// Not delivered because of the webhook's Stop.
    Suppressed,
    /// Handled in dry-run mode: everything but the outbound call.
    DryRun,
}

/// The stored status of a pending event whose webhook is paused (listed in
/// `disabled_webhooks`), since schema v2. It reads and is counted as
/// [`Status::Pending`]: the event still waits for delivery, and listings, the queue
/// depth and the operator's words stay as they were.
///
/// Stored apart so that claims and `next_due`, which read `status = 'pending'` on the
/// `(status, next_at)` index, never walk a paused webhook's backlog: with the
/// backlog kept `'pending'` and filtered by `webhook NOT IN (...)`, each claim read
/// every paused row, and ingest fell to under half while a paused backlog grew
/// (docs/performance.md).
/// Rejected: an index led by the webhook, which would need a list of the webhooks to
/// claim from, one query per webhook, and a second index updated on every insert.
///
/// The rule, kept by every write in one transaction: an event is `'paused'` exactly
/// when it would be `'pending'` and its webhook is paused. Pausing moves the
/// webhook's pending events ([`Next::WebhookGone`]), resuming moves them back
/// ([`Store::enable`]), and accepting, recording a retry and replaying choose the
/// status by whether the webhook is paused at that moment. The price is paid once,
/// at the resume: moving the backlog back takes one transaction, about 6 µs an event
/// on the bench machine.
const PAUSED: &str = "paused";

impl Status {
    /// The word stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Delivered => "delivered",
            Status::Failed => "failed",
            Status::Suppressed => "suppressed",
            Status::DryRun => "dry-run",
        }
    }

    /// Reads the stored word.
    pub fn parse(text: &str) -> Option<Status> {
        Some(match text {
            "pending" => Status::Pending,
            "delivered" => Status::Delivered,
            "failed" => Status::Failed,
            "suppressed" => Status::Suppressed,
            "dry-run" => Status::DryRun,
            _ => return None,
        })
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
    /// When the next attempt is due (pending events).
    pub next_at: u64,
}

/// Which records to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this status.
    pub status: Option<Status>,
    /// Only this webhook.
    pub webhook: Option<String>,
    /// Only this profile id.
    pub profileid: Option<String>,
    /// At most this many (newest first); 0 means 50.
    pub limit: usize,
}

/// What an attempt led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Delivered: the webhook answered 2xx.
    Delivered,
    /// Try again at this time.
    RetryAt(u64),
    /// No attempts left: keep it as a dead letter.
    DeadLetter,
    /// Dry run: the webhook was not called.
    DryRun,
    /// The webhook answered `410 Gone`: keep the event pending and stop delivering to
    /// the webhook until it is re-enabled.
    WebhookGone,
}

/// One delivery attempt and its result.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// When it started (ms since the epoch).
    pub at: u64,
    /// How long it took.
    pub duration_ms: u64,
    /// The HTTP status, when there was a response.
    pub status: Option<u16>,
    /// What went wrong, if anything.
    pub error: Option<String>,
    /// What happens next.
    pub next: Next,
}

/// The answer of a store call on the hot path (accept, claim, record), which the
/// store may give later, from another thread: `.await` it in async code (no blocking
/// thread needed), or [`Pending::wait`] for it outside a runtime.
pub struct Pending<T>(tokio::sync::oneshot::Receiver<Result<T, StoreError>>);

impl<T> Pending<T> {
    /// A pair: the pending answer, and the sender that gives it.
    pub fn new() -> (
        Pending<T>,
        tokio::sync::oneshot::Sender<Result<T, StoreError>>,
    ) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        (Pending(rx), tx)
    }

    /// An answer that is already known.
    pub fn ready(result: Result<T, StoreError>) -> Pending<T> {
        let (pending, tx) = Pending::new();
        let _ = tx.send(result);
        pending
    }

    /// Blocks until the answer comes. Not for async code: `.await` it there.
    pub fn wait(self) -> Result<T, StoreError> {
        self.0.blocking_recv().map_err(|_| StoreError::WriterGone)?
    }
}

impl<T> std::future::Future for Pending<T> {
    type Output = Result<T, StoreError>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.map_err(|_| StoreError::WriterGone).and_then(|r| r))
    }
}

/// The storage contract of the relay.
///
/// Every method is one transaction. Accepting, claiming and recording answer with a
/// [`Pending`] so the HTTP handlers and the delivery worker await them without a
/// blocking thread; the rest is synchronous, for the operator commands and listings
/// (call those from `spawn_blocking` in async code). A later PostgreSQL backend
/// (several relays sharing one queue with `FOR UPDATE SKIP LOCKED`) fits the same
/// contract.
pub trait Store: Send + Sync + 'static {
    /// Durably stores `events` (committed before returning) and says what happened to
    /// each, in order.
    fn accept(&self, events: Vec<Incoming>) -> Pending<Vec<Outcome>>;
    /// Hands out again the events that a stopped process had taken. Called at start.
    fn recover(&self) -> Result<(), StoreError>;
    /// Takes up to `limit` due events for delivery, skipping paused webhooks. A
    /// taken event is not handed out again until its attempt is recorded.
    fn claim(&self, limit: usize) -> Pending<Vec<Job>>;
    /// Takes due events for delivery as [`Store::claim`] does, but by webhook: at
    /// most `cap` of each webhook in `caps`, `limit` in all, taken in the order of
    /// `caps`. So a slow webhook's backlog takes no room from the others.
    fn claim_by_webhook(&self, caps: Vec<(String, usize)>, limit: usize) -> Pending<Vec<Job>>;
    /// Takes up to `limit` waiting events (due or not, paused or not) of webhooks
    /// not in `listed`: gone from the config, they fail at once, with the reason. It
    /// reads every waiting event, so the worker calls it only after the config
    /// changed.
    fn claim_orphans(&self, listed: Vec<String>, limit: usize) -> Pending<Vec<Job>>;
    /// Records an attempt at event `id` and what follows from it.
    fn record(&self, id: &str, attempt: &Attempt) -> Pending<()>;
    /// When the next pending event is due, if any is waiting (paused webhooks'
    /// events are not: they wait for [`Store::enable`], not for a time).
    fn next_due(&self) -> Result<Option<u64>, StoreError>;
    /// [`Store::next_due`] for the webhooks not in `busy` (those with no request to
    /// spare: their due events wait for one of theirs to finish, not for a time).
    fn next_due_except(&self, busy: Vec<String>) -> Result<Option<u64>, StoreError>;
    /// Events waiting for delivery, those of paused webhooks included.
    fn pending(&self) -> Result<u64, StoreError>;
    /// Stored events, newest first.
    fn list(&self, filter: &Filter) -> Result<Vec<Record>, StoreError>;
    /// One stored event and its record, if the store holds it.
    fn event(&self, id: &str) -> Result<Option<(Record, Event)>, StoreError>;
    /// The attempts made at event `id`, oldest first.
    fn attempts(&self, id: &str) -> Result<Vec<Attempt>, StoreError>;
    /// Puts failed events back in the queue, due now, with a fresh set of attempts:
    /// those named, or all that failed since `since` (ms). Returns how many.
    fn replay(&self, ids: &[String], since: Option<u64>) -> Result<usize, StoreError>;
    /// Webhooks disabled by a `410 Gone`, with the reason.
    fn disabled(&self) -> Result<Vec<(String, String)>, StoreError>;
    /// Re-enables a webhook: its waiting events become due again (at the time each
    /// was due). `false` if it was not disabled.
    fn enable(&self, webhook: &str) -> Result<bool, StoreError>;
    /// Forgets delivered, suppressed and dry-run events (and their attempts)
    /// received before `before` (ms). Failed events are kept until replayed. Returns
    /// how many.
    fn prune(&self, before: u64) -> Result<usize, StoreError>;
    /// Checks that the store answers, for readiness probes.
    fn ping(&self) -> Result<(), StoreError>;
}

/// The embedded store: one SQLite file in `data_dir`, in WAL mode.
///
/// Every write goes through one writer thread, which runs whatever is waiting (events
/// to accept from many requests, claims and attempt records from the delivery worker)
/// in one transaction and commits once (group commit): durability costs one disk flush
/// per batch, not one per request, and writers never wait on each other's locks.
/// Reads use a second connection, which WAL lets run beside the writer.
pub struct SqliteStore {
    reader: Mutex<Connection>,
    writer: Mutex<mpsc::Sender<Box<dyn Work>>>,
    clock: Arc<dyn Clock>,
}

/// A piece of work for the writer thread: run inside the group's transaction, then
/// answered once the group's commit has succeeded (or failed).
///
/// A piece may be run twice: first with the others and no savepoint, and, if any
/// piece of the group failed, again after the group is rolled back, this time in a
/// savepoint of its own (see [`write_loop`]). So it keeps only its latest result.
trait Work: Send {
    /// Runs the piece; `false` if it failed.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Records a failure around the piece (its savepoint could not be taken).
    fn fail(&mut self, error: StoreError);
    /// Answers with the piece's result, or with the commit's error.
    fn finish(self: Box<Self>, committed: Result<(), &StoreError>);
}

/// A [`Work`] from the function to run and the one that takes its answer.
struct Task<F, T, R> {
    f: F,
    result: Option<Result<T, StoreError>>,
    reply: R,
}

impl<F, T, R> Work for Task<F, T, R>
where
    F: Fn(&Connection) -> Result<T, StoreError> + Send,
    T: Send,
    R: FnOnce(Result<T, StoreError>) + Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let result = (self.f)(conn);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn fail(&mut self, error: StoreError) {
        self.result = Some(Err(error));
    }

    fn finish(self: Box<Self>, committed: Result<(), &StoreError>) {
        let result = match committed {
            Ok(()) => self
                .result
                .unwrap_or_else(|| Err(StoreError::Commit("not run".into()))),
            Err(e) => Err(StoreError::Commit(e.to_string())),
        };
        (self.reply)(result)
    }
}

/// The schema version this relay writes (`PRAGMA user_version`); the migrations are
/// in [`crate::schema`].
pub const SCHEMA_VERSION: i64 = crate::schema::CURRENT;

/// The most pieces of work committed in one transaction.
const GROUP: usize = 512;

/// Opens a connection.
fn connect(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    // First, so that opening beside another process (the operator commands, a
    // restart) waits for its locks instead of failing.
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // WAL lets reads run beside the writer; synchronous=FULL makes a commit durable
    // before the 202 that acknowledges it.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // A larger page cache and memory-mapped reads: the outbox's indexes are read on
    // every insert and claim, and copying pages through read(2) dominated profiles.
    conn.pragma_update(None, "cache_size", -16_000)?;
    conn.pragma_update(None, "mmap_size", 256 * 1024 * 1024)?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the store in `data_dir`.
    pub fn open(data_dir: &Path, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir)?;
        let path = data_dir.join("sitehook.sqlite");
        let conn = connect(&path)?;
        // Before anything reads or writes the tables: an older database is brought up
        // to date, a newer one is refused.
        crate::schema::migrate(&conn, data_dir)?;

        let writer_conn = connect(&path)?;
        let (tx, rx) = mpsc::channel::<Box<dyn Work>>();
        std::thread::Builder::new()
            .name("sitehook-store-writer".into())
            .spawn(move || write_loop(writer_conn, rx))?;
        Ok(SqliteStore {
            reader: Mutex::new(conn),
            writer: Mutex::new(tx),
            clock,
        })
    }

    /// Queues `f` for the writer thread's next group transaction; `reply` gets its
    /// result once that transaction is committed (or the commit's error). A failing
    /// `f` is rolled back alone; the rest of its group commits. `f` may be run twice
    /// (see [`write_loop`]): it must only read what it captured.
    fn submit<T: Send + 'static>(
        &self,
        f: impl Fn(&Connection) -> Result<T, StoreError> + Send + 'static,
        reply: impl FnOnce(Result<T, StoreError>) + Send + 'static,
    ) -> Result<(), StoreError> {
        let work: Box<dyn Work> = Box::new(Task {
            f,
            result: None,
            reply,
        });
        let writer = self.writer.lock().map_err(|_| StoreError::Poisoned)?;
        writer.send(work).map_err(|_| StoreError::WriterGone)
    }

    /// [`SqliteStore::submit`] with the answer to await.
    fn write_pending<T: Send + 'static>(
        &self,
        f: impl Fn(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Pending<T> {
        let (pending, tx) = Pending::new();
        match self.submit(f, move |r| {
            let _ = tx.send(r);
        }) {
            Ok(()) => pending,
            Err(e) => Pending::ready(Err(e)),
        }
    }

    /// [`SqliteStore::submit`], blocking until the answer comes: for the operator
    /// commands and other rare calls.
    fn write<T: Send + 'static>(
        &self,
        f: impl Fn(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.submit(f, move |r| {
            let _ = tx.send(r);
        })?;
        rx.recv().map_err(|_| StoreError::WriterGone)?
    }

    fn conn(&self) -> Result<std::sync::MutexGuard<'_, Connection>, StoreError> {
        self.reader.lock().map_err(|_| StoreError::Poisoned)
    }
}

/// The writer thread: takes all the work waiting, runs it in one transaction,
/// commits, then answers each piece. Ends when the store is dropped.
///
/// The pieces run without savepoints first: a savepoint makes SQLite copy every page
/// a piece touches into its statement journal (4 KB each, for pages the pieces of a
/// group mostly share), which was the largest memory copy in the writer's profile.
/// Pieces rarely fail; when one does, the whole group is rolled back and run again,
/// each piece in a savepoint of its own, so the failing one is rolled back alone and
/// the rest commits, as before.
fn write_loop(conn: Connection, rx: mpsc::Receiver<Box<dyn Work>>) {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < GROUP {
            match rx.try_recv() {
                Ok(work) => group.push(work),
                Err(_) => break,
            }
        }
        let mut begun = conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(StoreError::from);
        if begun.is_ok() && !group.iter_mut().all(|work| work.run(&conn)) {
            // An error may have ended the transaction already; then this fails, and
            // that is fine.
            let _ = conn.execute_batch("ROLLBACK");
            begun = conn
                .execute_batch("BEGIN IMMEDIATE")
                .map_err(StoreError::from);
            if begun.is_ok() {
                for work in &mut group {
                    run_alone(&conn, work.as_mut());
                }
            }
        }
        let committed = begun.and_then(|()| conn.execute_batch("COMMIT").map_err(StoreError::from));
        if committed.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        for work in group {
            work.finish(committed.as_ref().map(|_| ()));
        }
    }
}

/// Runs `work` in a savepoint of its own, rolled back if it fails.
fn run_alone(conn: &Connection, work: &mut dyn Work) {
    if let Err(e) = conn.execute_batch("SAVEPOINT job") {
        work.fail(e.into());
        return;
    }
    let undo = if work.run(conn) {
        conn.execute_batch("RELEASE job")
    } else {
        conn.execute_batch("ROLLBACK TO job; RELEASE job")
    };
    if let Err(e) = undo {
        work.fail(e.into());
    }
}

fn insert(
    tx: &Connection,
    events: &[(Incoming, String)],
    now: u64,
) -> Result<Vec<Outcome>, StoreError> {
    // Prepared once per connection and reused (rusqlite's statement cache): parsing
    // and planning the SQL cost about as much as running it.
    //
    // The de-duplication is the insert itself: `ON CONFLICT (id) DO NOTHING` changes
    // no row for an id already stored, so one statement (one look-up of the primary
    // key) does what a `SELECT` and an `INSERT` did. Unlike `INSERT OR IGNORE`, it
    // ignores only that conflict, never a violated `NOT NULL`.
    //
    // An event for a paused webhook is stored `'paused'` (see [`PAUSED`]): one
    // look-up of the webhook in `disabled_webhooks`, a table of a row or none.
    let mut add = tx.prepare_cached(
        "INSERT INTO outbox (id, webhook, trigger, profileid, event, status, next_at, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5,
                 CASE WHEN ?6 = 'pending' AND EXISTS (SELECT 1 FROM disabled_webhooks WHERE webhook = ?2)
                      THEN 'paused' ELSE ?6 END,
                 ?7, ?7)
         ON CONFLICT (id) DO NOTHING",
    )?;
    let mut outcomes = Vec::with_capacity(events.len());
    for (incoming, json) in events {
        let e = &incoming.event;
        let profileid = e
            .profile
            .get(sitehook_core::event::PROFILE_ID)
            .map_or("", String::as_str);
        // The Stop is read before the insert (a read changes nothing, so a duplicate
        // may read it too) and written after it, only for an event that was new.
        let mut outcome = Outcome::Queued;
        let restart = incoming.restart_after.filter(|_| e.is_known());
        if let Some(restart) = restart {
            let last: Option<u64> = tx
                .prepare_cached(
                    "SELECT fired_at FROM stops WHERE webhook = ?1 AND trigger = ?2 AND profileid = ?3",
                )?
                .query_row(params![e.webhook, e.trigger, profileid], |row| row.get(0))
                .optional()?;
            let stop = sitehook_core::Stop {
                restart_after: restart,
            };
            if stop.check(last, now).is_err() {
                outcome = Outcome::Suppressed;
            }
        }
        let status = match outcome {
            Outcome::Suppressed => Status::Suppressed,
            _ => Status::Pending,
        };
        let added = add.execute(params![
            e.id,
            e.webhook,
            e.trigger,
            profileid,
            json,
            status.as_str(),
            now
        ])?;
        if added == 0 {
            outcomes.push(Outcome::Duplicate);
            continue;
        }
        if restart.is_some() && outcome == Outcome::Queued {
            tx.prepare_cached(
                "INSERT INTO stops (webhook, trigger, profileid, fired_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT DO UPDATE SET fired_at = excluded.fired_at",
            )?
            .execute(params![e.webhook, e.trigger, profileid, now])?;
        }
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

fn next_word(next: Next) -> &'static str {
    match next {
        Next::Delivered => "delivered",
        Next::RetryAt(_) => "retry",
        Next::DeadLetter => "dead-letter",
        Next::DryRun => "dry-run",
        Next::WebhookGone => "webhook-gone",
    }
}

/// The events a claim takes: due (`?1` is now), not taken, at most `?2`, oldest first.
/// Paused webhooks' events are not `'pending'` ([`PAUSED`]), so this reads none of
/// them.
const CLAIM: &str = "SELECT id, event, attempts FROM outbox
     WHERE status = 'pending' AND claimed = 0 AND next_at <= ?1
     ORDER BY next_at, received_at LIMIT ?2";

/// [`CLAIM`] for one webhook (`?3`).
const CLAIM_WEBHOOK: &str = "SELECT id, event, attempts FROM outbox
     WHERE status = 'pending' AND claimed = 0 AND next_at <= ?1 AND webhook = ?3
     ORDER BY next_at, received_at LIMIT ?2";

/// The waiting events of the webhooks not in the JSON list `?2`, due or not, paused
/// or not, at most `?1`: none of them can be sent, so each fails at once rather than
/// wait for a time or an `enable` that cannot come.
const CLAIM_OTHERS: &str = "SELECT id, event, attempts FROM outbox
     WHERE status IN ('pending', 'paused') AND claimed = 0
       AND webhook NOT IN (SELECT value FROM json_each(?2))
     ORDER BY next_at, received_at LIMIT ?1";

/// Marks the rows a claim query selected as taken, and reads their events.
fn take(
    conn: &Connection,
    rows: Vec<(String, String, u32)>,
    jobs: &mut Vec<Job>,
) -> Result<(), StoreError> {
    let mut mark = conn.prepare_cached("UPDATE outbox SET claimed = 1 WHERE id = ?1")?;
    for (id, json, attempts) in rows {
        mark.execute([&id])?;
        let event =
            serde_json::from_str(&json).map_err(|source| StoreError::Corrupt { id, source })?;
        jobs.push(Job { event, attempts });
    }
    Ok(())
}

/// The rows of claim query `sql` with its parameters `args`.
fn claim_rows(
    conn: &Connection,
    sql: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<(String, String, u32)>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt
        .query_map(args, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// When the next event a claim could take is due.
const NEXT_DUE: &str = "SELECT MIN(next_at) FROM outbox WHERE status = 'pending' AND claimed = 0";

/// The columns [`record_of`] reads, in its order.
const RECORD_COLUMNS: &str = "id, webhook, trigger, profileid, status, attempts, last_status, last_error, received_at, next_at";

/// The [`Status`] of a stored status word: [`PAUSED`] is [`Status::Pending`], and so
/// is a word this build does not know (an event is never hidden for its status).
fn stored_status(word: &str) -> Status {
    match word {
        PAUSED => Status::Pending,
        word => Status::parse(word).unwrap_or(Status::Pending),
    }
}

/// A [`Record`] from a row that starts with [`RECORD_COLUMNS`].
fn record_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<Record> {
    Ok(Record {
        id: r.get(0)?,
        webhook: r.get(1)?,
        trigger: r.get(2)?,
        profileid: r.get(3)?,
        status: stored_status(&r.get::<_, String>(4)?),
        attempts: r.get(5)?,
        last_status: r.get(6)?,
        last_error: r.get(7)?,
        received_at: r.get(8)?,
        next_at: r.get(9)?,
    })
}

impl Store for SqliteStore {
    fn accept(&self, events: Vec<Incoming>) -> Pending<Vec<Outcome>> {
        let now = self.clock.now_ms();
        // Serialised here, on the caller's thread (a request's task), so that the one
        // writer thread, which every request waits for, only runs SQL.
        let events: Vec<(Incoming, String)> = events
            .into_iter()
            .map(|incoming| {
                // An Event always serialises: it is plain strings, maps and numbers.
                let json = serde_json::to_string(&incoming.event).expect("events serialise");
                (incoming, json)
            })
            .collect();
        self.write_pending(move |conn| insert(conn, &events, now))
    }

    fn recover(&self) -> Result<(), StoreError> {
        self.write(|conn| {
            conn.execute("UPDATE outbox SET claimed = 0 WHERE claimed = 1", [])?;
            Ok(())
        })
    }

    fn claim(&self, limit: usize) -> Pending<Vec<Job>> {
        let now = self.clock.now_ms();
        self.write_pending(move |conn| {
            let rows = claim_rows(conn, CLAIM, params![now, limit as i64])?;
            let mut jobs = Vec::with_capacity(rows.len());
            take(conn, rows, &mut jobs)?;
            Ok(jobs)
        })
    }

    fn claim_by_webhook(&self, caps: Vec<(String, usize)>, limit: usize) -> Pending<Vec<Job>> {
        let now = self.clock.now_ms();
        self.write_pending(move |conn| {
            let mut jobs = Vec::new();
            for (webhook, cap) in &caps {
                let n = (*cap).min(limit.saturating_sub(jobs.len()));
                if n > 0 {
                    let rows = claim_rows(conn, CLAIM_WEBHOOK, params![now, n as i64, webhook])?;
                    take(conn, rows, &mut jobs)?;
                }
            }
            Ok(jobs)
        })
    }

    fn claim_orphans(&self, listed: Vec<String>, limit: usize) -> Pending<Vec<Job>> {
        let listed = serde_json::to_string(&listed).unwrap_or_else(|_| "[]".into());
        self.write_pending(move |conn| {
            let rows = claim_rows(conn, CLAIM_OTHERS, params![limit as i64, listed])?;
            let mut jobs = Vec::with_capacity(rows.len());
            take(conn, rows, &mut jobs)?;
            Ok(jobs)
        })
    }

    fn record(&self, id: &str, attempt: &Attempt) -> Pending<()> {
        let now = self.clock.now_ms();
        let (id, attempt) = (id.to_owned(), attempt.clone());
        self.write_pending(move |conn| {
            conn.prepare_cached(
                "INSERT INTO attempts (event_id, at, duration_ms, status, error, next) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![id, attempt.at, attempt.duration_ms, attempt.status, attempt.error, next_word(attempt.next)])?;
            if attempt.next == Next::WebhookGone {
                // The pause, and the webhook's waiting events moved out of the claims'
                // way (this one too, by the update below). Once per pause: a second
                // 410 from an attempt that was already under way finds them moved.
                let paused = conn.execute(
                    "INSERT INTO disabled_webhooks (webhook, reason, at)
                     SELECT webhook, 'the webhook answered 410 Gone', ?2 FROM outbox WHERE id = ?1
                     ON CONFLICT DO NOTHING",
                    params![id, now],
                )?;
                if paused > 0 {
                    conn.execute(
                        "UPDATE outbox SET status = 'paused'
                         WHERE status = 'pending' AND webhook = (SELECT webhook FROM outbox WHERE id = ?1)",
                        [&id],
                    )?;
                }
            }
            // A retry (or the 410 itself) waits as 'pending', or as 'paused' when the
            // webhook is paused, by this attempt or by another one meanwhile.
            let (status, next_at, done_at) = match attempt.next {
                Next::Delivered => ("delivered", None, Some(now)),
                Next::RetryAt(at) => ("pending", Some(at), None),
                Next::DeadLetter => ("failed", None, Some(now)),
                Next::DryRun => ("dry-run", None, Some(now)),
                Next::WebhookGone => ("pending", None, None),
            };
            conn.prepare_cached(
                "UPDATE outbox SET
                 status = CASE WHEN ?2 = 'pending' AND EXISTS (SELECT 1 FROM disabled_webhooks d WHERE d.webhook = outbox.webhook)
                          THEN 'paused' ELSE ?2 END,
                 attempts = attempts + 1, claimed = 0, last_status = ?3, last_error = ?4,
                 next_at = COALESCE(?5, next_at), done_at = ?6 WHERE id = ?1",
            )?
            .execute(params![id, status, attempt.status, attempt.error, next_at, done_at])?;
            Ok(())
        })
    }

    fn next_due(&self) -> Result<Option<u64>, StoreError> {
        Ok(self.conn()?.query_row(NEXT_DUE, [], |r| r.get(0))?)
    }

    fn next_due_except(&self, busy: Vec<String>) -> Result<Option<u64>, StoreError> {
        if busy.is_empty() {
            return self.next_due();
        }
        let busy = serde_json::to_string(&busy).unwrap_or_else(|_| "[]".into());
        Ok(self.conn()?.query_row(
            "SELECT MIN(next_at) FROM outbox WHERE status = 'pending' AND claimed = 0
               AND webhook NOT IN (SELECT value FROM json_each(?1))",
            [busy],
            |r| r.get(0),
        )?)
    }

    fn pending(&self) -> Result<u64, StoreError> {
        Ok(self.conn()?.query_row(
            "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'paused')",
            [],
            |r| r.get(0),
        )?)
    }

    fn list(&self, filter: &Filter) -> Result<Vec<Record>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {RECORD_COLUMNS}
             FROM outbox
             WHERE (?1 IS NULL OR status = ?1 OR (?1 = 'pending' AND status = 'paused'))
               AND (?2 IS NULL OR webhook = ?2) AND (?3 IS NULL OR profileid = ?3)
             ORDER BY received_at DESC, rowid DESC LIMIT ?4"
        ))?;
        let limit = if filter.limit == 0 { 50 } else { filter.limit } as i64;
        let rows = stmt.query_map(
            params![
                filter.status.map(Status::as_str),
                filter.webhook,
                filter.profileid,
                limit
            ],
            record_of,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn event(&self, id: &str) -> Result<Option<(Record, Event)>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {RECORD_COLUMNS}, event FROM outbox WHERE id = ?1"
        ))?;
        let row = stmt
            .query_row([id], |r| Ok((record_of(r)?, r.get::<_, String>(10)?)))
            .optional()?;
        let Some((record, json)) = row else {
            return Ok(None);
        };
        let event = serde_json::from_str(&json).map_err(|source| StoreError::Corrupt {
            id: id.to_owned(),
            source,
        })?;
        Ok(Some((record, event)))
    }

    fn attempts(&self, id: &str) -> Result<Vec<Attempt>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT at, duration_ms, status, error, next FROM attempts WHERE event_id = ?1 ORDER BY rowid",
        )?;
        let rows = stmt.query_map([id], |r| {
            let next: String = r.get(4)?;
            Ok(Attempt {
                at: r.get(0)?,
                duration_ms: r.get(1)?,
                status: r.get(2)?,
                error: r.get(3)?,
                next: match next.as_str() {
                    "delivered" => Next::Delivered,
                    "dead-letter" => Next::DeadLetter,
                    "dry-run" => Next::DryRun,
                    "webhook-gone" => Next::WebhookGone,
                    _ => Next::RetryAt(0),
                },
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn replay(&self, ids: &[String], since: Option<u64>) -> Result<usize, StoreError> {
        let now = self.clock.now_ms();
        let ids = ids.to_vec();
        self.write(move |conn| {
            // 'paused' for a paused webhook's events ([`PAUSED`]).
            const REQUEUE: &str = "UPDATE outbox SET
                 status = CASE WHEN EXISTS (SELECT 1 FROM disabled_webhooks d WHERE d.webhook = outbox.webhook)
                          THEN 'paused' ELSE 'pending' END,
                 attempts = 0, next_at = ?1, claimed = 0, done_at = NULL";
            let mut n = 0;
            for id in &ids {
                n += conn.execute(&format!("{REQUEUE} WHERE id = ?2 AND status = 'failed'"), params![now, id])?;
            }
            if let Some(since) = since {
                n += conn.execute(&format!("{REQUEUE} WHERE status = 'failed' AND done_at >= ?2"), params![now, since])?;
            }
            Ok(n)
        })
    }

    fn disabled(&self) -> Result<Vec<(String, String)>, StoreError> {
        let conn = self.conn()?;
        let mut stmt =
            conn.prepare_cached("SELECT webhook, reason FROM disabled_webhooks ORDER BY webhook")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn enable(&self, webhook: &str) -> Result<bool, StoreError> {
        let webhook = webhook.to_owned();
        self.write(move |conn| {
            let resumed = conn.execute(
                "DELETE FROM disabled_webhooks WHERE webhook = ?1",
                [&webhook],
            )? > 0;
            // Unconditionally: a webhook that is not paused has no paused events.
            conn.execute(
                "UPDATE outbox SET status = 'pending' WHERE status = 'paused' AND webhook = ?1",
                [&webhook],
            )?;
            Ok(resumed)
        })
    }

    fn prune(&self, before: u64) -> Result<usize, StoreError> {
        self.write(move |conn| {
            const OLD: &str = "SELECT id FROM outbox WHERE status IN ('delivered', 'suppressed', 'dry-run') AND received_at < ?1";
            conn.execute(&format!("DELETE FROM attempts WHERE event_id IN ({OLD})"), [before])?;
            Ok(conn.execute(&format!("DELETE FROM outbox WHERE id IN ({OLD})"), [before])?)
        })
    }

    fn ping(&self) -> Result<(), StoreError> {
        self.conn()?.query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
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

    fn incoming(id: &str, profileid: &str, restart_after: Option<Restart>) -> Incoming {
        Incoming {
            event: event(id, profileid),
            restart_after,
        }
    }

    /// An anonymous event for `webhook`.
    fn incoming_to(webhook: &str, id: &str) -> Incoming {
        let mut incoming = incoming(id, "", None);
        incoming.event.webhook = webhook.into();
        incoming
    }

    fn store() -> (tempfile::TempDir, Arc<ManualClock>, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(1_000 * DAY));
        let store = SqliteStore::open(dir.path(), clock.clone()).unwrap();
        (dir, clock, store)
    }

    fn attempt(clock: &ManualClock, status: Option<u16>, next: Next) -> Attempt {
        Attempt {
            at: clock.now_ms(),
            duration_ms: 3,
            status,
            error: status.filter(|s| *s >= 300).map(|s| s.to_string()),
            next,
        }
    }

    #[test]
    fn duplicates_are_acknowledged_once() {
        let (_dir, _clock, store) = store();
        assert_eq!(
            store
                .accept(vec![incoming("a", "p1", None)])
                .wait()
                .unwrap(),
            [Outcome::Queued]
        );
        assert_eq!(
            store
                .accept(vec![incoming("a", "p1", None)])
                .wait()
                .unwrap(),
            [Outcome::Duplicate]
        );
        assert_eq!(
            store
                .accept(vec![incoming("b", "p1", None), incoming("b", "p1", None)])
                .wait()
                .unwrap(),
            [Outcome::Queued, Outcome::Duplicate],
            "a duplicate inside one batch"
        );
        assert_eq!(store.claim(10).wait().unwrap().len(), 2);
        assert_eq!(
            store.claim(10).wait().unwrap().len(),
            0,
            "a claimed event is not handed out twice"
        );
    }

    #[test]
    fn concurrent_acceptance_is_committed_in_groups_and_loses_nothing() {
        let (_dir, _clock, store) = store();
        let store = Arc::new(store);
        let threads: Vec<_> = (0..16)
            .map(|t| {
                let store = store.clone();
                std::thread::spawn(move || {
                    for i in 0..25 {
                        let out = store
                            .accept(vec![incoming(&format!("e{t}-{i}"), "p", None)])
                            .wait()
                            .unwrap();
                        assert_eq!(out, [Outcome::Queued]);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(store.pending().unwrap(), 400);
    }

    #[test]
    fn a_failing_piece_is_rolled_back_alone_and_its_group_commits() {
        let (_dir, _clock, store) = store();
        // The writer is held in a first piece while the next two are queued, so they
        // make one group: its first run (no savepoints) fails, and the group is run
        // again piece by piece.
        let (started_tx, started_rx) = mpsc::channel();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let held = store.write_pending(move |_| {
            let _ = started_tx.send(());
            let _ = go_rx.recv();
            Ok(())
        });
        started_rx.recv().unwrap();
        let bad = store.write_pending(|conn| {
            conn.execute(
                "INSERT INTO disabled_webhooks VALUES ('half-done', 'x', 0)",
                [],
            )?;
            Err::<(), _>(StoreError::Poisoned)
        });
        let good = store.accept(vec![incoming("a", "p1", None)]);
        drop(go_tx);
        held.wait().unwrap();
        assert!(matches!(bad.wait(), Err(StoreError::Poisoned)));
        assert_eq!(good.wait().unwrap(), [Outcome::Queued]);
        assert!(
            store.disabled().unwrap().is_empty(),
            "the failed piece's insert was rolled back"
        );
        assert_eq!(store.pending().unwrap(), 1, "the good piece was committed");
        assert_eq!(
            store
                .accept(vec![incoming("a", "p1", None)])
                .wait()
                .unwrap(),
            [Outcome::Duplicate],
            "stored once, though its group ran twice"
        );
    }

    #[test]
    fn server_side_stop_per_profile() {
        let (_dir, clock, store) = store();
        let thirty = Some(Restart::After(Duration::from_millis(30 * DAY)));
        let batch = vec![
            incoming("a", "p1", thirty),
            incoming("b", "p1", thirty),
            incoming("c", "p2", thirty),
            incoming("d", "", thirty),
            incoming("e", "", thirty),
        ];
        assert_eq!(
            store.accept(batch).wait().unwrap(),
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
        assert_eq!(
            store
                .accept(vec![incoming("f", "p1", thirty)])
                .wait()
                .unwrap(),
            [Outcome::Queued]
        );
        let never = Some(Restart::Never);
        assert_eq!(
            store
                .accept(vec![incoming("g", "p9", never)])
                .wait()
                .unwrap(),
            [Outcome::Queued]
        );
        clock.advance(10_000 * DAY);
        assert_eq!(
            store
                .accept(vec![incoming("h", "p9", never)])
                .wait()
                .unwrap(),
            [Outcome::Suppressed]
        );
        let suppressed = store
            .list(&Filter {
                status: Some(Status::Suppressed),
                ..Filter::default()
            })
            .unwrap();
        let ids: Vec<&str> = suppressed.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["h", "b"]);
    }

    #[test]
    fn attempts_retry_dead_letter_and_replay() {
        let (dir, clock, store) = store();
        store
            .accept(vec![incoming("a", "p1", None)])
            .wait()
            .unwrap();
        let job = store.claim(1).wait().unwrap().pop().unwrap();
        assert_eq!(job.attempts, 0);
        let retry_at = clock.now_ms() + 5_000;
        store
            .record("a", &attempt(&clock, Some(500), Next::RetryAt(retry_at)))
            .wait()
            .unwrap();
        assert!(store.claim(1).wait().unwrap().is_empty(), "not due yet");
        assert_eq!(store.next_due().unwrap(), Some(retry_at));
        clock.advance(5_000);
        let job = store.claim(1).wait().unwrap().pop().unwrap();
        assert_eq!(job.attempts, 1);
        store
            .record("a", &attempt(&clock, None, Next::DeadLetter))
            .wait()
            .unwrap();
        let r = &store.list(&Filter::default()).unwrap()[0];
        assert_eq!((r.status, r.attempts), (Status::Failed, 2));
        assert_eq!(store.attempts("a").unwrap().len(), 2);

        clock.advance(1_000);
        assert_eq!(
            store.replay(&[], Some(clock.now_ms())).unwrap(),
            0,
            "failed before `since`"
        );
        assert_eq!(store.replay(&["a".into(), "nope".into()], None).unwrap(), 1);
        let job = store.claim(1).wait().unwrap().pop().unwrap();
        assert_eq!(job.attempts, 0, "a replay starts a fresh set of attempts");

        // Claims do not survive a restart: the event is handed out again.
        drop(store);
        let reopened = SqliteStore::open(dir.path(), clock.clone()).unwrap();
        assert!(
            reopened.claim(5).wait().unwrap().is_empty(),
            "still claimed until recovered"
        );
        reopened.recover().unwrap();
        assert_eq!(reopened.claim(5).wait().unwrap().len(), 1);
    }

    /// The status words stored for `ids`, in order: what the listings do not show.
    fn stored(dir: &Path, ids: &[&str]) -> Vec<String> {
        let conn = Connection::open(dir.join("sitehook.sqlite")).unwrap();
        ids.iter()
            .map(|id| {
                conn.query_row("SELECT status FROM outbox WHERE id = ?1", [id], |r| {
                    r.get(0)
                })
                .unwrap()
            })
            .collect()
    }

    #[test]
    fn gone_disables_the_webhook_until_enabled() {
        let (dir, clock, store) = store();
        store
            .accept(vec![
                incoming("a", "p1", None),
                incoming("b", "p1", None),
                incoming("e", "p1", None),
                incoming("f", "p1", None),
                incoming_to("shop", "s1"),
            ])
            .wait()
            .unwrap();
        // All five under way at once; f fails for good, then a and b answer 410 (the
        // second finds the webhook paused already) and e's retry comes back after.
        assert_eq!(store.claim(5).wait().unwrap().len(), 5);
        store
            .record("f", &attempt(&clock, Some(500), Next::DeadLetter))
            .wait()
            .unwrap();
        for id in ["a", "b"] {
            store
                .record(id, &attempt(&clock, Some(410), Next::WebhookGone))
                .wait()
                .unwrap();
        }
        let retry_at = clock.now_ms() + 5_000;
        store
            .record("e", &attempt(&clock, Some(500), Next::RetryAt(retry_at)))
            .wait()
            .unwrap();
        store
            .record("s1", &attempt(&clock, Some(200), Next::Delivered))
            .wait()
            .unwrap();
        // While paused: new events, a replayed dead letter, and a due retry all wait.
        store
            .accept(vec![incoming("c", "p1", None), incoming_to("shop", "s2")])
            .wait()
            .unwrap();
        assert_eq!(store.replay(&["f".into()], None).unwrap(), 1);
        clock.advance(10_000);
        let jobs = store.claim(10).wait().unwrap();
        let ids: Vec<&str> = jobs.iter().map(|j| j.event.id.as_str()).collect();
        assert_eq!(ids, ["s2"], "nothing goes to a disabled webhook");
        assert_eq!(store.next_due().unwrap(), None);
        assert_eq!(
            store.disabled().unwrap(),
            [("crm".to_owned(), "the webhook answered 410 Gone".to_owned())]
        );
        let waiting = ["a", "b", "c", "e", "f"];
        assert_eq!(
            stored(dir.path(), &waiting),
            ["paused"; 5],
            "stored out of the claims' way"
        );
        assert_eq!(
            store.pending().unwrap(),
            6,
            "its events wait, and count as waiting (s2 is under way)"
        );
        let listed = store
            .list(&Filter {
                status: Some(Status::Pending),
                webhook: Some("crm".into()),
                ..Filter::default()
            })
            .unwrap();
        let mut ids: Vec<&str> = listed.iter().map(|r| r.id.as_str()).collect();
        ids.sort();
        assert_eq!(ids, waiting, "listed as pending");
        assert!(listed.iter().all(|r| r.status == Status::Pending));
        assert_eq!(store.event("a").unwrap().unwrap().0.status, Status::Pending);

        assert!(store.enable("crm").unwrap());
        assert!(!store.enable("crm").unwrap());
        assert_eq!(stored(dir.path(), &waiting), ["pending"; 5]);
        assert_eq!(
            claimed_ids(&store),
            waiting,
            "each delivered after the resume, once"
        );
        assert!(store.claim(10).wait().unwrap().is_empty());
        assert_eq!(store.next_due().unwrap(), None, "all under way");
    }

    #[test]
    fn a_v1_store_with_a_paused_backlog_opens_as_v2() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("sitehook.sqlite")).unwrap();
        conn.execute_batch(crate::schema::MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        // As a v1 relay left it: crm paused, its events still 'pending'.
        conn.execute(
            "INSERT INTO disabled_webhooks VALUES ('crm', 'the webhook answered 410 Gone', 5)",
            [],
        )
        .unwrap();
        for (id, webhook, status) in [
            ("crm-1", "crm", "pending"),
            ("crm-2", "crm", "pending"),
            ("crm-dead", "crm", "failed"),
            ("shop-1", "shop", "pending"),
        ] {
            let json = serde_json::to_string(&incoming_to(webhook, id).event).unwrap();
            conn.execute(
                "INSERT INTO outbox (id, webhook, trigger, profileid, event, status, attempts, next_at, received_at)
                 VALUES (?1, ?2, 'pricing', '', ?3, ?4, 1, 1000, 1000)",
                params![id, webhook, json, status],
            )
            .unwrap();
        }
        drop(conn);

        let store = SqliteStore::open(dir.path(), Arc::new(ManualClock::new(2_000))).unwrap();
        let conn = Connection::open(dir.path().join("sitehook.sqlite")).unwrap();
        assert_eq!(crate::schema::version(&conn).unwrap(), 2);
        let ids = ["crm-1", "crm-2", "crm-dead", "shop-1"];
        assert_eq!(
            stored(dir.path(), &ids),
            ["paused", "paused", "failed", "pending"]
        );
        assert_eq!(store.pending().unwrap(), 3, "the paused ones still wait");
        let statuses: Vec<Status> = store
            .list(&Filter {
                status: Some(Status::Pending),
                ..Filter::default()
            })
            .unwrap()
            .into_iter()
            .map(|r| r.status)
            .collect();
        assert_eq!(statuses, [Status::Pending; 3]);
        let jobs = store.claim(10).wait().unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].event.id, "shop-1");

        assert!(store.enable("crm").unwrap());
        assert_eq!(claimed_ids(&store), ["crm-1", "crm-2"]);
    }

    /// The ids of the events a claim of up to 10 takes, sorted.
    fn claimed_ids(store: &SqliteStore) -> Vec<String> {
        let mut ids: Vec<String> = store
            .claim(10)
            .wait()
            .unwrap()
            .into_iter()
            .map(|j| j.event.id)
            .collect();
        ids.sort();
        ids
    }

    /// A store where webhook `crm` answered `410 Gone` and has `backlog` more events
    /// waiting since, then `shop` got 3 events a second later.
    fn paused_with_backlog(backlog: usize) -> (tempfile::TempDir, SqliteStore) {
        let (dir, clock, store) = store();
        store
            .accept(vec![incoming_to("crm", "gone")])
            .wait()
            .unwrap();
        store.claim(1).wait().unwrap();
        store
            .record("gone", &attempt(&clock, Some(410), Next::WebhookGone))
            .wait()
            .unwrap();
        for start in (0..backlog).step_by(1_000) {
            let batch = (start..(start + 1_000).min(backlog))
                .map(|i| incoming_to("crm", &format!("crm-{i}")))
                .collect();
            store.accept(batch).wait().unwrap();
        }
        clock.advance(1_000);
        let active = (0..3).map(|i| incoming_to("shop", &format!("shop-{i}")));
        store.accept(active.collect()).wait().unwrap();
        clock.advance(1_000);
        (dir, store)
    }

    /// What a claim and a `next_due` cost, in SQLite virtual-machine steps (a count
    /// of the work done, the same on every run, unlike a timing), and the events the
    /// claim would take.
    fn queue_reads(dir: &Path, now: u64) -> (i32, i32, Vec<String>) {
        let conn = Connection::open(dir.join("sitehook.sqlite")).unwrap();
        let mut claim = conn.prepare(CLAIM).unwrap();
        let ids = claim
            .query_map(params![now, 10], |r| r.get(0))
            .unwrap()
            .collect::<Result<Vec<String>, _>>()
            .unwrap();
        let mut next_due = conn.prepare(NEXT_DUE).unwrap();
        next_due
            .query_row([], |r| r.get::<_, Option<u64>>(0))
            .unwrap();
        (
            claim.get_status(rusqlite::StatementStatus::VmStep),
            next_due.get_status(rusqlite::StatementStatus::VmStep),
            ids,
        )
    }

    #[test]
    fn a_paused_backlog_is_not_walked_by_claims() {
        let now = 1_000 * DAY + 2_000;
        let (small, _store) = paused_with_backlog(0);
        let (large, _store) = paused_with_backlog(5_000);
        let (claim_small, due_small, ids_small) = queue_reads(small.path(), now);
        let (claim_large, due_large, ids_large) = queue_reads(large.path(), now);
        assert_eq!(ids_small, ["shop-0", "shop-1", "shop-2"]);
        assert_eq!(ids_large, ids_small, "only the active webhook's events");
        assert_eq!(
            (claim_large, due_large),
            (claim_small, due_small),
            "(claim, next_due) steps with 5,000 paused events vs with none: \
             the paused backlog must not be read"
        );

        let conn = Connection::open(large.path().join("sitehook.sqlite")).unwrap();
        let plan = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> Vec<String> {
            let mut explain = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let steps = explain.query_map(p, |r| r.get(3)).unwrap();
            steps.collect::<Result<_, _>>().unwrap()
        };
        for (name, plan) in [
            ("claim", plan(CLAIM, params![now, 10])),
            ("next_due", plan(NEXT_DUE, params![])),
        ] {
            assert!(
                plan.iter()
                    .any(|step| step.contains("USING INDEX outbox_due (status=?")),
                "{name}: reads the queue's index by status: {plan:#?}"
            );
            assert!(
                !plan.iter().any(|step| step.contains("disabled_webhooks")),
                "{name}: no per-row check of the paused webhooks: {plan:#?}"
            );
        }
    }

    #[test]
    fn prune_keeps_what_is_pending_or_failed() {
        let (_dir, clock, store) = store();
        store
            .accept(vec![
                incoming("done", "p", None),
                incoming("dead", "p", None),
                incoming("tried", "q", None),
                incoming("waiting", "p", None),
            ])
            .wait()
            .unwrap();
        store.claim(3).wait().unwrap();
        store
            .record("tried", &attempt(&clock, None, Next::DryRun))
            .wait()
            .unwrap();
        store
            .record("done", &attempt(&clock, Some(200), Next::Delivered))
            .wait()
            .unwrap();
        store
            .record("dead", &attempt(&clock, Some(500), Next::DeadLetter))
            .wait()
            .unwrap();
        clock.advance(DAY);
        assert_eq!(
            store.prune(clock.now_ms()).unwrap(),
            2,
            "done and the dry run"
        );
        let left: Vec<String> = store
            .list(&Filter::default())
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert!(
            left.contains(&"dead".to_owned())
                && left.contains(&"waiting".to_owned())
                && left.len() == 2,
            "{left:?}"
        );
        assert!(store.attempts("done").unwrap().is_empty());
    }

    #[test]
    fn a_newer_schema_is_refused_with_a_clear_message() {
        let (dir, clock, store) = store();
        drop(store);
        let conn = Connection::open(dir.path().join("sitehook.sqlite")).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(conn);
        let err = SqliteStore::open(dir.path(), clock)
            .err()
            .expect("refused")
            .to_string();
        let want = format!(
            "was written by a newer sitehook relay (schema v{}, this build knows up to v{SCHEMA_VERSION})",
            SCHEMA_VERSION + 1
        );
        assert!(err.contains(&want), "{err}");
    }

    /// The schema of the first commits, before it had a version (user_version 0).
    const UNVERSIONED: &str = "
        CREATE TABLE outbox (id TEXT PRIMARY KEY, webhook TEXT NOT NULL, trigger TEXT NOT NULL,
            profileid TEXT NOT NULL, event TEXT NOT NULL, status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL,
            claimed INTEGER NOT NULL DEFAULT 0, last_status INTEGER, last_error TEXT,
            received_at INTEGER NOT NULL, done_at INTEGER);
        CREATE INDEX outbox_due ON outbox (status, next_at);
        CREATE TABLE stops (webhook TEXT NOT NULL, trigger TEXT NOT NULL, profileid TEXT NOT NULL,
            fired_at INTEGER NOT NULL, PRIMARY KEY (webhook, trigger, profileid));";

    #[test]
    fn older_data_dirs_are_migrated_with_their_rows() {
        // Rows as those relays wrote them: the event JSON is the wire format.
        let event = |id: &str| {
            format!(
                r#"{{"id":"{id}","trigger":"pricing","webhook":"crm","profile":{{"profileid":"p-1"}},"data":{{}},"page":{{"url":"https://shop.example.com/","title":"","referrer":""}},"at":1}}"#
            )
        };
        let rows = |conn: &Connection| {
            for (id, status, next_at) in
                [("old-pending", "pending", 0), ("old-done", "delivered", 0)]
            {
                conn.execute(
                    "INSERT INTO outbox (id, webhook, trigger, profileid, event, status, attempts, next_at, received_at)
                     VALUES (?1, 'crm', 'pricing', 'p-1', ?2, ?3, 1, ?4, 1000)",
                    params![id, event(id), status, next_at],
                )
                .unwrap();
            }
            conn.execute(
                "INSERT INTO stops VALUES ('crm', 'pricing', 'p-1', 1000)",
                [],
            )
            .unwrap();
        };
        let v1 = crate::schema::MIGRATIONS[0];
        // (what made the file, its user_version)
        for (made_by, version) in [(v1, 1), (UNVERSIONED, 0)] {
            let dir = tempfile::tempdir().unwrap();
            let conn = Connection::open(dir.path().join("sitehook.sqlite")).unwrap();
            conn.execute_batch(made_by).unwrap();
            conn.pragma_update(None, "user_version", version).unwrap();
            rows(&conn);
            if version == 1 {
                conn.execute(
                    "INSERT INTO attempts VALUES ('old-done', 900, 3, 200, NULL, 'delivered')",
                    [],
                )
                .unwrap();
                conn.execute(
                    "INSERT INTO disabled_webhooks VALUES ('gone', '410 Gone', 5)",
                    [],
                )
                .unwrap();
            }
            drop(conn);

            let clock = Arc::new(ManualClock::new(2_000));
            let store = SqliteStore::open(dir.path(), clock.clone()).unwrap();
            let conn = Connection::open(dir.path().join("sitehook.sqlite")).unwrap();
            assert_eq!(
                crate::schema::version(&conn).unwrap(),
                SCHEMA_VERSION,
                "from v{version}"
            );
            let mut listed: Vec<(String, Status)> = store
                .list(&Filter::default())
                .unwrap()
                .into_iter()
                .map(|r| (r.id, r.status))
                .collect();
            listed.sort_by(|a, b| a.0.cmp(&b.0));
            assert_eq!(
                listed,
                [
                    ("old-done".to_owned(), Status::Delivered),
                    ("old-pending".to_owned(), Status::Pending)
                ],
                "from v{version}"
            );
            // The waiting event is delivered by the new relay, and the Stop still holds.
            let jobs = store.claim(10).wait().unwrap();
            assert_eq!(jobs.len(), 1, "from v{version}");
            assert_eq!(jobs[0].event.id, "old-pending");
            let restart = Some(Restart::After(Duration::parse("30d").unwrap()));
            assert_eq!(
                store
                    .accept(vec![incoming("new", "p-1", restart)])
                    .wait()
                    .unwrap(),
                [Outcome::Suppressed],
                "from v{version}"
            );
            if version == 1 {
                assert_eq!(store.attempts("old-done").unwrap().len(), 1);
                assert_eq!(store.disabled().unwrap().len(), 1);
            }
        }
    }
}
