//! The history and Stop timers in `localStorage`, one pair of keys per profile.
//!
//! Storage is untrusted and may be missing (blocked cookies, private modes, quota): a
//! value that does not parse is treated as empty and overwritten, and a failed write
//! is ignored, so the page view is still evaluated with what this page knows.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sitehook_core::{History, Visit};
use wasm_bindgen::JsValue;

const HISTORY: &str = "sitehook:v1:history:";
const STOPS: &str = "sitehook:v1:stops:";

/// The most Stop timers kept per profile (one per trigger that has fired).
const MAX_STOPS: usize = 1000;

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
            profile: profile_id.to_owned(),
        }
    }

    /// The stored history, repaired; empty when missing or unreadable.
    pub fn history(&self) -> History {
        History::from_visits(self.read::<Vec<Visit>>(HISTORY).unwrap_or_default())
    }

    /// Stores the history.
    pub fn save_history(&self, history: &History) {
        self.write(HISTORY, history);
    }

    /// When each trigger last fired for this profile.
    pub fn stops(&self) -> BTreeMap<String, u64> {
        let mut stops: BTreeMap<String, u64> = self.read(STOPS).unwrap_or_default();
        while stops.len() > MAX_STOPS {
            stops.pop_first();
        }
        stops
    }

    /// Stores the Stop timers.
    pub fn save_stops(&self, stops: &BTreeMap<String, u64>) {
        self.write(STOPS, stops);
    }

    fn key(&self, prefix: &str) -> String {
        let mut key = String::from(prefix);
        key.push_str(&self.profile);
        key
    }

    fn read<T: DeserializeOwned>(&self, prefix: &str) -> Option<T> {
        let text = self.storage.as_ref()?.get_item(&self.key(prefix)).ok()??;
        let value = js_sys::JSON::parse(&text).ok()?;
        serde_wasm_bindgen::from_value(value).ok()
    }

    fn write<T: Serialize>(&self, prefix: &str, value: &T) {
        let Some(storage) = &self.storage else { return };
        let Ok(value) = value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()) else {
            return;
        };
        if let Some(text) = js_sys::JSON::stringify(&value)
            .ok()
            .and_then(|s| s.as_string())
        {
            // A full quota is not the page's problem: the next view starts from less.
            let _ = storage.set_item(&self.key(prefix), &text);
        }
    }
}

/// Serialises `value` into a plain JS value (objects, not `Map`s).
pub fn to_js<T: Serialize>(value: &T) -> JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::UNDEFINED)
}
