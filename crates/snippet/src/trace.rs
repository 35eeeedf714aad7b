//! What happened on one page view.
//!
//! Published three ways: as console lines when `debug: true`, printed here; and, by
//! the loader (web/loader.js), as a `sitehook:evaluated` event on `window` (for the
//! page's own code, e.g. analytics of what fired) and as `window.sitehook.last`,
//! readable at any time, which the browser tests poll. The loader adds what was sent,
//! once the relay answered.
//!
//! A trace whose triggers fired also carries what the loader needs to make their
//! events (`fired`, `at`, `v`; see [`Trace::write_json`]), which it takes out before
//! publishing.

use alloc::string::String;

use sitehook_core::{Decision, json};

use crate::io;

/// The outcome of one page view's evaluation.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    /// The event that was evaluated (`page_view`, `item_view`, a custom name).
    pub event: String,
    /// The path it happened on.
    pub path: String,
    /// `false` when consent was withheld and nothing was evaluated.
    pub consent: bool,
    /// Each trigger, its result (`fired`, `no-match`, `anonymous`, `stopped`, ...),
    /// and, when debugging, why it did not fire: the JSON objects of the `triggers`
    /// list, written as they are recorded.
    triggers: String,
    /// Microseconds spent deciding the triggers (the evaluation alone).
    pub eval_us: u64,
    /// The whole event: storage read and written, the triggers decided, the trace.
    pub handle_us: u64,
    /// Microseconds from reading the config to the decisions stored (no network).
    pub total_us: u64,
    debug: bool,
}

impl Trace {
    /// An empty trace for `event` on `path`.
    pub fn new(event: &str, path: &str, debug: bool) -> Self {
        Trace {
            event: String::from(event),
            path: String::from(path),
            consent: true,
            debug,
            ..Trace::default()
        }
    }

    /// The trace of a page where consent was withheld.
    pub fn consent_off() -> Self {
        Trace::default()
    }

    /// Whether the trace is shown (`debug: true` or the debug parameter).
    pub fn debug(&self) -> bool {
        // Constant `false` in the visitor build, which never debugs (it hands over to
        // the explaining build), so the trace's printing is left out of it.
        cfg!(feature = "explain") && self.debug
    }

    /// Records one trigger's decision, and prints it when debugging; `why` says why it
    /// did not fire (worked out only when debugging).
    pub fn record(&mut self, id: &str, decision: Decision, why: Option<String>) {
        if self.debug() {
            let why_text = why.as_deref().unwrap_or("");
            let (open, close) = if why.is_some() { (" (", ")") } else { ("", "") };
            io::log(&[
                "trigger \"",
                id,
                "\" on ",
                &self.event,
                " ",
                &self.path,
                ": ",
                decision.as_str(),
                open,
                why_text,
                close,
            ]);
        }
        let out = &mut self.triggers;
        if !out.is_empty() {
            out.push(',');
        }
        out.push('{');
        json::push_key(out, "id", true);
        json::push_str(out, id);
        json::push_key(out, "result", false);
        json::push_str(out, decision.as_str());
        if let Some(why) = &why {
            json::push_key(out, "why", false);
            json::push_str(out, why);
        }
        out.push('}');
    }

    /// Writes the trace as JSON: `{"event", "path", "consent", "triggers": [{"id",
    /// "result", "why"?}], "sent": [], "evalUs", "handleUs", "totalUs", "debug"?}`,
    /// with `fired` appended inside the object when triggers fired (see
    /// `Snippet::evaluate`: their positions in the config, when, and the visitor
    /// and page the events are about). The loader makes the events from it, fills
    /// `sent` (and `error`) from the relay's answer, and takes those keys out before
    /// publishing.
    pub fn write_json(&self, out: &mut String, fired: &str) {
        out.push('{');
        json::push_key(out, "event", true);
        json::push_str(out, &self.event);
        json::push_key(out, "path", false);
        json::push_str(out, &self.path);
        json::push_key(out, "consent", false);
        out.push_str(if self.consent { "true" } else { "false" });
        json::push_key(out, "triggers", false);
        out.push('[');
        out.push_str(&self.triggers);
        out.push(']');
        json::push_key(out, "sent", false);
        out.push_str("[]");
        json::push_key(out, "evalUs", false);
        json::push_num(out, self.eval_us);
        json::push_key(out, "handleUs", false);
        json::push_num(out, self.handle_us);
        json::push_key(out, "totalUs", false);
        json::push_num(out, self.total_us);
        if self.debug() {
            json::push_key(out, "debug", false);
            out.push_str("true");
        }
        out.push_str(fired);
        out.push('}');
    }
}
