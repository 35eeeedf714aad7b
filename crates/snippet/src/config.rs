//! Reads `window.sitehookConfig` (as JSON text, from the loader).
//!
//! The object is written by hand by site owners, so it is read leniently where the
//! intent is clear (a numeric profile field becomes text) and strictly where a guess
//! could fire a webhook nobody wanted (a misspelt condition disables its trigger).
//! Every problem is one console warning naming the trigger, the field and a fix.

use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use sitehook_core::condition::ALL;
use sitehook_core::error::suggest;
use sitehook_core::event::{PROFILE_ID, limits};
use sitehook_core::json::{self, Doc, Span, Tag};
use sitehook_core::number::push_u64;
use sitehook_core::{Patterns, Program, Trigger};

use crate::io;

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

/// The snippet's view of `window.sitehookConfig`.
#[derive(Debug, Default)]
pub struct Config {
    /// The config's document, and the conditions read from it.
    pub program: Program,
    /// The valid triggers, in config order.
    pub triggers: Vec<Trigger>,
    /// `false`: evaluate, store and send nothing.
    pub consent: bool,
    /// Treat Global Privacy Control and Do Not Track as withheld consent.
    pub respect_privacy_signals: bool,
    /// `pages: { item, category }`: conditions that make a page view also an
    /// `item_view` or a `category_view`, for sites that do not call `sitehook.page`.
    pub pages: [Option<u32>; 2],
    /// Print why each trigger did or didn't fire (read it with [`Config::debug`]).
    pub debug: bool,
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

    /// The text of `span` in the config.
    pub fn at(&self, span: Span) -> &str {
        self.program.doc.at(span)
    }

    /// How much history to keep ([`ALL`]: as much as the bounds allow): what the
    /// triggers need, and at least [`MIN_KEEP_MS`], since a site may define other
    /// triggers on other pages.
    pub fn lookback(&self) -> u64 {
        if self.had_errors {
            return ALL;
        }
        let mut max = MIN_KEEP_MS;
        for t in &self.triggers {
            max = max.max(t.lookback(&self.program));
        }
        max
    }
}

/// Appends `"key":"value"` to an object being written (a comma first unless it is
/// the first member).
pub fn push_field(out: &mut String, key: &str, value: &str) {
    json::push_key(out, key, out.len() == 1);
    json::push_str(out, value);
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
            io::warn(&[$($part),+]);
        } else {
            need_words();
        }
    };
}

/// Reads the config at node `cfg` of `doc`, `window.sitehookConfig` (as the loader
/// reads it: bounded, see web/loader.js `json`). Warns and returns `None` when there
/// is no config to read. The visitor build also returns `None` when the config has a
/// problem or turns debugging on (`debug`, or `debug_param`: the page's
/// `?sitehook_debug` where the config allows it), having noted that it
/// [`wants_words`], unless it is `wordless` (the explaining build is out of reach):
/// it then keeps what it could read.
///
/// The profile (as a [`Doc`] of text fields) and the identity are returned apart:
/// `sitehook.identify` replaces them.
pub fn read(
    doc: Doc,
    cfg: usize,
    debug_param: bool,
    patterns: &dyn Patterns,
    wordless: bool,
) -> Option<(Config, Doc, Option<String>)> {
    match doc.tag(cfg) {
        Tag::Obj => {}
        Tag::Null => {
            io::warn(&[
                "window.sitehookConfig is not set: define it before the sitehook script tag",
            ]);
            return None;
        }
        _ => {
            io::warn(&["window.sitehookConfig must be an object"]);
            return None;
        }
    }
    for (key, _) in doc.items(cfg) {
        let key = doc.at(key);
        if !KEYS.contains(&key) {
            if cfg!(feature = "explain") {
                let (a, hint, b) = did_you_mean(key);
                io::warn(&[
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
    let identity = string(&doc, cfg, "identity").and_then(|id| {
        let id = doc.at(id);
        if id.len() > limits::VALUE {
            problem!("window.sitehookConfig.identity is longer than 1024 bytes; ignored");
            return None;
        }
        Some(String::from(id))
    });
    let profile = profile(&doc, doc.field(cfg, "profile"), true);
    // Checked (the relay's URL is the loader's to use).
    string(&doc, cfg, "relay");
    let mut config = Config {
        consent: boolean(&doc, cfg, "consent", true),
        respect_privacy_signals: boolean(&doc, cfg, "respectPrivacySignals", false),
        debug: boolean(&doc, cfg, "debug", false)
            | (boolean(&doc, cfg, "allowDebugParam", false) && debug_param),
        ..Config::default()
    };
    let pages = doc.field(cfg, "pages");
    let list = doc.field(cfg, "triggers");
    config.program = Program::new(doc);
    triggers(&mut config, list, patterns);
    match pages {
        None => {}
        Some(p) if config.program.doc.tag(p) == Tag::Obj => {
            // Found first, then read: reading a condition needs the program mutably.
            let mut found: [Option<usize>; 2] = [None, None];
            for (key, c) in config.program.doc.items(p) {
                match config.program.doc.at(key) {
                    "item" => found[0] = Some(c),
                    "category" => found[1] = Some(c),
                    key => problem!(
                        "window.sitehookConfig.pages: unknown key \"",
                        key,
                        "\" (expected item or category); ignored",
                    ),
                }
            }
            for (slot, path) in [(0, "pages.item"), (1, "pages.category")] {
                let Some(c) = found[slot] else {
                    continue;
                };
                match config.program.condition(c, path, patterns) {
                    Ok(root) => config.pages[slot] = Some(root),
                    Err(e) => problem!("window.sitehookConfig.", &e.text(), "; ignored"),
                }
            }
        }
        Some(_) => problem!("window.sitehookConfig.pages must be an object; ignored"),
    }
    if !cfg!(feature = "explain") && !wordless && (config.debug || wants_words()) {
        need_words();
        return None;
    }
    Some((config, profile, identity))
}

/// `(" (did you mean \"", "relay", "\"?)")` for a misspelt top-level key, or three
/// empty parts.
fn did_you_mean(key: &str) -> (&'static str, &'static str, &'static str) {
    match suggest(key, KEYS) {
        Some(near) => (" (did you mean \"", near, "\"?)"),
        None => ("", "", ""),
    }
}

fn triggers(config: &mut Config, list: Option<usize>, patterns: &dyn Patterns) {
    let Some(list) = list else {
        problem!("window.sitehookConfig.triggers is not set: no trigger can fire");
        return;
    };
    if config.program.doc.tag(list) != Tag::Arr {
        problem!("window.sitehookConfig.triggers must be an array");
        config.had_errors = true;
        return;
    }
    let mut index = 0;
    let mut at = list + 1;
    let end = config.program.doc.node(list).end as usize;
    while at < end {
        let item = at;
        at = (config.program.doc.node(item).end as usize).max(item + 1);
        if index >= MAX_TRIGGERS {
            problem!("more than 1000 triggers: the rest are ignored");
            config.had_errors = true;
            break;
        }
        index += 1;
        let result = Trigger::parse(&mut config.program, item, patterns).map(|t| Trigger {
            position: index as u32 - 1,
            ..t
        });
        let duplicate = result.as_ref().is_ok_and(|t| {
            let id = config.at(t.id);
            config.triggers.iter().any(|o| config.at(o.id) == id)
        });
        if let (Ok(t), false) = (&result, duplicate) {
            config.triggers.push(*t);
            continue;
        }
        config.had_errors = true;
        if cfg!(feature = "explain") {
            // For warnings only, so built only for them.
            let doc = &config.program.doc;
            let name = match doc.str(doc.get(item, "id")) {
                Some(id) => String::from(id),
                None => {
                    let mut name = String::from("#");
                    push_u64(&mut name, index as u64 - 1);
                    name
                }
            };
            match result {
                Ok(_) => io::warn(&[
                    "trigger \"",
                    &name,
                    "\": another trigger has the same id; this one is disabled",
                ]),
                Err(e) => io::warn(&[
                    "trigger \"",
                    &name,
                    "\": ",
                    &e.text(),
                    " (this trigger is disabled)",
                ]),
            }
        } else {
            need_words();
        }
    }
}

/// A problem with a profile: from the config, a config problem (said by the
/// explaining build only, so it is said once); from `sitehook.identify`, a warning.
fn warn_profile(from_config: bool, text: &str) {
    if from_config {
        problem!(text);
    } else {
        io::warn(&[text]);
    }
}

/// The profile at node `node` of `doc`, as a document of text fields. Numbers and
/// booleans are written as text (an age, a flag); objects, arrays and nulls are
/// skipped: a webhook field is one value. At most as many fields as the relay
/// accepts.
pub fn profile(doc: &Doc, node: Option<usize>, from_config: bool) -> Doc {
    let mut out = String::from("{");
    match node.map(|n| (n, doc.tag(n))) {
        Some((n, Tag::Obj)) => {
            let mut count = 0;
            for (key, value) in doc.items(n) {
                if count >= limits::FIELDS {
                    warn_profile(
                        from_config,
                        "profile has more than 32 fields; the rest are not sent",
                    );
                    break;
                }
                let key = doc.at(key);
                if let Some(text) = doc.text_of(value).map(|t| doc.at(t)).filter(|t| {
                    t.len() <= limits::VALUE && !key.is_empty() && key.len() <= limits::KEY
                }) {
                    push_field(&mut out, key, text);
                    count += 1;
                }
            }
        }
        None | Some((_, Tag::Null)) => {}
        Some(_) => warn_profile(
            from_config,
            "profile must be an object such as { profileid: \"p-123\", email: \"ann@example.com\" }",
        ),
    }
    out.push('}');
    Doc::parse_or_empty(out)
}

/// The trimmed `profileid` of a profile, or `""` for an anonymous visitor (whose
/// history is kept apart).
pub fn profile_id(profile: &Doc) -> &str {
    // The same test as the relay's `is_known`: a blank id is anonymous, in storage
    // too.
    profile
        .root_text(PROFILE_ID)
        .unwrap_or_default()
        .trim_ascii()
}

fn string(doc: &Doc, cfg: usize, key: &str) -> Option<Span> {
    let i = doc.field(cfg, key)?;
    let n = doc.node(i);
    if n.tag != Tag::Str {
        problem!("window.sitehookConfig.", key, " must be a string; ignored");
        return None;
    }
    Some(n.span)
}

fn boolean(doc: &Doc, cfg: usize, key: &str, default: bool) -> bool {
    let Some(i) = doc.field(cfg, key) else {
        return default;
    };
    match doc.bool(i) {
        Some(b) => b,
        None => {
            problem!(
                "window.sitehookConfig.",
                key,
                " must be true or false; using the default",
            );
            default
        }
    }
}
