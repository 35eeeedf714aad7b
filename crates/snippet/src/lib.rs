//! The sitehook snippet: the thin browser shell around `sitehook-core`.
//!
//! # Layout
//!
//! - [`config`]: reads `window.sitehookConfig`, keeping the good triggers and warning
//!   (once, naming the trigger, the field and a likely fix) about the bad ones.
//! - [`js`]: the boundary to JavaScript: JS values into [`sitehook_core::Value`] (with
//!   bounds, since the page is untrusted), console lines, the browser's `RegExp`.
//! - [`storage`]: the history, Stop timers and session in `localStorage`, per
//!   profile; tolerant of blocked storage and of corrupt or foreign data.
//! - [`send`]: event ids.
//! - [`trace`]: what happened on each evaluation, for `debug: true`, for the page (the
//!   loader publishes it as a `sitehook:evaluated` event) and for tests.
//! - [`web`]: the browser APIs the snippet calls, declared here (not web-sys/js-sys).
//! - `allocator` (WebAssembly only): a small size-class allocator.
//!
//! # Two builds
//!
//! Without features this is the visitor build, which every page downloads: it has no
//! words for config problems or for why a trigger did not fire. Given a config with a
//! problem, or asked to debug, [`Snippet::start`] declines and [`wants_words`] says
//! so; the loader then starts the explaining build (`--features explain`) instead.
//! Where that cannot be loaded, the loader starts the visitor build again, told to
//! run the triggers it could read.
//!
//! The loader (`web/loader.js`) owns everything asynchronous: it calls
//! [`Snippet::start`], replays the page's queued calls, reports navigations, runs the
//! timers [`Snippet::next_wake`] asks for, and keeps the outbox: it takes the events
//! that fired and the traces ([`Snippet::take`]), stores the events (bounded, in
//! `localStorage` or in memory), sends them, retries with backoff, publishes the
//! traces with what was sent, and reports back ([`Snippet::lift`] for an event that
//! will never be delivered). Keeping futures, closures, the send queue's bookkeeping
//! and the publishing out of the wasm keeps it small.
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
pub mod web;

use alloc::string::String;
use alloc::vec::Vec;

use sitehook_core::event::{EventJson, PROFILE_ID, limits};
use sitehook_core::trigger::PAGE_VIEW;
use sitehook_core::{Decision, Fields, Here, History, Scope, Value, Visit, json};
use wasm_bindgen::prelude::*;

use storage::Store;

#[cfg(target_arch = "wasm32")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

/// The longest a page waits for a timed condition (dwell, a sequence's `for`)
/// before giving up on this page: a later page evaluates it anyway.
const MAX_WAKE_MS: u64 = 6 * 3_600_000;

/// An item declared by `sitehook.page({type, item})`.
#[derive(Debug, Clone, Default)]
struct Item {
    id: String,
    name: String,
    category: String,
    price: String,
}

/// The current page, as the snippet saw it arrive.
#[derive(Debug, Default)]
struct PageState {
    url: String,
    referrer: String,
    /// When it was viewed, which is also its page view's time in the history.
    at: u64,
    /// Triggers that fired on this page (for re-evaluations on wake).
    fired: Vec<String>,
}

/// The snippet on one page: config, visitor, page, and what waits to be sent.
#[wasm_bindgen]
pub struct Snippet {
    window: web::Window,
    config: config::Config,
    base: String,
    patterns: js::Patterns,
    /// Consent as the page last said (the config, then `sitehook.consent`).
    consent: bool,
    store: Store,
    page: Option<PageState>,
    /// A `sitehook.page` call made before the first page view, applied to it.
    declared: Option<(String, Item)>,
    /// Events that fired since the loader last took them ([`Snippet::take`]), as
    /// the outbox's JSON entries.
    fresh: String,
    /// Traces made since the loader last took them, as JSON objects; the loader
    /// publishes them.
    traces: String,
    wake_at: Option<u64>,
    started: f64,
}

/// Whether the snippet that just declined to start (`Snippet.start` gave nothing) did
/// so because the config has a problem or asks for debugging: the visitor build has no
/// words for that, and the loader then starts the explaining build, which reads the
/// same config and says what is wrong. Always `false` in the explaining build.
#[wasm_bindgen]
pub fn wants_words() -> bool {
    config::wants_words()
}

#[wasm_bindgen]
impl Snippet {
    /// Reads the config. `script_base` is the URL of the folder the script was
    /// loaded from: the relay's address unless the config names one. `None` (with a
    /// console warning) when there is no config.
    ///
    /// `wordless`: the explaining build could not be loaded, so the visitor build
    /// starts even though the config has a problem or asks for debugging, running the
    /// triggers it could read, silently: a page whose one trigger has a typo keeps the
    /// others.
    pub fn start(script_base: &str, wordless: bool) -> Option<Snippet> {
        let window = web::window();
        let started = js::now(&window);
        let patterns = js::Patterns::default();
        let config = config::read(&window, &patterns, wordless)?;
        let store = Store::open(&window, config.profile_id());
        let mut consent = config.consent;
        if config.respect_privacy_signals && js::privacy_signal(&window) {
            consent = false;
        }
        Some(Snippet {
            window,
            base: String::from(script_base),
            patterns,
            consent,
            store,
            config,
            page: None,
            declared: None,
            fresh: String::new(),
            traces: String::new(),
            wake_at: None,
            started,
        })
    }

    /// A page view, if the URL changed since the last one (a single-page app's
    /// `pushState`, `replaceState`, `popstate` and `hashchange` all land here, and
    /// one navigation is one view).
    pub fn navigate(&mut self) {
        let url = self.window.location().href();
        if self.page.as_ref().is_some_and(|p| same_page(&p.url, &url)) {
            return;
        }
        if !self.allowed() {
            self.publish(&trace::Trace::consent_off(), &[]);
            return;
        }
        let referrer = match &self.page {
            Some(p) => p.url.clone(),
            None => self.window.document().referrer(),
        };
        let now = web::now_ms();
        self.page = Some(PageState {
            url,
            referrer,
            at: now,
            fired: Vec::new(),
        });
        let declared = self.declared.take();
        self.handle(PAGE_VIEW, Fields::new(), &Item::default(), now);
        // Page types: declared by `sitehook.page` or by the config's URL patterns.
        match declared {
            Some((kind, item)) => self.handle(&kind, Fields::new(), &item, now),
            None => {
                for (slot, kind) in [(0, "item_view"), (1, "category_view")] {
                    if self.page_type_matches(slot, now) {
                        self.handle(kind, Fields::new(), &Item::default(), now);
                    }
                }
            }
        }
    }

    /// The page API: `identify`, `page`, `track`, `consent`, `reset`. Unknown
    /// commands are reported, never thrown.
    pub fn command(&mut self, name: &str, a: JsValue, b: JsValue) {
        match name {
            "identify" => self.identify(&a, &b),
            "reset" => self.switch_profile(Fields::new(), None),
            "consent" => match a.as_bool() {
                Some(granted) => self.set_consent(granted),
                // Withdrawing deletes data: only an explicit `false` may do that.
                None => js::warn(&["sitehook.consent needs true or false; ignored"]),
            },
            "page" => self.declare_page(&a),
            "track" => {
                let Some(event) = a.as_string().filter(|e| valid_event_name(e)) else {
                    js::warn(&[
                        "sitehook.track needs an event name of 1 to 64 letters, digits and - _ . :",
                    ]);
                    return;
                };
                if matches!(event.as_str(), PAGE_VIEW | "item_view" | "category_view") {
                    js::warn(&[
                        "sitehook.track(\"",
                        &event,
                        "\") is ignored: page views are seen by the snippet, and item and category views are declared with sitehook.page",
                    ]);
                    return;
                }
                let props = props(&js::to_value(&b));
                let item = Item {
                    id: prop(&props, &["id", "itemId", "item_id"]),
                    name: prop(&props, &["name"]),
                    category: prop(&props, &["category"]),
                    price: prop(&props, &["value", "price", "total"]),
                };
                self.handle(&event, props, &item, web::now_ms());
            }
            _ => js::warn(&[
                "unknown command \"",
                name,
                "\" (expected identify, page, track, consent or reset)",
            ]),
        }
    }

    /// Re-evaluates the current page's time-based conditions (dwell, a sequence's
    /// wait), when the loader's timer says it is time.
    pub fn wake(&mut self) {
        let now = web::now_ms();
        if self.wake_at.is_none_or(|at| at > now) || !self.allowed() {
            return;
        }
        self.wake_at = None;
        if self.page.is_some() {
            self.evaluate(PAGE_VIEW, Fields::new(), &Item::default(), now, true);
        }
    }

    /// Milliseconds until [`Snippet::wake`] is due; `-1` when it is not. (The
    /// loader times the outbox's retries itself.)
    pub fn next_wake(&self) -> f64 {
        match self.wake_at {
            Some(at) => at.saturating_sub(web::now_ms()) as f64,
            None => -1.0,
        }
    }

    /// What happened since the last call, as JSON: `[events, traces]`, or `None`
    /// when nothing did. `events` are those that fired, each as `{"i": id, "g":
    /// trigger, "p": profile, "t": fired at, "e": the event}`: the loader keeps the
    /// outbox, and stores, bounds, sends and retries them (web/loader.js). `traces`
    /// are the evaluations' traces, which the loader publishes; one whose events fired
    /// has their `ids`, and waits for the relay's answer, so that it shows what was
    /// sent.
    pub fn take(&mut self) -> Option<String> {
        if self.fresh.is_empty() && self.traces.is_empty() {
            return None;
        }
        let mut out = String::from("[[");
        out.push_str(&core::mem::take(&mut self.fresh));
        out.push_str("],[");
        out.push_str(&core::mem::take(&mut self.traces));
        out.push_str("]]");
        Some(out)
    }

    /// Whether events may be sent now (consent, and privacy signals where the config
    /// respects them). Events queued on an earlier page wait while not.
    pub fn may_send(&self) -> bool {
        self.allowed()
    }

    /// An event the relay will never deliver (refused, or given up by the loader):
    /// its trigger is not resting, so it may fire again rather than stay quiet for
    /// nothing.
    pub fn lift(&self, trigger: &str, profile: &str, at: f64) {
        let store = Store::open(&self.window, profile);
        let mut stops = store.stops();
        stops.unset(trigger, at as u64);
        store.save_stops(&stops);
    }

    /// Where events are sent.
    pub fn url(&self) -> String {
        self.config.events_url(&self.base)
    }
}

impl Snippet {
    /// Whether anything may be evaluated, stored or sent.
    fn allowed(&self) -> bool {
        self.consent && !(self.config.respect_privacy_signals && js::privacy_signal(&self.window))
    }

    fn set_consent(&mut self, granted: bool) {
        let was = self.allowed();
        self.consent = granted;
        if !granted {
            // Withdrawn: nothing stays behind, queued events included.
            self.store.forget_all();
            self.fresh.clear();
            self.traces.clear();
            self.wake_at = None;
            return;
        }
        if self.config.respect_privacy_signals && js::privacy_signal(&self.window) {
            js::warn(&[
                "consent was given, but the browser sends Global Privacy Control or Do Not Track and respectPrivacySignals is on: nothing is evaluated",
            ]);
            return;
        }
        if !was {
            // Granted later: the page the visitor is on counts, without a reload.
            self.page = None;
            self.navigate();
        }
    }

    fn identify(&mut self, profile: &JsValue, identity: &JsValue) {
        let fields = config::profile(Some(&js::to_value(profile)), false);
        if !sitehook_core::event::is_known(&fields) {
            js::warn(&[
                "sitehook.identify needs a profile with a profileid, e.g. { profileid: \"p-123\" }",
            ]);
            return;
        }
        let identity = match identity.as_string().filter(|i| !i.is_empty()) {
            Some(i) if i.len() <= limits::VALUE => Some(i),
            too_long => {
                if too_long.is_some() {
                    js::warn(&[
                        "sitehook.identify: the identity is longer than 1024 bytes; ignored",
                    ]);
                }
                // The same profile again without one keeps the identity it had.
                let same = fields.get(PROFILE_ID).map(|s| s.trim_ascii())
                    == Some(self.config.profile_id());
                if same {
                    self.config.identity.clone()
                } else {
                    None
                }
            }
        };
        self.switch_profile(fields, identity);
    }

    /// Switches to another visitor: their own history and Stop timers. Signing in
    /// brings the anonymous history along (the views before login count); signing
    /// out (`reset`) starts anonymous and empty.
    fn switch_profile(&mut self, profile: Fields, identity: Option<String>) {
        let from_anonymous = !self.config.is_known();
        let same =
            profile.get(PROFILE_ID).map(|s| s.trim_ascii()) == Some(self.config.profile_id());
        self.config.profile = profile;
        self.config.identity = identity;
        if same {
            return;
        }
        let mut next = Store::open(&self.window, self.config.profile_id());
        if from_anonymous && self.config.is_known() && self.allowed() {
            let mut history = next.history();
            history.merge(self.store.history());
            next.save_history(&history);
            self.store.clear_history();
        } else if !self.config.is_known() {
            next.clear_history();
        }
        self.store = next;
    }

    fn declare_page(&mut self, arg: &JsValue) {
        let v = js::to_value(arg);
        let kind = match v.get("type").and_then(Value::as_str) {
            Some("item" | "product") => "item_view",
            Some("category") => "category_view",
            _ => {
                js::warn(&[
                    "sitehook.page needs { type: \"item\" | \"category\", item: { id, name, category, price } }",
                ]);
                return;
            }
        };
        let raw = v.get("item").unwrap_or(&Value::Null);
        let text = |key: &str| {
            raw.get(key)
                .or_else(|| v.get(key))
                .and_then(Value::as_text)
                .map(|t| String::from(cut(&t, limits::VALUE)))
                .unwrap_or_default()
        };
        let item = Item {
            id: text("id"),
            name: text("name"),
            category: text("category"),
            price: text("price"),
        };
        if self.page.is_none() {
            self.declared = Some((String::from(kind), item));
            return;
        }
        self.handle(kind, Fields::new(), &item, web::now_ms());
    }

    fn page_type_matches(&self, slot: usize, now: u64) -> bool {
        let Some(condition) = &self.config.pages[slot] else {
            return false;
        };
        // The page view just recorded, as a history of one: page types are told by
        // the page (its URL), and blocked storage must not hide them.
        let session = self.store.session();
        let history = History::from_visits(alloc::vec![Visit {
            at: now,
            event: String::from(PAGE_VIEW),
            path: self.window.location().pathname(),
            session: session.number.max(1),
            ..Visit::default()
        }]);
        let Some(current) = history.visits().last() else {
            return false;
        };
        let here = self.here(Fields::new(), &Item::default(), now, session);
        condition.eval(Scope::of_current(
            now,
            current,
            &history,
            &here,
            &self.patterns,
        ))
    }

    /// Records an event and evaluates the triggers that listen to it.
    fn handle(&mut self, event: &str, props: Fields, item: &Item, now: u64) {
        if !self.allowed() {
            return;
        }
        if self.page.is_none() {
            // An event before the first page view (queued `track` calls): the page
            // view comes first.
            self.navigate();
        }
        self.evaluate(event, props, item, now, false);
    }

    fn evaluate(&mut self, event: &str, props: Fields, item: &Item, now: u64, wake: bool) {
        let eval_start = js::now(&self.window);
        let mut session = self.store.session();
        if !wake {
            session = session.at(now);
            self.store.save_session(session);
        }
        let mut history = self.store.history();
        let page_at = self.page.as_ref().map_or(now, |p| p.at);
        let index = if wake {
            // The page's own view, recorded when it arrived.
            match history
                .visits()
                .iter()
                .rposition(|v| v.at == page_at && v.event == PAGE_VIEW)
            {
                Some(i) => i,
                None => return,
            }
        } else {
            history.push(Visit {
                at: now,
                event: String::from(event),
                path: self.window.location().pathname(),
                session: session.number,
                item: String::from(cut(&item.id, History::MAX_PATH)),
                category: String::from(cut(&item.category, History::MAX_PATH)),
                value: String::from(cut(&item.price, History::MAX_PATH)),
            });
            if let Some(keep) = self.config.lookback() {
                history.prune(now, keep);
            }
            self.store.save_history(&history);
            // Pruning may have moved it: it is the newest such event at `now`.
            match history
                .visits()
                .iter()
                .rposition(|v| v.at == now && v.event == event)
            {
                Some(i) => i,
                // Only when the clock stepped back past a full history's oldest
                // entry: this event was the one dropped.
                None => return,
            }
        };
        let Some(current) = history.visits().get(index) else {
            return;
        };
        let here = self.here(props, item, now, session);
        let scope = Scope::of_current(now, current, &history, &here, &self.patterns);
        let mut stops = self.store.stops();
        let mut trace = trace::Trace::new(event, &current.path, self.config.debug());
        // Each event that fires goes straight into `fresh`, as an outbox entry
        // (`{"i": id, "g": trigger, "p": profile, "t": fired at, "e": the event}`).
        let mut fired = Vec::new();
        let mut ids = Vec::new();
        let profile = self.config.profile_id();
        let page = [
            cut(&here.url, limits::URL),
            cut(&here.title, limits::VALUE),
            cut(&here.referrer, limits::URL),
        ];
        let page_fired = self.page.as_ref().map(|p| &p.fired);
        // The decisions alone, apart from storage: what the trigger count drives.
        let deciding = js::now(&self.window);
        for trigger in &self.config.triggers {
            if trigger.on != event {
                continue;
            }
            // Looking again on a timer: what already fired on this page is done.
            if wake && page_fired.is_some_and(|f| f.contains(&trigger.id)) {
                continue;
            }
            let decision = trigger.decide(event, scope, stops.get(&trigger.id));
            let why = if trace.debug() {
                why_not(trigger, decision, scope)
            } else {
                None
            };
            trace.record(&trigger.id, decision, why);
            if decision == Decision::Fire {
                stops.set(&trigger.id, now);
                let id = send::event_id(&self.window);
                let out = &mut self.fresh;
                if !out.is_empty() {
                    out.push(',');
                }
                out.push('{');
                json::push_key(out, "i", true);
                json::push_str(out, &id);
                json::push_key(out, "g", false);
                json::push_str(out, &trigger.id);
                json::push_key(out, "p", false);
                json::push_str(out, profile);
                json::push_key(out, "t", false);
                json::push_num(out, now);
                json::push_key(out, "e", false);
                EventJson {
                    id: &id,
                    trigger: &trigger.id,
                    webhook: &trigger.webhook,
                    profile: &self.config.profile_for(&trigger.webhook),
                    identity: self.config.identity.as_deref(),
                    data: &trigger.data,
                    page,
                    at: now,
                }
                .write(out);
                out.push('}');
                fired.push(trigger.id.as_str());
                ids.push(id);
            }
        }
        let decided = js::now(&self.window);
        self.store.save_stops(&stops);
        if let Some(p) = self.page.as_mut() {
            for t in fired {
                p.fired.push(String::from(t));
            }
        }
        // Any event can start the clock of a timed page-view trigger (a cart update
        // begins the abandoned-cart wait), so the timer is planned after each one.
        self.wake_at = self.plan_wake(&history, &here, now);
        self.store.keep_history(history);
        let evaluated = js::now(&self.window);
        trace.eval_us = ((decided - deciding) * 1000.0) as u64;
        trace.handle_us = ((evaluated - eval_start) * 1000.0) as u64;
        trace.total_us = ((evaluated - self.started) * 1000.0) as u64;
        self.publish(&trace, &ids);
    }

    /// Hands `trace` to the loader to publish, with the `ids` of the events that
    /// fired in it.
    fn publish(&mut self, trace: &trace::Trace, ids: &[String]) {
        if !self.traces.is_empty() {
            self.traces.push(',');
        }
        trace.write_json(&mut self.traces, ids);
    }

    /// When time alone may make a page-view trigger hold on this page (dwell, a
    /// sequence's `for`): the earliest such moment within [`MAX_WAKE_MS`].
    fn plan_wake(&self, history: &History, here: &Here, now: u64) -> Option<u64> {
        let page = self.page.as_ref()?;
        let current = history
            .visits()
            .iter()
            .rfind(|v| v.at == page.at && v.event == PAGE_VIEW)?;
        // Seen from the page view: the last event's properties are not the page's.
        let here = Here {
            props: Fields::new(),
            item_name: String::new(),
            ..here.clone()
        };
        let scope = Scope::of_current(now, current, history, &here, &self.patterns);
        let mut earliest: Option<u64> = None;
        for t in &self.config.triggers {
            if t.on != PAGE_VIEW || page.fired.contains(&t.id) {
                continue;
            }
            if let Some(at) = t.wake(scope).filter(|at| *at <= now + MAX_WAKE_MS) {
                earliest = Some(earliest.map_or(at, |e| e.min(at)));
            }
        }
        earliest
    }

    fn here(&self, props: Fields, item: &Item, now: u64, session: storage::Session) -> Here {
        let location = self.window.location();
        let (url, referrer, page_started) = match &self.page {
            Some(p) => (p.url.clone(), p.referrer.clone(), p.at),
            None => (location.href(), String::new(), now),
        };
        Here {
            url,
            host: location.hostname(),
            query: location.search(),
            hash: location.hash(),
            referrer,
            title: self.window.document().title(),
            item_name: item.name.clone(),
            props,
            profile: self.config.profile.clone(),
            known: self.config.is_known(),
            session_started: session.started,
            page_started,
        }
    }
}

fn valid_event_name(name: &str) -> bool {
    sitehook_core::event::is_valid_id(name)
}

/// An event's properties as text fields (objects and lists are skipped; at most 32).
fn props(value: &Value) -> Fields {
    let mut out = Fields::new();
    if let Value::Obj(entries) = value {
        for (key, v) in &entries[..entries.len().min(limits::FIELDS)] {
            if let Some(text) = v.as_text() {
                out.insert(key.clone(), String::from(cut(&text, limits::VALUE)));
            }
        }
    }
    out
}

fn prop(props: &Fields, keys: &[&str]) -> String {
    for k in keys {
        if let Some(v) = props.get(k) {
            return v.clone();
        }
    }
    String::new()
}

/// Whether two URLs are the same page: an anchor (`#faq`) is not a new page, but a
/// hash route (`#/cart`, `#!/cart`) is.
fn same_page(a: &str, b: &str) -> bool {
    fn key(url: &str) -> &[u8] {
        // On bytes: `str::find` brings a pattern searcher half a kilobyte long.
        let url = url.as_bytes();
        match url.iter().position(|b| *b == b'#') {
            Some(at) if !matches!(url.get(at + 1), Some(b'/' | b'!')) => url.split_at(at).0,
            _ => url,
        }
    }
    key(a) == key(b)
}

/// `text` cut to `max` bytes on a character boundary.
fn cut(text: &str, max: usize) -> &str {
    let mut at = text.len().min(max);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    // `get`, not `&text[..at]`, whose panic path would bring formatting code.
    text.get(..at).unwrap_or_default()
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
        Decision::OffSchedule => Some(String::from("outside its schedule")),
        Decision::Stopped(until) => {
            let mut why = String::from("its Stop holds it ");
            match (until, trigger.stop) {
                (Some(at), _) => {
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
                (None, Some(sitehook_core::Limit::Session)) => {
                    why.push_str("until the next session (restartAfter: \"session\")")
                }
                (None, Some(sitehook_core::Limit::Page)) => {
                    why.push_str("until the next page (restartAfter: \"page\")")
                }
                (None, _) => why.push_str("for good (restartAfter: \"never\")"),
            }
            Some(why)
        }
        Decision::OtherEvent | Decision::Fire => None,
    }
}
