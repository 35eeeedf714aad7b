//! The sitehook snippet: the thin browser shell around `sitehook-core`.
//!
//! # Layout
//!
//! - [`config`]: reads `window.sitehookConfig`, keeping the good triggers and warning
//!   (once, naming the trigger, the field and a likely fix) about the bad ones.
//! - [`js`]: the boundary to JavaScript: JS values into [`sitehook_core::Value`] (with
//!   bounds, since the page is untrusted), console lines.
//! - [`storage`]: the visit history and Stop timers in `localStorage`, per profile,
//!   tolerant of blocked storage and of corrupt or foreign data.
//! - [`send`]: the matched events to the relay, as a `text/plain` keepalive `fetch`.
//! - [`trace`]: what happened on this page view, for `debug: true`, for the page (a
//!   `sitehook:evaluated` event) and for tests.
//! - `allocator` (WebAssembly only): a small size-class allocator.
//!
//! The loader (`web/loader.js`) calls [`start`] with the URL its script came from.
//!
//! In the WebAssembly build the crate is `no_std`: a panic traps (the loader reports
//! it and the page carries on) instead of formatting a message nobody reads, which
//! keeps `core::fmt` out of the download.

#![cfg_attr(target_arch = "wasm32", no_std)]
#![deny(unsafe_code)]

extern crate alloc;

#[cfg(target_arch = "wasm32")]
mod allocator;
pub mod config;
pub mod js;
pub mod send;
pub mod storage;
pub mod trace;

use alloc::string::String;
use alloc::vec::Vec;

use sitehook_core::condition::Scope;
use sitehook_core::event::limits;
use sitehook_core::trigger::PAGE_VIEW;
use sitehook_core::{Decision, Event, Page, Visit};
use wasm_bindgen::prelude::*;

#[cfg(target_arch = "wasm32")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

/// Starts the snippet on this page: evaluates the current page view and sends what
/// matched. `script_base` is the URL of the folder the script was loaded from; it is
/// the relay's address unless the config names one.
#[wasm_bindgen]
pub fn start(script_base: &str) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let started = js::now(&window);
    let Some(config) = config::read(&window) else {
        return;
    };
    if !config.consent {
        trace::publish(&window, &trace::Trace::consent_off());
        return;
    }
    page_view(&window, config, script_base, started);
}

fn page_view(window: &web_sys::Window, config: config::Config, script_base: &str, started: f64) {
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
    let evaluating = js::now(window);
    for trigger in &config.triggers {
        let scope = Scope {
            now,
            visit: &visit,
            history: &history,
        };
        let decision = trigger.decide(PAGE_VIEW, scope, known, stops.get(&trigger.id));
        let why = if trace.debug() {
            why_not(trigger, decision, scope)
        } else {
            None
        };
        trace.record(&trigger.id, decision, why);
        if decision == Decision::Fire {
            stops.set(&trigger.id, now);
            events.push(Event {
                id: send::event_id(window),
                trigger: trigger.id.clone(),
                webhook: trigger.webhook.clone(),
                profile: config.profile_for(&trigger.webhook),
                identity: config.identity.clone(),
                data: trigger.data.clone(),
                page: page.clone(),
                at: now,
            });
        }
    }
    let evaluated = js::now(window);
    store.save_stops(&stops);
    trace.eval_us = ((evaluated - evaluating) * 1000.0) as u64;
    trace.total_us = ((js::now(window) - started) * 1000.0) as u64;

    if events.is_empty() {
        trace::publish(window, &trace);
        return;
    }
    let url = config.events_url(script_base);
    let window = window.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let accepted = match send::events(&window, &url, &events).await {
            Ok(accepted) => accepted,
            Err(why) => {
                js::warn(&["could not send to the relay: ", &why]);
                trace.error = Some(why);
                Vec::new()
            }
        };
        // What the relay did not accept will not be delivered: those triggers are not
        // resting. (Keeping unsent events for a later page is the offline queue's job.)
        if accepted.len() < events.len() {
            let mut stops = store.stops();
            for e in events.iter().filter(|e| !accepted.contains(&e.id)) {
                stops.unset(&e.trigger, now);
            }
            store.save_stops(&stops);
        }
        if trace.debug() {
            for e in events.iter().filter(|e| accepted.contains(&e.id)) {
                js::log(&[
                    "sent trigger \"",
                    &e.trigger,
                    "\" to webhook \"",
                    &e.webhook,
                    "\" (event ",
                    &e.id,
                    ")",
                ]);
            }
        }
        trace.sent = accepted;
        trace::publish(&window, &trace);
    });
}

/// Why `trigger` did not fire, in words, for the trace.
fn why_not(
    trigger: &sitehook_core::Trigger,
    decision: Decision,
    scope: Scope<'_>,
) -> Option<String> {
    match decision {
        Decision::NoMatch => trigger.why_not(scope),
        Decision::Anonymous => Some(String::from(
            "the visitor has no known profile; the audience is \"known\"",
        )),
        Decision::Stopped(until) => {
            let mut why = String::from("its Stop holds it ");
            match until {
                Some(at) => {
                    // In whole units, rounded down: "for another 29d".
                    let left = at.saturating_sub(scope.now);
                    let (n, unit) = [(86_400_000, "d"), (3_600_000, "h"), (60_000, "m")]
                        .into_iter()
                        .find(|(per, _)| left >= *per)
                        .map_or((left / 1000, "s"), |(per, u)| (left / per, u));
                    why.push_str("for another ");
                    sitehook_core::json::push_num(&mut why, n);
                    why.push_str(unit);
                }
                None => why.push_str("for good (restartAfter: \"never\")"),
            }
            Some(why)
        }
        Decision::OtherEvent | Decision::Fire => None,
    }
}

/// The page, cut to the relay's limits so a long tracking URL cannot get the event
/// rejected.
fn page(window: &web_sys::Window) -> Page {
    let document = window.document();
    let cut = |mut text: String, max: usize| {
        if text.len() > max {
            let mut at = max;
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            text.truncate(at);
        }
        text
    };
    Page {
        url: cut(window.location().href().unwrap_or_default(), limits::URL),
        title: cut(
            document.as_ref().map(|d| d.title()).unwrap_or_default(),
            limits::VALUE,
        ),
        referrer: cut(
            document.map(|d| d.referrer()).unwrap_or_default(),
            limits::URL,
        ),
    }
}
