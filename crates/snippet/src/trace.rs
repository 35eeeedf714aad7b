//! What happened on one page view.
//!
//! Published three ways: as console lines when `debug: true`; as a `sitehook:evaluated`
//! event on `window` (for the page's own code, e.g. analytics of what fired); and as
//! `window.sitehook.last`, readable at any time, which the browser tests poll.

use serde::Serialize;
use sitehook_core::Decision;
use wasm_bindgen::{JsCast, JsValue};

/// The outcome of one page view's evaluation.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Trace {
    /// The path that was evaluated.
    pub path: String,
    /// `false` when consent was withheld and nothing was evaluated.
    pub consent: bool,
    /// Each trigger and its result (`fired`, `no-match`, `anonymous`, `stopped`, ...).
    pub triggers: Vec<TriggerResult>,
    /// Ids of the events the relay accepted.
    pub sent: Vec<String>,
    /// Why sending failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip)]
    debug: bool,
}

/// One trigger's result.
#[derive(Debug, Clone, Serialize)]
pub struct TriggerResult {
    /// The trigger's id.
    pub id: String,
    /// What happened to it.
    pub result: &'static str,
}

impl Trace {
    /// An empty trace for a page view of `path`.
    pub fn new(path: &str, debug: bool) -> Self {
        Trace {
            path: path.to_owned(),
            consent: true,
            debug,
            ..Trace::default()
        }
    }

    /// The trace of a page where consent was withheld.
    pub fn consent_off() -> Self {
        Trace::default()
    }

    /// Records one trigger's decision, and prints it when debugging.
    pub fn record(&mut self, id: &str, decision: Decision) {
        if self.debug {
            let mut line = String::from("sitehook: trigger \"");
            line.push_str(id);
            line.push_str("\" on ");
            line.push_str(&self.path);
            line.push_str(": ");
            line.push_str(decision.as_str());
            web_sys::console::log_1(&JsValue::from_str(&line));
        }
        self.triggers.push(TriggerResult {
            id: id.to_owned(),
            result: decision.as_str(),
        });
    }
}

/// Makes the trace visible to the page: `window.sitehook.last` and a
/// `sitehook:evaluated` event whose `detail` is the trace.
pub fn publish(window: &web_sys::Window, trace: &Trace) {
    let detail = crate::storage::to_js(trace);
    let key = JsValue::from_str("sitehook");
    let mut api = js_sys::Reflect::get(window, &key).unwrap_or(JsValue::UNDEFINED);
    if !api.is_object() {
        api = js_sys::Object::new().into();
        let _ = js_sys::Reflect::set(window, &key, &api);
    }
    let _ = js_sys::Reflect::set(&api, &JsValue::from_str("last"), &detail);
    let init = web_sys::CustomEventInit::new();
    init.set_detail(&detail);
    if let Ok(event) = web_sys::CustomEvent::new_with_event_init_dict("sitehook:evaluated", &init) {
        let _ = window.dispatch_event(event.unchecked_ref());
    }
}
