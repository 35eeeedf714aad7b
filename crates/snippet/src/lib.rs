//! The sitehook snippet: the thin browser shell around `sitehook-core`.
//!
//! # Layout
//!
//! - [`config`]: reads `window.sitehookConfig`, keeping the good triggers and warning
//!   (once, naming the trigger, the field and a likely fix) about the bad ones.
//! - [`io`]: the boundary to the page: the functions the loader gives the snippet
//!   (storage, `RegExp`, `URLSearchParams`, the console, clocks).
//! - [`storage`]: the history, Stop timers and session in `localStorage`, per
//!   profile; tolerant of blocked storage and of corrupt or foreign data.
//! - [`trace`]: what happened on each evaluation, for `debug: true`, for the page (the
//!   loader publishes it as a `sitehook:evaluated` event) and for tests.
//! - `allocator` (WebAssembly only): a small size-class allocator.
//!
//! # What crosses the boundary
//!
//! Only strings, numbers and booleans, through one exported function, [`enter`]: an
//! operation (see [`op`]) and its arguments as JSON text, which the loader makes with
//! a bounded walk of the page's objects (the config, the relay's field lists, the
//! arguments of API calls) and the core reads into a flat [`Doc`]. The first four
//! arguments of every call are where the page is (`location.href`, `document.title`,
//! `document.referrer` and the page's key, see [`location`]). After each call the
//! snippet answers through the loader's `io.out` (see [`io`]): the traces (with the triggers that fired, whose events
//! the loader makes), when to wake it and whether events may be sent. No JS object is walked from the wasm and no string is
//! returned from it, which keeps both the wasm and wasm-bindgen's glue small.
//!
//! # Two builds
//!
//! Without features this is the visitor build, which every page downloads: it has no
//! words for config problems or for why a trigger did not fire. Given a config with a
//! problem, or asked to debug, it declines to start ([`WANTS_WORDS`]); the loader then
//! starts the explaining build (`--features explain`) instead. Where that cannot be
//! loaded, the loader starts the visitor build again, told to run the triggers it
//! could read.
//!
//! The loader (`web/loader.js`) owns everything asynchronous: it starts the snippet,
//! replays the page's queued calls, reports navigations, runs the timers the snippet
//! asks for, and keeps the outbox: it takes the events that fired and the traces,
//! stores the events (bounded, in `localStorage` or in memory), sends them to the
//! relay's `/v1/events` (the config's `relay`, else where the script came from),
//! retries with backoff, publishes the traces with what was sent, and reports back
//! ([`op::LIFT`] for an event that will never be delivered).
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
pub mod io;
pub mod storage;
pub mod trace;

use alloc::string::String;
use alloc::vec::Vec;

use sitehook_core::condition::{TextFields, sooner, url_parts};
use sitehook_core::event::limits;
use sitehook_core::history::{Entry, cut};
use sitehook_core::json::{self, Doc, Tag};
use sitehook_core::trigger::PAGE_VIEW;
use sitehook_core::{Decision, Here, History, Scope};
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

/// An item declared by `sitehook.page({type, item})` or tracked with an event.
#[derive(Debug, Clone, Copy, Default)]
struct Item<'a> {
    id: &'a str,
    name: &'a str,
    category: &'a str,
    price: &'a str,
}

/// The current page, as the snippet saw it arrive.
#[derive(Debug, Default)]
struct PageState {
    url: String,
    /// The loader's key of the page (see [`location`]): two URLs with the same key
    /// are one page.
    key: String,
    referrer: String,
    /// When it was viewed, which is also its page view's time in the history.
    at: u64,
    /// Triggers that fired on this page, by index (for re-evaluations on wake).
    fired: Vec<usize>,
}

/// The snippet on one page: config, visitor, page, and what waits to be sent.
pub struct Snippet {
    config: config::Config,
    /// The visitor's profile: a document of text fields.
    profile: Doc,
    /// The backend-made proof of the profile id.
    identity: Option<String>,
    /// Consent as the page last said (the config, then `sitehook.consent`).
    consent: bool,
    store: Store,
    /// The page's URL, title, referrer and key as the loader last said (see
    /// [`location`]).
    location: [String; 4],
    page: Option<PageState>,
    /// A `sitehook.page` call made before the page view (or while consent is off),
    /// applied to it: the
    /// call's arguments, the node of the event it declares (see
    /// [`Snippet::command`]), and the key of the page it was made on, the only page
    /// it declares (consent may come after a single-page app moved on).
    declared: Option<(Doc, usize, String)>,
    /// Traces made since the loader last took them, as JSON objects; the loader
    /// publishes them.
    traces: String,
    /// When [`Snippet::wake`] is due (0: it is not).
    wake_at: u64,
    started: f64,
    /// Whether the loader has asked for a page view yet: before that, consent given
    /// (a queued call) leaves the view to it, after the other queued calls.
    viewed: bool,
}

impl Snippet {
    /// Reads the config from the start call's arguments (see [`enter`]): `config`,
    /// the node of `window.sitehookConfig`. `debug_param`: whether the page's
    /// `?sitehook_debug` asks for the trace, where the config allows it. `None` (with a console warning) when there is no
    /// config.
    ///
    /// `wordless`: the explaining build could not be loaded, so the visitor build
    /// starts even though the config has a problem or asks for debugging, running the
    /// triggers it could read, silently: a page whose one trigger has a typo keeps the
    /// others.
    fn start(args: Doc, flags: [bool; 2], config: usize) -> Option<Snippet> {
        let [wordless, debug_param] = flags;
        let started = io::now();
        let (config, profile, identity) =
            config::read(args, config, debug_param, &io::Patterns, wordless)?;
        let store = Store::open(config::profile_id(&profile));
        let consent = config.consent;
        Some(Snippet {
            profile,
            identity,
            consent,
            store,
            config,
            location: Default::default(),
            page: None,
            declared: None,
            traces: String::new(),
            wake_at: 0,
            viewed: false,
            started,
        })
    }

    /// A page view, if the URL changed since the last one (a single-page app's
    /// `pushState`, `replaceState`, `popstate` and `hashchange` all land here, and
    /// one navigation is one view).
    pub fn navigate(&mut self) {
        self.viewed = true;
        let [url, _, referrer, key] = &self.location;
        if self.page.as_ref().is_some_and(|p| p.key == *key) {
            return;
        }
        if !self.allowed() {
            self.publish(&trace::Trace::consent_off(), "");
            return;
        }
        let referrer = match &self.page {
            Some(p) => p.url.clone(),
            None => referrer.clone(),
        };
        let declared = self.declared.take().filter(|(_, _, on)| on == key);
        let now = io::now_ms();
        self.page = Some(PageState {
            url: url.clone(),
            key: key.clone(),
            referrer,
            at: now,
            fired: Vec::new(),
        });
        self.handle(PAGE_VIEW, TextFields::none(), Item::default(), now);
        // Page types: declared by `sitehook.page` or by the config's URL patterns.
        match declared {
            Some((args, at, _)) => self.track(&args, at, now),
            None => {
                for (slot, kind) in [(0, "item_view"), (1, "category_view")] {
                    if self.page_type_matches(slot, now) {
                        self.handle(kind, TextFields::none(), Item::default(), now);
                    }
                }
            }
        }
    }

    /// The page API: `identify`, `page`, `track`, `consent`, `reset`; `at` is the
    /// node of the command's name in `args`, its arguments follow. The loader has
    /// checked what the page passed (web/loader.js `command`): `consent` comes with
    /// a boolean; `page` and `track` with their event (`item_view`,
    /// `category_view`, a tracked event's name), its properties, and the item's
    /// fields as four texts (`[id, name, category, price]`).
    fn command(&mut self, args: Doc, at: usize) {
        let a = args.next(at);
        let b = args.next(a);
        match args.str(at).unwrap_or_default() {
            "identify" => self.identify(&args, a, b),
            "reset" => self.switch_profile(Doc::default(), None),
            "consent" => self.set_consent(args.bool(a) == Some(true)),
            // Before the page view, or while consent is off, a `page` call is kept for
            // the view it declares.
            "page" if self.page.is_none() || !self.allowed() => {
                self.declared = Some((args, a, self.location[3].clone()));
            }
            _ => self.track(&args, a, io::now_ms()),
        }
    }

    /// An event of the page API at `now` (see [`Snippet::command`]): `at` is the
    /// node of its name in `args`, its properties and item fields follow.
    fn track(&mut self, args: &Doc, at: usize, now: u64) {
        let props = args.next(at);
        let mut item = [""; 4];
        for (slot, (_, v)) in item.iter_mut().zip(args.items(args.next(props))) {
            *slot = cut(args.str(v).unwrap_or_default(), limits::VALUE);
        }
        let [id, name, category, price] = item;
        let props = TextFields {
            doc: args,
            node: if args.tag(props) == Tag::Obj {
                props
            } else {
                usize::MAX
            },
        };
        let event = args.str(at).unwrap_or_default();
        self.handle(
            event,
            props,
            Item {
                id,
                name,
                category,
                price,
            },
            now,
        );
    }

    /// Re-evaluates the current page's time-based conditions (dwell, a sequence's
    /// wait), when the loader's timer says it is time.
    fn wake(&mut self) {
        let now = io::now_ms();
        if self.wake_at == 0 || self.wake_at > now || !self.allowed() {
            return;
        }
        self.wake_at = 0;
        if self.page.is_some() {
            self.evaluate(PAGE_VIEW, TextFields::none(), Item::default(), now, true);
        }
    }

    /// Hands the loader what happened (see [`enter`]): `[traces, wake, send]`.
    /// `traces` are the evaluations' traces, which the loader publishes; one whose
    /// triggers fired says which, and the loader makes their events, keeps them in
    /// the outbox (stores, bounds, sends and retries them: web/loader.js), and holds
    /// the trace until the relay answered, so that it shows what was sent. `wake` is
    /// when [`Snippet::wake`] is due, in ms since the epoch (0: it is not; the loader
    /// times the outbox's retries itself), and `send` whether events may be
    /// sent now (consent, and privacy signals where the config respects them: events
    /// queued on an earlier page wait while not).
    fn out(&mut self) {
        let mut out = String::from("[[");
        out.push_str(&core::mem::take(&mut self.traces));
        out.push_str("],");
        json::push_num(&mut out, self.wake_at);
        out.push_str(if self.allowed() { ",true]" } else { ",false]" });
        io::out(&out);
    }

    /// An event the relay will never deliver (refused, or given up by the loader):
    /// its trigger is not resting, so it may fire again rather than stay quiet for
    /// nothing. `at` is the node of the trigger's id in `args`; the profile and the
    /// time it fired follow.
    fn lift(&self, args: &Doc, at: usize) {
        let profile = args.next(at);
        let fired = args.u64(args.next(profile)).unwrap_or_default();
        let store = Store::open(args.str(profile).unwrap_or_default());
        let mut stops = store.stops();
        stops.unset(args.str(at).unwrap_or_default(), Some(fired));
        store.save_stops(&stops);
    }
}

/// The snippet of this page: a WebAssembly instance has one thread, and the loader
/// starts one snippet per instance.
struct Global(core::cell::RefCell<Option<Snippet>>);

// SAFETY: wasm32-unknown-unknown without the atomics feature runs one thread, so the
// cell is never shared between threads. (The crate's only other `unsafe` is the
// allocator, for the same reason.)
#[allow(unsafe_code)]
unsafe impl Sync for Global {}

static SNIPPET: Global = Global(core::cell::RefCell::new(None));

/// What the loader asks of the snippet with [`enter`].
pub mod op {
    /// Read the config and start: `[.., wordless, debug_param, config]`.
    pub const START: u32 = 0;
    /// A page view, if the URL changed since the last one.
    pub const NAVIGATE: u32 = 1;
    /// A page API call: `[.., name, a, b, the item's fields]` (see
    /// `Snippet::command`).
    pub const COMMAND: u32 = 2;
    /// Look at the page's timed conditions again.
    pub const WAKE: u32 = 3;
    /// An event that will never be delivered: `[.., trigger, profile, fired at]`.
    pub const LIFT: u32 = 4;
}

/// [`enter`]'s answer to [`op::START`]: started.
pub const STARTED: u32 = 1;
/// [`enter`]'s answer to [`op::START`]: declined, because the config has a problem or
/// asks for debugging and this build has no words for that: the loader starts the
/// explaining build instead, which reads the same config and says what is wrong.
/// (Never from the explaining build.)
pub const WANTS_WORDS: u32 = 2;

/// The one entry point: `op` (see [`op`]) with its arguments as a JSON array, whose
/// first four are where the page is (see [`location`]). After each call the snippet
/// gives the loader what happened through `io.out` ([`Snippet::out`]).
///
/// One function taking JSON rather than one per operation with typed parameters:
/// each exported function costs a wrapper in wasm-bindgen's glue and a shim in the
/// wasm, and each string parameter or result more of both, which was 2 KB of the
/// download; the arguments are read with the same document reader as the config.
#[wasm_bindgen]
pub fn enter(op: u32, args: String) -> u32 {
    let args = Doc::parse_or_empty(args);
    // The fifth argument onwards, per operation.
    let first = args.next(args.next(args.next(args.next(1))));
    let Ok(mut cell) = SNIPPET.0.try_borrow_mut() else {
        // A call from inside a call: the loader makes one at a time.
        return 0;
    };
    if op == op::START {
        let mut flags = [false; 2];
        let mut at = first;
        for flag in &mut flags {
            *flag = args.bool(at).unwrap_or_default();
            at = args.next(at);
        }
        let location = location(&args);
        *cell = Snippet::start(args, flags, at);
        let Some(s) = cell.as_mut() else {
            return if config::wants_words() {
                WANTS_WORDS
            } else {
                0
            };
        };
        s.location = location;
        s.out();
        return STARTED;
    }
    let Some(s) = cell.as_mut() else {
        return 0;
    };
    s.location = location(&args);
    match op {
        op::NAVIGATE => s.navigate(),
        op::COMMAND => s.command(args, first),
        op::WAKE => s.wake(),
        op::LIFT => s.lift(&args, first),
        _ => {}
    }
    s.out();
    0
}

impl Snippet {
    /// Whether anything may be evaluated, stored or sent.
    fn allowed(&self) -> bool {
        self.consent && !(self.config.respect_privacy_signals && io::privacy_signal())
    }

    /// The profile as a JSON object: the text of its document's root, which
    /// `config::profile` wrote (the document's decoded escapes come after it); `{}`
    /// for an anonymous visitor after `reset`.
    fn profile_json(&self) -> &str {
        let root = self.profile.node(0);
        if root.tag == Tag::Obj {
            self.profile.at(root.span)
        } else {
            "{}"
        }
    }

    fn is_known(&self) -> bool {
        !config::profile_id(&self.profile).is_empty()
    }

    fn set_consent(&mut self, granted: bool) {
        let was = self.allowed();
        self.consent = granted;
        if !granted {
            // Withdrawn: nothing stays behind, queued events included.
            io::wipe();
            self.store.forget();
            self.traces.clear();
            self.wake_at = 0;
            return;
        }
        if self.config.respect_privacy_signals && io::privacy_signal() {
            io::warn(&[
                "consent was given, but the browser sends Global Privacy Control or Do Not Track and respectPrivacySignals is on: nothing is evaluated",
            ]);
            return;
        }
        if !was && self.viewed {
            // Granted later: the page the visitor is on counts, without a reload.
            self.page = None;
            self.navigate();
        }
    }

    fn identify(&mut self, args: &Doc, profile: usize, identity: usize) {
        let fields = config::profile(args, Some(profile), false);
        let id = config::profile_id(&fields);
        if id.is_empty() {
            io::warn(&[
                "sitehook.identify needs a profile with a profileid, e.g. { profileid: \"p-123\" }",
            ]);
            return;
        }
        let identity = match args.str(identity).filter(|i| !i.is_empty()) {
            Some(i) if i.len() <= limits::VALUE => Some(String::from(i)),
            too_long => {
                if too_long.is_some() {
                    io::warn(&[
                        "sitehook.identify: the identity is longer than 1024 bytes; ignored",
                    ]);
                }
                // The same profile again without one keeps the identity it had.
                if id == config::profile_id(&self.profile) {
                    self.identity.clone()
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
    fn switch_profile(&mut self, profile: Doc, identity: Option<String>) {
        let from_anonymous = !self.is_known();
        // Signing out is never the same profile: it starts an empty anonymous
        // history even for a visitor who was anonymous already.
        let id = config::profile_id(&profile);
        let same = !id.is_empty() && id == config::profile_id(&self.profile);
        self.profile = profile;
        self.identity = identity;
        if same {
            return;
        }
        let mut next = Store::open(config::profile_id(&self.profile));
        if from_anonymous && self.is_known() && self.allowed() {
            let mut history = next.history();
            history.merge(&self.store.history());
            next.save_history(&history);
            self.store.clear_history();
        } else if !self.is_known() {
            next.clear_history();
        }
        self.store = next;
    }

    fn page_type_matches(&self, slot: usize, now: u64) -> bool {
        let Some(condition) = self.config.pages[slot] else {
            return false;
        };
        let Some(page) = &self.page else {
            return false;
        };
        // The page view just recorded, as a history of one: page types are told by
        // the page (its URL), and blocked storage must not hide them.
        let session = self.store.session();
        let history = History::of(&[Entry {
            session: session.number.max(1),
            ..Entry::page_view(now, url_parts(&page.url).1)
        }]);
        let Some(current) = history.visits().last() else {
            return false;
        };
        let here = self.here(TextFields::none(), Item::default(), now, session);
        Scope::of_current(
            now,
            current,
            &history,
            &here,
            &self.config.program,
            &io::Patterns,
        )
        .holds(condition as usize)
    }

    /// Records an event and evaluates the triggers that listen to it.
    fn handle(&mut self, event: &str, props: TextFields<'_>, item: Item<'_>, now: u64) {
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

    fn evaluate(
        &mut self,
        event: &str,
        props: TextFields<'_>,
        item: Item<'_>,
        now: u64,
        wake: bool,
    ) {
        let Some(page) = &self.page else {
            return;
        };
        let eval_start = io::now();
        let mut session = self.store.session();
        if !wake {
            session = session.at(now);
            self.store.save_session(session);
        }
        let mut history = self.store.history();
        let path = url_parts(&page.url).1;
        let index = if wake {
            // The page's own view, recorded when it arrived.
            find(&history, page.at, PAGE_VIEW)
        } else {
            history.push(Entry {
                at: now,
                event,
                path,
                session: session.number,
                item: item.id,
                category: item.category,
                value: item.price,
            });
            history.prune(now, self.config.lookback());
            self.store.save_history(&history);
            // Pruning may have moved it: it is the newest such event at `now`. None
            // only when the clock stepped back past a full history's oldest entry:
            // this event was the one dropped.
            find(&history, now, event)
        };
        let Some(current) = history.visits().get(index) else {
            return;
        };
        let mut trace = trace::Trace::new(event, path, self.config.debug());
        let mut stops = self.store.stops();
        // Which triggers fired, by their position in the config's list: the loader
        // makes their events (web/loader.js `event`).
        let mut fired = Vec::new();
        let here = self.here(props, item, now, session);
        let program = &self.config.program;
        let scope = Scope::of_current(now, current, &history, &here, program, &io::Patterns);
        // The decisions alone, apart from storage: what the trigger count drives.
        let deciding = io::now();
        for (n, trigger) in self.config.triggers.iter().enumerate() {
            if trigger.on(program) != event {
                continue;
            }
            // Looking again on a timer: what already fired on this page is done.
            if wake && page.fired.contains(&n) {
                continue;
            }
            let id = self.config.at(trigger.id);
            let decision = trigger.decide(event, scope, stops.get(id));
            let why = if trace.debug() {
                why_not(trigger, decision, scope)
            } else {
                None
            };
            trace.record(id, decision, why);
            if decision == Decision::Fire {
                stops.set(id, now);
                fired.push(n);
            }
        }
        let decided = io::now();
        // What the loader needs to make the events: `"fired": [positions], "at":
        // when, "v": {"profile", "identity"?, "page": {"url", "title", "referrer"},
        // "p": the profile id}` (the profile as the snippet read it: text fields).
        let mut extra = String::new();
        if !fired.is_empty() {
            extra.push_str(",\"fired\":[");
            for (i, n) in fired.iter().enumerate() {
                if i > 0 {
                    extra.push(',');
                }
                let position = self.config.triggers.get(*n).map_or(0, |t| t.position);
                json::push_num(&mut extra, position.into());
            }
            extra.push_str("],\"at\":");
            json::push_num(&mut extra, now);
            // The profile's fields written out (its document's text may have decoded
            // escapes after the object, and an anonymous visitor has none).
            extra.push_str(",\"v\":{\"profile\":");
            extra.push_str(self.profile_json());
            if let Some(identity) = &self.identity {
                json::push_key(&mut extra, "identity", false);
                json::push_str(&mut extra, identity);
            }
            extra.push_str(",\"page\":{");
            for (i, (key, text, max)) in [
                ("url", here.url, limits::URL),
                ("title", here.title, limits::VALUE),
                ("referrer", here.referrer, limits::URL),
            ]
            .into_iter()
            .enumerate()
            {
                json::push_key(&mut extra, key, i == 0);
                json::push_str(&mut extra, cut(text, max));
            }
            extra.push_str("},\"p\":");
            json::push_str(&mut extra, config::profile_id(&self.profile));
            extra.push('}');
        }
        self.store.save_stops(&stops);
        // Any event can start the clock of a timed page-view trigger (a cart update
        // begins the abandoned-cart wait), so the timer is planned after each one.
        let wake_at = self.plan_wake(&history, &here, now, &fired);
        self.wake_at = wake_at;
        if let Some(p) = self.page.as_mut() {
            p.fired.extend(fired);
        }
        self.store.keep_history(history);
        let evaluated = io::now();
        trace.eval_us = ((decided - deciding) * 1000.0) as u64;
        trace.handle_us = ((evaluated - eval_start) * 1000.0) as u64;
        trace.total_us = ((evaluated - self.started) * 1000.0) as u64;
        self.publish(&trace, &extra);
    }

    /// Keeps `trace` for the loader to publish, with `fired` (see
    /// [`trace::Trace::write_json`]).
    fn publish(&mut self, trace: &trace::Trace, fired: &str) {
        if !self.traces.is_empty() {
            self.traces.push(',');
        }
        trace.write_json(&mut self.traces, fired);
    }

    /// When time alone may make a page-view trigger hold on this page (dwell, a
    /// sequence's `for`): the earliest such moment within [`MAX_WAKE_MS`]. `fired`:
    /// the triggers that fired just now, besides those the page already noted. 0 when
    /// there is nothing to wait for.
    fn plan_wake(&self, history: &History, here: &Here, now: u64, fired: &[usize]) -> u64 {
        let Some(page) = &self.page else {
            return 0;
        };
        let Some(current) = history.visits().get(find(history, page.at, PAGE_VIEW)) else {
            return 0;
        };
        // Seen from the page view: the last event's properties are not the page's.
        let here = Here {
            props: TextFields::none(),
            item_name: "",
            ..*here
        };
        let program = &self.config.program;
        let scope = Scope::of_current(now, current, history, &here, program, &io::Patterns);
        let mut earliest = 0;
        for (n, t) in self.config.triggers.iter().enumerate() {
            if t.on(program) != PAGE_VIEW || page.fired.contains(&n) || fired.contains(&n) {
                continue;
            }
            let at = t.wake(scope);
            if at <= now + MAX_WAKE_MS {
                earliest = sooner(earliest, at);
            }
        }
        earliest
    }

    fn here<'a>(
        &'a self,
        props: TextFields<'a>,
        item: Item<'a>,
        now: u64,
        session: storage::Session,
    ) -> Here<'a> {
        // The page's URL and referrer as it arrived; its title as it is now (a page
        // may set it after the view, a single-page app usually does).
        let (url, referrer, page_started) = match &self.page {
            Some(p) => (&p.url, &p.referrer, p.at),
            None => (&self.location[0], &self.location[2], now),
        };
        let title = &self.location[1];
        // Its host and query as the view had them: another query is another page view,
        // except for campaign parameters, which a site may remove after landing and
        // which must still count (see `location`). Its hash as it is now: an anchor is
        // no new page view, but a condition on `hash` sees it.
        let (host, _, query, _) = url_parts(url);
        let hash = url_parts(&self.location[0]).3;
        Here {
            url,
            host,
            query,
            hash,
            referrer,
            title,
            item_name: item.name,
            props,
            profile: TextFields {
                doc: &self.profile,
                node: 0,
            },
            known: self.is_known(),
            session_started: session.started,
            page_started,
        }
    }
}

/// Where the page is, the first four arguments of each [`enter`]:
/// `location.href`, `document.title`, `document.referrer`, and the page's key, by
/// which a navigation is a new page view or not: the URL without its anchor (`#faq`;
/// a hash route, `#/cart`, stays) or campaign parameters (`utm_*`, ad click ids),
/// which sites remove with `replaceState` right after landing (web/loader.js
/// `pageKey`).
fn location(args: &Doc) -> [String; 4] {
    let mut out: [String; 4] = Default::default();
    let mut at = 1;
    for slot in &mut out {
        slot.push_str(args.str(at).unwrap_or_default());
        at = args.next(at);
    }
    out
}

/// The index of the newest event `event` at `at` in `history` (past the end when
/// there is none).
fn find(history: &History, at: u64, event: &str) -> usize {
    history
        .visits()
        .iter()
        .rposition(|v| v.at == at && history.at(v.event) == event)
        .unwrap_or(usize::MAX)
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
                (at, _) if at != u64::MAX => {
                    // In whole units, rounded down: "for another 29d".
                    let left = at.saturating_sub(scope.now);
                    let (n, unit) = [(86_400_000, "d"), (3_600_000, "h"), (60_000, "m")]
                        .into_iter()
                        .find(|(per, _)| left >= *per)
                        .map_or((left / 1000, "s"), |(per, u)| (left / per, u));
                    why.push_str("for another ");
                    json::push_num(&mut why, n);
                    why.push_str(unit);
                }
                (_, Some(sitehook_core::Limit::Session)) => {
                    why.push_str("until the next session (restartAfter: \"session\")")
                }
                (_, Some(sitehook_core::Limit::Page)) => {
                    why.push_str("until the next page (restartAfter: \"page\")")
                }
                (_, _) => why.push_str("for good (restartAfter: \"never\")"),
            }
            Some(why)
        }
        Decision::OtherEvent | Decision::Fire => None,
    }
}
