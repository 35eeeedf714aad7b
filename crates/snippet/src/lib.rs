//! The sitehook snippet: the thin browser shell around `sitehook-core`.
//!
//! # Layout
//!
//! - [`config`]: reads `window.sitehookConfig`, keeping the good triggers and warning
//!   (once, naming the trigger) about the bad ones.
//! - [`storage`]: the visit history and Stop timers in `localStorage`, per profile,
//!   tolerant of blocked storage and of corrupt or foreign data.
//! - [`send`]: the matched events to the relay, as a `text/plain` keepalive `fetch`.
//! - [`trace`]: what happened on this page view, for `debug: true`, for the page (a
//!   `sitehook:evaluated` event) and for tests.
//!
//! The loader (`web/loader.js`) calls [`start`] with the URL its script came from.

#![forbid(unsafe_code)]

pub mod config;
pub mod send;
pub mod storage;
pub mod trace;

use sitehook_core::condition::Scope;
use sitehook_core::trigger::PAGE_VIEW;
use sitehook_core::{Decision, Event, Page, Visit};
use wasm_bindgen::prelude::*;

/// Starts the snippet on this page: evaluates the current page view and sends what
/// matched. `script_base` is the URL of the folder the script was loaded from; it is
/// the relay's address unless the config names one.
#[wasm_bindgen]
pub fn start(script_base: &str) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Some(config) = config::read(&window) else {
        return;
    };
    if !config.consent {
        trace::publish(&window, &trace::Trace::consent_off());
        return;
    }
    page_view(&window, config, script_base);
}

fn page_view(window: &web_sys::Window, config: config::Config, script_base: &str) {
    let location = window.location();
    let now = js_sys::Date::now() as u64;
    let visit = Visit {
        at: now,
        path: location.pathname().unwrap_or_default(),
    };
    let store = storage::Store::open(window, config.profile_id());

    let mut history = store.history();
    history.push(visit.clone());
    if let Some(keep) = config.lookback() {
        history.prune(now, keep);
    }
    store.save_history(&history);

    let mut stops = store.stops();
    let known = config.is_known();
    let page = page(window);
    let mut trace = trace::Trace::new(&visit.path, config.debug);
    let mut events = Vec::new();
    for trigger in &config.triggers {
        let scope = Scope {
            now,
            visit: &visit,
            history: &history,
        };
        let decision = trigger.decide(PAGE_VIEW, scope, known, stops.get(&trigger.id).copied());
        trace.record(&trigger.id, decision);
        if decision == Decision::Fire {
            stops.insert(trigger.id.clone(), now);
            events.push(Event {
                id: send::event_id(window),
                trigger: trigger.id.clone(),
                webhook: trigger.webhook.clone(),
                profile: config.profile.clone(),
                identity: config.identity.clone(),
                data: trigger.data.clone(),
                page: page.clone(),
                at: now,
            });
        }
    }
    store.save_stops(&stops);

    if events.is_empty() {
        trace::publish(window, &trace);
        return;
    }
    let url = config.events_url(script_base);
    let window = window.clone();
    wasm_bindgen_futures::spawn_local(async move {
        match send::events(&url, &events).await {
            Ok(()) => trace.sent = events.into_iter().map(|e| e.id).collect(),
            Err(why) => {
                config::warn2("could not send to the relay: ", &why);
                trace.error = Some(why);
            }
        }
        trace::publish(&window, &trace);
    });
}

fn page(window: &web_sys::Window) -> Page {
    let document = window.document();
    Page {
        url: window.location().href().unwrap_or_default(),
        title: document.as_ref().map(|d| d.title()).unwrap_or_default(),
        referrer: document.map(|d| d.referrer()).unwrap_or_default(),
    }
}
