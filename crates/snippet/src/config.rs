//! Reads `window.sitehookConfig`.
//!
//! The object is written by hand by site owners, so it is read leniently where the
//! intent is clear (a numeric profile field becomes text) and strictly where a guess
//! could fire a webhook nobody wanted (a misspelt condition disables its trigger).
//! Every problem is one console warning naming the trigger, the field and a fix.

use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use sitehook_core::event::{PROFILE_ID, is_known, limits};
use sitehook_core::value::{push_u64, suggest};
use sitehook_core::{Condition, Fields, Patterns, Trigger, Value};

use crate::{js, web};

/// The most triggers read from one config; the rest are ignored with a warning, so a
/// runaway generated config cannot make every page view slow.
pub const MAX_TRIGGERS: usize = 1000;

/// The least history kept: 30 days.
pub const MIN_KEEP_MS: u64 = 30 * 86_400_000;

const KEYS: &[&str] = &[
    "relay",
    "profile",
    "identity",
    "consent",
    "debug",
    "allowDebugParam",
    "respectPrivacySignals",
    "pages",
    "triggers",
];

/// The query parameter that turns the trace on (`1`) or off (`0`) for the rest of
/// the browser session, where the config allows it.
pub const DEBUG_PARAM: &str = "sitehook_debug";
const DEBUG_KEY: &str = "sitehook:debug";

/// The snippet's view of `window.sitehookConfig`.
#[derive(Debug, Default)]
pub struct Config {
    /// The relay's base URL; the script's own folder when absent.
    pub relay: Option<String>,
    /// The known profile's fields; empty for an anonymous visitor.
    pub profile: Fields,
    /// The backend-made proof of the profile id.
    pub identity: Option<String>,
    /// `false`: evaluate, store and send nothing.
    pub consent: bool,
    /// Treat Global Privacy Control and Do Not Track as withheld consent.
    pub respect_privacy_signals: bool,
    /// `pages: { item, category }`: conditions that make a page view also an
    /// `item_view` or a `category_view`, for sites that do not call `sitehook.page`.
    pub pages: [Option<Condition>; 2],
    /// Print why each trigger did or didn't fire (read it with [`Config::debug`]).
    pub debug: bool,
    /// The valid triggers, in config order.
    pub triggers: Vec<Trigger>,
    /// Which profile fields each webhook takes, as the relay that served the script
    /// said (`self.__sitehookFields`); `None` when the script came from elsewhere.
    pub webhook_fields: Option<Value>,
    /// Whether any trigger was disabled for an error. The history is then not pruned:
    /// the broken trigger's window is unknown, and fixing it should not start its
    /// counting over.
    pub had_errors: bool,
}

impl Config {
    /// Whether to print why each trigger did or didn't fire. Always `false` in the
    /// visitor build: asked to debug, it hands over to the explaining build instead.
    pub fn debug(&self) -> bool {
        cfg!(feature = "explain") && self.debug
    }

    /// The profile id, or `""` for an anonymous visitor (whose history is kept apart).
    pub fn profile_id(&self) -> &str {
        // The same test as `is_known`: a blank id is anonymous, in storage too.
        self.profile
            .get(PROFILE_ID)
            .map_or("", |id| id.trim_ascii())
    }

    /// The profile fields to send for `webhook`: those it takes, and `profileid` (the
    /// relay's Stop and identity check need it). All of them when the relay did not
    /// say (it drops the rest anyway).
    pub fn profile_for(&self, webhook: &str) -> Fields {
        let Some(Value::Arr(allowed)) = self.webhook_fields.as_ref().and_then(|f| f.get(webhook))
        else {
            return self.profile.clone();
        };
        let mut out = Fields::new();
        for (k, v) in self.profile.iter() {
            if k.as_str() == PROFILE_ID || allowed.iter().any(|a| a.as_str() == Some(k.as_str())) {
                out.insert(k.clone(), v.clone());
            }
        }
        out
    }

    /// Whether the visitor is a known profile.
    pub fn is_known(&self) -> bool {
        is_known(&self.profile)
    }

    /// How much history to keep (`None`: as much as the bounds allow): what the
    /// triggers need, and at least [`MIN_KEEP_MS`], since a site may define other
    /// triggers on other pages.
    pub fn lookback(&self) -> Option<u64> {
        if self.had_errors {
            return None;
        }
        let mut max = MIN_KEEP_MS;
        for t in &self.triggers {
            max = max.max(t.lookback()?);
        }
        Some(max)
    }

    /// The URL to send events to.
    pub fn events_url(&self, script_base: &str) -> String {
        let mut url = self
            .relay
            .clone()
            .unwrap_or_else(|| String::from(script_base));
        while url.ends_with('/') {
            url.pop();
        }
        url.push_str("/v1/events");
        url
    }
}

/// Set by the visitor build when the config has a problem or asks for debugging:
/// the loader then starts the explaining build, which reads the same config and says
/// what is wrong. See [`wants_words`].
static WANTS_WORDS: AtomicBool = AtomicBool::new(false);

/// Whether the snippet that just declined to start wants the explaining build in its
/// place (always `false` in the explaining build itself).
pub fn wants_words() -> bool {
    WANTS_WORDS.load(Ordering::Relaxed)
}

/// Notes that the explaining build is needed (see [`wants_words`]).
fn need_words() {
    WANTS_WORDS.store(true, Ordering::Relaxed);
}

/// A problem with the config: a console warning in the explaining build; in the
/// visitor build, which carries no texts, a note that the explaining build is needed.
/// A macro, so that the visitor build does not even build the warning's parts.
macro_rules! problem {
    ($($part:expr),+ $(,)?) => {
        if cfg!(feature = "explain") {
            js::warn(&[$($part),+]);
        } else {
            need_words();
        }
    };
}

/// Reads the config, or warns and returns `None` when there is none to read. The
/// visitor build also returns `None` when the config has a problem or turns
/// debugging on, having noted that it [`wants_words`], unless it is `wordless` (the
/// explaining build is out of reach): it then keeps what it could read.
pub fn read(window: &web::Window, patterns: &dyn Patterns, wordless: bool) -> Option<Config> {
    let raw = window.get("sitehookConfig");
    if raw.is_undefined() || raw.is_null() {
        js::warn(&["window.sitehookConfig is not set: define it before the sitehook script tag"]);
        return None;
    }
    let value = js::to_value(&raw);
    let Value::Obj(entries) = &value else {
        js::warn(&["window.sitehookConfig must be an object"]);
        return None;
    };
    for (key, _) in entries {
        if !KEYS.contains(&key.as_str()) {
            if cfg!(feature = "explain") {
                let (a, hint, b) = did_you_mean(key);
                js::warn(&[
                    "window.sitehookConfig: unknown key \"",
                    key,
                    "\"",
                    a,
                    hint,
                    b,
                    "; ignored",
                ]);
            } else {
                need_words();
            }
        }
    }
    let mut config = Config {
        relay: string(&value, "relay"),
        identity: string(&value, "identity").filter(|id| {
            let ok = id.len() <= limits::VALUE;
            if !ok {
                problem!("window.sitehookConfig.identity is longer than 1024 bytes; ignored");
            }
            ok
        }),
        consent: boolean(&value, "consent", true),
        respect_privacy_signals: boolean(&value, "respectPrivacySignals", false),
        debug: boolean(&value, "debug", false)
            | (boolean(&value, "allowDebugParam", false) && debug_param(window)),
        profile: profile(value.get("profile"), true),
        ..Config::default()
    };
    (config.triggers, config.had_errors) = triggers(value.get("triggers"), patterns);
    match value.get("pages") {
        None | Some(Value::Null) => {}
        Some(Value::Obj(entries)) => {
            for (key, c) in entries {
                let slot = match key.as_str() {
                    "item" => 0,
                    "category" => 1,
                    _ => {
                        problem!(
                            "window.sitehookConfig.pages: unknown key \"",
                            key,
                            "\" (expected item or category); ignored",
                        );
                        continue;
                    }
                };
                let mut at = String::from("pages.");
                at.push_str(key);
                match Condition::from_value(c, &at, patterns) {
                    Ok(c) => config.pages[slot] = Some(c),
                    Err(e) => problem!("window.sitehookConfig.", &e.text(), "; ignored"),
                }
            }
        }
        Some(_) => problem!("window.sitehookConfig.pages must be an object; ignored"),
    }
    let fields = window.get("__sitehookFields");
    config.webhook_fields = fields.is_object().then(|| js::to_value(&fields));
    if !cfg!(feature = "explain") && !wordless && (config.debug || wants_words()) {
        need_words();
        return None;
    }
    Some(config)
}

/// `(" (did you mean \"", "relay", "\"?)")` for a misspelt top-level key, or three
/// empty parts.
fn did_you_mean(key: &str) -> (&'static str, &'static str, &'static str) {
    match suggest(key, KEYS) {
        Some(near) => (" (did you mean \"", near, "\"?)"),
        None => ("", "", ""),
    }
}

/// Whether `?sitehook_debug=1` asked for the trace, now or earlier in this browser
/// session (kept in `sessionStorage`, so it follows the visitor through a funnel;
/// `?sitehook_debug=0` ends it).
fn debug_param(window: &web::Window) -> bool {
    let session = window.session_storage().ok().flatten();
    let asked = web::SearchParams::new(&window.location().search())
        .first(DEBUG_PARAM)
        // A bare `?sitehook_debug` says nothing either way.
        .filter(|value| !value.is_empty())
        .map(|value| value == "1");
    match (asked, &session) {
        (Some(true), Some(s)) => {
            let _ = s.set_item(DEBUG_KEY, "1");
        }
        (Some(false), Some(s)) => {
            s.remove_item(DEBUG_KEY);
        }
        _ => {}
    }
    asked.unwrap_or_else(|| {
        session
            .and_then(|s| s.get_item(DEBUG_KEY))
            .is_some_and(|v| v == "1")
    })
}

fn triggers(raw: Option<&Value>, patterns: &dyn Patterns) -> (Vec<Trigger>, bool) {
    let list = match raw {
        None | Some(Value::Null) => {
            problem!("window.sitehookConfig.triggers is not set: no trigger can fire");
            return (Vec::new(), false);
        }
        Some(Value::Arr(list)) => list,
        Some(_) => {
            problem!("window.sitehookConfig.triggers must be an array");
            return (Vec::new(), true);
        }
    };
    let mut out: Vec<Trigger> = Vec::new();
    let mut had_errors = false;
    for (index, item) in list.iter().enumerate() {
        if index >= MAX_TRIGGERS {
            problem!("more than 1000 triggers: the rest are ignored");
            had_errors = true;
            break;
        }
        // For warnings only, so built only for them.
        let name = || match item.get("id").and_then(Value::as_str) {
            Some(id) => String::from(id),
            None => {
                let mut name = String::from("#");
                push_u64(&mut name, index as u64);
                name
            }
        };
        match Trigger::from_value(item, patterns) {
            Ok(t) if out.iter().any(|o| o.id == t.id) => {
                had_errors = true;
                problem!(
                    "trigger \"",
                    &name(),
                    "\": another trigger has the same id; this one is disabled",
                );
            }
            Ok(t) => out.push(t),
            Err(e) => {
                had_errors = true;
                problem!(
                    "trigger \"",
                    &name(),
                    "\": ",
                    &e.text(),
                    " (this trigger is disabled)",
                );
            }
        }
    }
    (out, had_errors)
}

/// A problem with a profile: from the config, a config problem (said by the
/// explaining build only, so it is said once); from `sitehook.identify`, a warning.
fn warn_profile(from_config: bool, text: &str) {
    if from_config {
        problem!(text);
    } else {
        js::warn(&[text]);
    }
}

/// Profile fields as text. Numbers and booleans are written as text (an age, a flag);
/// objects, arrays and nulls are skipped: a webhook field is one value. At most as
/// many fields as the relay accepts.
pub fn profile(raw: Option<&Value>, from_config: bool) -> Fields {
    let mut out = Fields::new();
    match raw {
        Some(Value::Obj(entries)) => {
            for (key, value) in entries {
                if out.len() >= limits::FIELDS {
                    warn_profile(
                        from_config,
                        "profile has more than 32 fields; the rest are not sent",
                    );
                    break;
                }
                if let Some(text) = value.as_text().filter(|t| {
                    t.len() <= limits::VALUE && !key.is_empty() && key.len() <= limits::KEY
                }) {
                    out.insert(key.clone(), text);
                }
            }
        }
        None | Some(Value::Null) => {}
        Some(_) => warn_profile(
            from_config,
            "profile must be an object such as { profileid: \"p-123\", email: \"ann@example.com\" }",
        ),
    }
    out
}

fn string(value: &Value, key: &str) -> Option<String> {
    match value.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::Str(s)) => Some(s.clone()),
        Some(_) => {
            problem!("window.sitehookConfig.", key, " must be a string; ignored");
            None
        }
    }
}

fn boolean(value: &Value, key: &str, default: bool) -> bool {
    match value.get(key) {
        None | Some(Value::Null) => default,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            problem!(
                "window.sitehookConfig.",
                key,
                " must be true or false; using the default",
            );
            default
        }
    }
}
