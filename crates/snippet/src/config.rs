//! Reads `window.sitehookConfig`.
//!
//! The object is written by hand by site owners, so it is read leniently where the
//! intent is clear (a numeric profile field becomes text) and strictly where a guess
//! could fire a webhook nobody wanted (a misspelt condition disables its trigger).
//! Every problem is one console warning naming the trigger and the field.

use std::collections::BTreeMap;

use js_sys::{Array, Object, Reflect};
use sitehook_core::Trigger;
use sitehook_core::event::{PROFILE_ID, is_known};
use wasm_bindgen::{JsCast, JsValue};

/// The most triggers read from one config; the rest are ignored with a warning, so a
/// runaway generated config cannot make every page view slow.
pub const MAX_TRIGGERS: u32 = 1000;

/// The snippet's view of `window.sitehookConfig`.
#[derive(Debug, Default)]
pub struct Config {
    /// The relay's base URL; the script's own folder when absent.
    pub relay: Option<String>,
    /// The known profile's fields; empty for an anonymous visitor.
    pub profile: BTreeMap<String, String>,
    /// The backend-made proof of the profile id.
    pub identity: Option<String>,
    /// `false`: evaluate, store and send nothing.
    pub consent: bool,
    /// Print why each trigger did or didn't fire.
    pub debug: bool,
    /// The valid triggers, in config order.
    pub triggers: Vec<Trigger>,
}

impl Config {
    /// The profile id, or `""` for an anonymous visitor (whose history is kept apart).
    pub fn profile_id(&self) -> &str {
        self.profile.get(PROFILE_ID).map_or("", String::as_str)
    }

    /// Whether the visitor is a known profile.
    pub fn is_known(&self) -> bool {
        is_known(&self.profile)
    }

    /// How much history the triggers need (`None`: as much as is kept).
    pub fn lookback(&self) -> Option<u64> {
        self.triggers
            .iter()
            .try_fold(0, |max, t| t.lookback().map(|l| max.max(l)))
    }

    /// The URL to send events to.
    pub fn events_url(&self, script_base: &str) -> String {
        let mut url = self.relay.clone().unwrap_or_else(|| script_base.to_owned());
        while url.ends_with('/') {
            url.pop();
        }
        url.push_str("/v1/events");
        url
    }
}

/// Reads the config, or warns and returns `None` when there is none to read.
pub fn read(window: &web_sys::Window) -> Option<Config> {
    let raw = get(window, "sitehookConfig");
    if raw.is_undefined() || raw.is_null() {
        warn("window.sitehookConfig is not set: define it before the sitehook script tag");
        return None;
    }
    if !raw.is_object() {
        warn("window.sitehookConfig must be an object");
        return None;
    }
    let mut config = Config {
        relay: string(&raw, "relay"),
        identity: string(&raw, "identity"),
        consent: boolean(&raw, "consent", true),
        debug: boolean(&raw, "debug", false),
        ..Config::default()
    };
    config.profile = profile(&get(&raw, "profile"));
    config.triggers = triggers(&get(&raw, "triggers"));
    Some(config)
}

fn triggers(raw: &JsValue) -> Vec<Trigger> {
    if raw.is_undefined() {
        warn("window.sitehookConfig.triggers is not set: no trigger can fire");
        return Vec::new();
    }
    let Some(list) = raw.dyn_ref::<Array>() else {
        warn("window.sitehookConfig.triggers must be an array");
        return Vec::new();
    };
    let mut out: Vec<Trigger> = Vec::new();
    for (index, item) in list.iter().enumerate() {
        if index as u32 >= MAX_TRIGGERS {
            warn("more than 1000 triggers: the rest are ignored");
            break;
        }
        let name = match get(&item, "id").as_string() {
            Some(id) => id,
            None => {
                let mut name = String::from("#");
                name.push_str(&index.to_string());
                name
            }
        };
        let parsed = serde_wasm_bindgen::from_value::<Trigger>(item)
            .map_err(|e| {
                // The error is a JS `Error`; its text starts with "Error: ".
                let text = e.to_string();
                text.strip_prefix("Error: ")
                    .map(str::to_owned)
                    .unwrap_or(text)
            })
            .and_then(|t| t.validate().map(|()| t).map_err(str::to_owned));
        match parsed {
            Ok(t) if out.iter().any(|o| o.id == t.id) => {
                warn_trigger(
                    &name,
                    "another trigger has the same id; this one is ignored",
                );
            }
            Ok(t) => out.push(t),
            Err(why) => warn_trigger(&name, &why),
        }
    }
    out
}

/// Profile fields as text. Numbers and booleans are written as text (an age, a flag);
/// objects, arrays and nulls are skipped: a webhook field is one value.
fn profile(raw: &JsValue) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if !raw.is_object() {
        if !raw.is_undefined() && !raw.is_null() {
            warn(
                "profile must be an object such as { profileid: \"p-123\", email: \"ann@example.com\" }",
            );
        }
        return out;
    }
    for entry in Object::entries(raw.unchecked_ref()).iter() {
        let pair: Array = entry.unchecked_into();
        let (Some(key), value) = (pair.get(0).as_string(), pair.get(1)) else {
            continue;
        };
        let text = if let Some(s) = value.as_string() {
            Some(s)
        } else if value.as_f64().is_some() || value.as_bool().is_some() {
            js_sys::JSON::stringify(&value)
                .ok()
                .and_then(|s| s.as_string())
        } else {
            None
        };
        if let Some(text) = text {
            out.insert(key, text);
        }
    }
    out
}

fn get(target: &JsValue, key: &str) -> JsValue {
    // `Reflect.get` throws only on non-objects (and on hostile getters): both read as
    // "not set", which is what the callers do with a missing key.
    if !target.is_object() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn string(target: &JsValue, key: &str) -> Option<String> {
    let value = get(target, key);
    if value.is_undefined() || value.is_null() {
        return None;
    }
    let text = value.as_string();
    if text.is_none() {
        warn2(key, ": expected a string; ignored");
    }
    text
}

fn boolean(target: &JsValue, key: &str, default: bool) -> bool {
    let value = get(target, key);
    if value.is_undefined() || value.is_null() {
        return default;
    }
    value.as_bool().unwrap_or_else(|| {
        warn2(key, ": expected true or false; using the default");
        default
    })
}

/// `console.warn("sitehook: " + message)`.
pub fn warn(message: &str) {
    warn2(message, "");
}

/// `console.warn("sitehook: " + a + b)`, without `format!`'s weight in the wasm.
pub fn warn2(a: &str, b: &str) {
    let mut line = String::from("sitehook: ");
    line.push_str(a);
    line.push_str(b);
    web_sys::console::warn_1(&JsValue::from_str(&line));
}

fn warn_trigger(name: &str, why: &str) {
    let mut line = String::from("trigger \"");
    line.push_str(name);
    line.push_str("\": ");
    line.push_str(why);
    line.push_str(" (this trigger is disabled)");
    warn(&line);
}
