//! The history and Stop timers in `localStorage`, one pair of keys per profile.
//!
//! Storage is untrusted and may be missing (blocked cookies, private modes, quota): a
//! value that does not parse is treated as empty and overwritten, and a failed write
//! is ignored, so the page view is still evaluated with what this page knows.

use alloc::string::String;
use alloc::vec::Vec;

use sitehook_core::{History, Value, json};

use crate::js;

const HISTORY: &str = "sitehook:v1:history:";
const STOPS: &str = "sitehook:v1:stops:";

/// The most Stop timers kept per profile (one per trigger that has fired); past it
/// the oldest go first.
const MAX_STOPS: usize = 1000;

/// When each trigger last fired: a short list, so no map type is needed.
#[derive(Debug, Default)]
pub struct Stops(Vec<(String, u64)>);

impl Stops {
    /// When `trigger` last fired.
    pub fn get(&self, trigger: &str) -> Option<u64> {
        self.0
            .iter()
            .find(|(id, _)| id == trigger)
            .map(|(_, at)| *at)
    }

    /// Records that `trigger` fired at `at`.
    pub fn set(&mut self, trigger: &str, at: u64) {
        match self.0.iter_mut().find(|(id, _)| id == trigger) {
            Some(entry) => entry.1 = at,
            None => self.0.push((String::from(trigger), at)),
        }
    }

    /// Forgets `trigger`'s timer if it was set at `at`.
    pub fn unset(&mut self, trigger: &str, at: u64) {
        self.0.retain(|(id, t)| !(id == trigger && *t == at));
    }
}

/// `localStorage`, scoped to one profile.
pub struct Store {
    storage: Option<web_sys::Storage>,
    profile: String,
}

impl Store {
    /// Opens the storage for `profile_id` (`""` for an anonymous visitor).
    pub fn open(window: &web_sys::Window, profile_id: &str) -> Self {
        Store {
            storage: window.local_storage().ok().flatten(),
            profile: String::from(profile_id),
        }
    }

    /// The stored history, repaired; empty when missing or unreadable.
    pub fn history(&self) -> History {
        History::from_value(&self.read(HISTORY))
    }

    /// Stores the history.
    pub fn save_history(&self, history: &History) {
        self.write(HISTORY, &history.to_json());
    }

    /// When each trigger last fired for this profile.
    pub fn stops(&self) -> Stops {
        let Value::Obj(entries) = self.read(STOPS) else {
            return Stops::default();
        };
        Stops(
            entries
                .into_iter()
                .filter_map(|(k, v)| Some((k, v.as_u64()?)))
                .collect(),
        )
    }

    /// Stores the Stop timers; past [`MAX_STOPS`] the oldest are forgotten.
    pub fn save_stops(&self, stops: &Stops) {
        let mut kept: Vec<&(String, u64)> = stops.0.iter().collect();
        while kept.len() > MAX_STOPS {
            let oldest = kept
                .iter()
                .enumerate()
                .min_by_key(|(_, (_, at))| *at)
                .map_or(0, |(i, _)| i);
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

    fn key(&self, prefix: &str) -> String {
        let mut key = String::from(prefix);
        key.push_str(&self.profile);
        key
    }

    fn read(&self, prefix: &str) -> Value {
        let text = self
            .storage
            .as_ref()
            .and_then(|s| s.get_item(&self.key(prefix)).ok().flatten());
        text.map_or(Value::Null, |t| js::parse_json(&t))
    }

    fn write(&self, prefix: &str, text: &str) {
        if let Some(storage) = &self.storage {
            // A full quota is not the page's problem: the next view starts from less.
            let _ = storage.set_item(&self.key(prefix), text);
        }
    }
}
