//! The history, Stop timers and session in `localStorage`, per profile. (The outbox
//! of events waiting for the relay is the loader's: web/loader.js.)
//!
//! Storage is untrusted: a value that does not parse is treated as empty and
//! overwritten. Where `localStorage` is missing (blocked cookies, some private modes)
//! or refuses a write (a full quota), the loader's `io` keeps the values in memory for
//! the page, so the history, Stop timers and session hold within the page.

use alloc::string::String;
use alloc::vec::Vec;

use sitehook_core::{Doc, History, json};

use crate::io;

const HISTORY: &str = "sitehook:v1:history:";
const STOPS: &str = "sitehook:v1:stops:";
/// One session for the browser, whoever is signed in: the anonymous views merged
/// into a profile at sign-in keep session numbers that still mean something.
const SESSION: &str = "sitehook:v1:session";
/// A session ends after this long without an event (the common analytics rule).
pub const SESSION_GAP_MS: u64 = 30 * 60_000;
/// The most Stop timers kept per profile (one per trigger that has fired); past it
/// the oldest go first.
const MAX_STOPS: usize = 1000;

/// When each trigger last fired: a short list, so no map type is needed.
#[derive(Debug, Default)]
pub struct Stops(Vec<(String, u64)>);

impl Stops {
    /// When `trigger` last fired (0: never).
    pub fn get(&self, trigger: &str) -> u64 {
        for (id, at) in &self.0 {
            if id == trigger {
                return *at;
            }
        }
        0
    }

    /// Records that `trigger` fired at `at`.
    pub fn set(&mut self, trigger: &str, at: u64) {
        self.unset(trigger, None);
        self.0.push((String::from(trigger), at));
    }

    /// Forgets `trigger`'s timer (if it was set at `at`, when given).
    pub fn unset(&mut self, trigger: &str, at: Option<u64>) {
        self.0
            .retain(|(id, t)| !(id == trigger && at.is_none_or(|at| *t == at)));
    }
}

/// The visitor's current session: its number (1 for the first) and when it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Session {
    /// 1 for the visitor's first session.
    pub number: u32,
    /// When it started (ms since the epoch).
    pub started: u64,
    /// When its last event happened.
    pub last: u64,
}

impl Session {
    /// The session at `now`: this one, or the next when the gap was too long.
    pub fn at(self, now: u64) -> Session {
        if self.number == 0 || now.saturating_sub(self.last) > SESSION_GAP_MS || now < self.started
        {
            return Session {
                number: self.number.saturating_add(1),
                started: now,
                last: now,
            };
        }
        Session { last: now, ..self }
    }
}

/// `localStorage`, scoped to one profile.
pub struct Store {
    profile: String,
    /// The history this page last wrote, with its stored text. Each event reads the
    /// history, and parsing it is most of an evaluation's cost: while the stored text
    /// is still what this page wrote (no other tab wrote since), the parsed copy is
    /// used.
    history_cache: Option<(String, History)>,
    /// The text [`Store::save_history`] wrote last, for [`Store::keep_history`].
    written: String,
}

impl Store {
    /// Opens the storage for `profile_id` (`""` for an anonymous visitor).
    pub fn open(profile_id: &str) -> Self {
        Store {
            profile: String::from(profile_id),
            history_cache: None,
            written: String::new(),
        }
    }

    /// The stored history, repaired; empty when missing or unreadable.
    pub fn history(&mut self) -> History {
        let cache = self.history_cache.take();
        let Some(raw) = io::get(&self.key(HISTORY)) else {
            return History::default();
        };
        if let Some((text, history)) = cache
            && text == raw
        {
            return history;
        }
        History::from_json(raw)
    }

    /// Stores the history.
    pub fn save_history(&mut self, history: &History) {
        let text = history.to_json();
        self.write(HISTORY, &text);
        self.written = text;
    }

    /// Hands back the history [`Store::history`] gave out, as last saved, so that
    /// the next read can skip parsing it.
    pub fn keep_history(&mut self, history: History) {
        let text = core::mem::take(&mut self.written);
        // Its text only grows (each event adds its own; dropping the oldest visits
        // frees none): past twice what is stored, the next read parses it afresh.
        if !text.is_empty() && history.text_len() <= 2 * History::MAX_BYTES {
            self.history_cache = Some((text, history));
        }
    }

    /// When each trigger last fired for this profile.
    pub fn stops(&self) -> Stops {
        let doc = self.read(&self.key(STOPS));
        let mut stops = Stops::default();
        for (k, v) in doc.items(0) {
            if let Some(at) = doc.u64(v) {
                stops.0.push((String::from(doc.at(k)), at));
            }
        }
        stops
    }

    /// Stores the Stop timers; past `MAX_STOPS` the oldest are forgotten.
    pub fn save_stops(&self, stops: &Stops) {
        let mut kept: Vec<&(String, u64)> = stops.0.iter().collect();
        while kept.len() > MAX_STOPS {
            let mut oldest = 0;
            for (i, (_, at)) in kept.iter().enumerate() {
                if kept.get(oldest).is_some_and(|o| *at < o.1) {
                    oldest = i;
                }
            }
            kept.swap_remove(oldest);
        }
        let mut out = String::from("{");
        for (i, (id, at)) in kept.into_iter().enumerate() {
            json::push_key(&mut out, id, i == 0);
            json::push_num(&mut out, *at);
        }
        out.push('}');
        self.write(STOPS, &out);
    }

    /// The visitor's session as stored (number 0 when there is none yet).
    pub fn session(&self) -> Session {
        let doc = self.read(SESSION);
        let n = |k: &str| doc.u64(doc.get(0, k)).unwrap_or(0);
        Session {
            number: n("n").min(u32::MAX.into()) as u32,
            started: n("s"),
            last: n("l"),
        }
    }

    /// Stores the session.
    pub fn save_session(&self, s: Session) {
        let mut out = String::from("{");
        json::push_key(&mut out, "n", true);
        json::push_num(&mut out, s.number.into());
        json::push_key(&mut out, "s", false);
        json::push_num(&mut out, s.started);
        json::push_key(&mut out, "l", false);
        json::push_num(&mut out, s.last);
        out.push('}');
        io::set(SESSION, &out);
    }

    /// Forgets this profile's history (after it was merged into a signed-in one).
    pub fn clear_history(&mut self) {
        self.history_cache = None;
        io::del(&self.key(HISTORY));
    }

    /// Forgets what this page keeps in memory (consent withdrawn: the loader has
    /// removed what was stored).
    pub fn forget(&mut self) {
        self.history_cache = None;
    }

    fn read(&self, key: &str) -> Doc {
        Doc::parse_or_empty(io::get(key).unwrap_or_default())
    }

    fn key(&self, prefix: &str) -> String {
        let mut key = String::from(prefix);
        key.push_str(&self.profile);
        key
    }

    fn write(&self, prefix: &str, text: &str) {
        io::set(&self.key(prefix), text);
    }
}
