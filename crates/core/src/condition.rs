//! The condition language and its evaluation.
//!
//! Conditions are written as one-key objects, the key naming the kind:
//!
//! ```js
//! { all: [
//!   { path: { startsWith: "/pricing" } },
//!   { "query.utm_source": { equals: "newsletter", ignoreCase: true } },
//!   { count: { of: { path: { startsWith: "/pricing" } }, atLeast: 3, within: "7d" } }
//! ]}
//! ```
//!
//! A value test names an [`Operand`] (`path`, `item.price`, `profile.gender`, ...)
//! and a [`Test`] (`{ gte: 100 }`); `all`, `any` and `not` combine; `count` and
//! `sequence` look into the stored history.

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use crate::duration::Duration;
use crate::fields::Fields;
use crate::history::{History, Visit};
use crate::matcher::{Patterns, Test};
use crate::value::{ConfigError, Value, boxed, index, join, object, one_of, push_u64};

/// How deep conditions may nest; deeper configs are rejected rather than risking the
/// stack on a hostile or generated config.
pub const MAX_DEPTH: usize = 16;

/// A condition on the current event and the stored history.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// Every condition holds (an empty list holds).
    All(Vec<Condition>),
    /// At least one condition holds (an empty list does not).
    Any(Vec<Condition>),
    /// The condition does not hold.
    Not(Box<Condition>),
    /// A value passes a test: `{ path: { startsWith: "/pricing" } }`.
    Test(Operand, Test),
    /// The visitor is (`true`) or is not (`false`) a known profile.
    Known(bool),
    /// Enough past events (the current one included) match.
    Count(Box<Count>),
    /// Events matched these steps in order.
    Sequence(Box<Sequence>),
}

/// What a test looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    /// The page's full URL.
    Url,
    /// The page's path, e.g. `/pricing`.
    Path,
    /// The page's host name, e.g. `shop.example.com`.
    Host,
    /// The fragment, with its `#` (`""` when none).
    Hash,
    /// The referring URL: the previous page for a single-page-app navigation.
    Referrer,
    /// The document's title.
    Title,
    /// The event's name (`page_view`, `item_view`, a custom name).
    Event,
    /// A query parameter of the page's URL, decoded.
    Query(String),
    /// The item's id.
    ItemId,
    /// The item's name.
    ItemName,
    /// The item's (or category page's) category.
    ItemCategory,
    /// The item's price, or the value of a `cart_update` or `conversion`.
    ItemPrice,
    /// A property of the event, from `sitehook.track(name, props)`.
    Prop(String),
    /// A profile field.
    Profile(String),
    /// How many sessions the visitor has had, this one included.
    Sessions,
    /// Whole seconds since this page was viewed.
    Dwell,
}

/// The window of history a `count` or `sequence` looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// All of the stored history.
    All,
    /// This long before now.
    Last(Duration),
    /// The current session.
    Session,
}

/// "At least N events matching `of` within a window."
#[derive(Debug, Clone, PartialEq)]
pub struct Count {
    /// Which events count; every page view when absent.
    pub of: Option<Condition>,
    /// Whether only page views count: when `of` says nothing about the event, "3
    /// views of /pricing" must not also count the item views and tracked events
    /// that share the page's path.
    pub views_only: bool,
    /// How many are needed (at least 1).
    pub at_least: u32,
    /// How far back to look.
    pub within: Window,
}

/// "Events matching these steps, in this order, within a window; then, optionally,
/// nothing matching `absent` for a while": viewed a product, then the cart, and no
/// conversion for 30 minutes.
#[derive(Debug, Clone, PartialEq)]
pub struct Sequence {
    /// The steps, each matched by a later event than the one before.
    pub steps: Vec<Condition>,
    /// The first step must fall within this window.
    pub within: Window,
    /// No event after the last step matches this.
    pub absent: Option<Condition>,
    /// At least this long has passed since the last step.
    pub wait: Option<Duration>,
}

/// What is known about the current event beyond its stored [`Visit`]: the page, the
/// event's properties and the visitor.
#[derive(Debug, Clone, Default)]
pub struct Here {
    /// The page's full URL.
    pub url: String,
    /// The page's host name.
    pub host: String,
    /// The query string, with its `?` (or without; both are read).
    pub query: String,
    /// The fragment, with its `#`.
    pub hash: String,
    /// The referring URL.
    pub referrer: String,
    /// The document's title.
    pub title: String,
    /// The item's name, when the page declared an item.
    pub item_name: String,
    /// The event's properties, as text.
    pub props: Fields,
    /// The visitor's profile fields.
    pub profile: Fields,
    /// Whether the visitor is a known profile.
    pub known: bool,
    /// When the current session started (ms since the epoch).
    pub session_started: u64,
    /// When the current page was viewed (ms since the epoch).
    pub page_started: u64,
}

/// What a condition is evaluated against.
#[derive(Clone, Copy)]
pub struct Scope<'a> {
    /// The time of evaluation, in milliseconds since the Unix epoch.
    pub now: u64,
    /// The event being looked at: the current one, or a stored one inside `count`
    /// and `sequence`.
    pub visit: &'a Visit,
    /// The current event. Page-level values (URL, title, properties) exist only for it:
    /// stored events keep their event, path, session and item fields.
    pub current: &'a Visit,
    /// The stored history, which already includes the current event.
    pub history: &'a History,
    /// The page, the event's properties and the visitor.
    pub here: &'a Here,
    /// The regular expression engine.
    pub patterns: &'a dyn Patterns,
}

impl<'a> Scope<'a> {
    /// The scope of the current event, `current`: the event looked at until a
    /// `count` or `sequence` steps through the stored ones.
    pub fn of_current(
        now: u64,
        current: &'a Visit,
        history: &'a History,
        here: &'a Here,
        patterns: &'a dyn Patterns,
    ) -> Self {
        Scope {
            now,
            visit: current,
            current,
            history,
            here,
            patterns,
        }
    }
}

/// The UTM parameters `utm.X` may name.
const UTM: &[&str] = &["source", "medium", "campaign", "term", "content"];

const KINDS: &[&str] = &[
    "all",
    "any",
    "not",
    "count",
    "sequence",
    "known",
    "url",
    "path",
    "host",
    "hash",
    "referrer",
    "title",
    "event",
    "query.NAME",
    "utm.source",
    "utm.medium",
    "utm.campaign",
    "utm.term",
    "utm.content",
    "item.id",
    "item.name",
    "item.category",
    "item.price",
    "props.NAME",
    "profile.NAME",
    "sessions",
    "dwell",
];

impl Operand {
    /// The operand named by a condition key, e.g. `"query.utm_source"`.
    fn parse(key: &str) -> Option<Operand> {
        let named = |prefix: &str| {
            key.strip_prefix(prefix)
                .filter(|n| !n.is_empty())
                .map(String::from)
        };
        if let Some(n) = named("query.") {
            return Some(Operand::Query(n));
        }
        if let Some(n) = named("props.") {
            return Some(Operand::Prop(n));
        }
        if let Some(n) = named("profile.") {
            return Some(Operand::Profile(n));
        }
        if let Some(n) = named("utm.") {
            // The five standard parameters only: `utm.sorce` is a typo, not a
            // parameter nobody sends.
            if !UTM.contains(&n.as_str()) {
                return None;
            }
            let mut q = String::from("utm_");
            q.push_str(&n);
            return Some(Operand::Query(q));
        }
        Some(match key {
            "url" => Operand::Url,
            "path" => Operand::Path,
            "host" => Operand::Host,
            "hash" => Operand::Hash,
            "referrer" => Operand::Referrer,
            "title" => Operand::Title,
            "event" => Operand::Event,
            "item.id" => Operand::ItemId,
            "item.name" => Operand::ItemName,
            "item.category" => Operand::ItemCategory,
            "item.price" => Operand::ItemPrice,
            "sessions" => Operand::Sessions,
            "dwell" => Operand::Dwell,
            _ => return None,
        })
    }

    /// The operand's name as written in configs, for traces.
    pub fn name(&self) -> Cow<'static, str> {
        let prefixed = |p: &str, n: &str| {
            let mut s = String::from(p);
            s.push_str(n);
            Cow::Owned(s)
        };
        Cow::Borrowed(match self {
            Operand::Url => "url",
            Operand::Path => "path",
            Operand::Host => "host",
            Operand::Hash => "hash",
            Operand::Referrer => "referrer",
            Operand::Title => "title",
            Operand::Event => "event",
            Operand::Query(n) => return prefixed("query.", n),
            Operand::ItemId => "item.id",
            Operand::ItemName => "item.name",
            Operand::ItemCategory => "item.category",
            Operand::ItemPrice => "item.price",
            Operand::Prop(n) => return prefixed("props.", n),
            Operand::Profile(n) => return prefixed("profile.", n),
            Operand::Sessions => "sessions",
            Operand::Dwell => "dwell",
        })
    }

    /// The operand's value in `scope`; `None` when there is none (a missing query
    /// parameter, a page-level value of a stored event).
    pub fn read<'s>(&self, scope: &Scope<'s>) -> Option<Cow<'s, str>> {
        let v = scope.visit;
        let here = scope.here;
        let current = core::ptr::eq(v, scope.current);
        let some = |s: &'s str| Some(Cow::Borrowed(s));
        let nonempty = |s: &'s str| (!s.is_empty()).then_some(Cow::Borrowed(s));
        match self {
            Operand::Path => some(&v.path),
            Operand::Event => some(&v.event),
            Operand::ItemId => nonempty(&v.item),
            Operand::ItemCategory => nonempty(&v.category),
            Operand::ItemPrice => nonempty(&v.value),
            Operand::Profile(n) => here.profile.get(n).map(|s| Cow::Borrowed(s.as_str())),
            Operand::Sessions => {
                let mut s = String::new();
                push_u64(&mut s, v.session.into());
                Some(Cow::Owned(s))
            }
            _ if !current => None,
            Operand::Url => some(&here.url),
            Operand::Host => some(&here.host),
            Operand::Hash => some(&here.hash),
            Operand::Referrer => some(&here.referrer),
            Operand::Title => some(&here.title),
            Operand::ItemName => nonempty(&here.item_name),
            Operand::Query(n) => scope.patterns.query_param(&here.query, n).map(Cow::Owned),
            Operand::Prop(n) => here.props.get(n).map(|s| Cow::Borrowed(s.as_str())),
            Operand::Dwell => {
                let mut s = String::new();
                push_u64(&mut s, scope.now.saturating_sub(here.page_started) / 1000);
                Some(Cow::Owned(s))
            }
        }
    }
}

/// The first value of query parameter `name` in `query` (`?a=1&b=2`), decoded
/// (`%20` and `+` as spaces); `Some("")` for a parameter without a value.
pub fn query_param(query: &str, name: &str) -> Option<String> {
    let query = query.strip_prefix('?').unwrap_or(query);
    for pair in query.as_bytes().split(|b| *b == b'&') {
        let (key, value) = match pair.iter().position(|b| *b == b'=') {
            Some(at) => (&pair[..at], &pair[at + 1..]),
            None => (pair, &b""[..]),
        };
        if decode(key) == name {
            return Some(decode(value));
        }
    }
    None
}

/// Percent-decoding, `+` as a space; invalid escapes and invalid UTF-8 are kept as
/// they are rather than failing: the URL came from the address bar.
fn decode(raw: &[u8]) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < raw.len() => match (hex(raw[i + 1]), hex(raw[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    // Escapes that do not decode to UTF-8 are compared as written.
    String::from_utf8(out).unwrap_or_else(|_| String::from_utf8(raw.to_vec()).unwrap_or_default())
}

impl Window {
    fn parse(value: Option<&Value>, path: &str) -> Result<Window, ConfigError> {
        match value {
            None | Some(Value::Null) => Ok(Window::All),
            Some(Value::Str(s)) if s.trim_ascii() == "session" => Ok(Window::Session),
            Some(v) => {
                let text = crate::value::string(Some(v), path)?;
                Duration::parse(&text).map(Window::Last).map_err(|_| {
                    ConfigError::new(
                        path,
                        "expected \"session\" or a duration such as \"30m\", \"7d\"",
                    )
                })
            }
        }
    }

    /// Whether `visit` falls inside the window at `scope`.
    fn holds(self, visit: &Visit, scope: &Scope<'_>) -> bool {
        match self {
            Window::All => true,
            Window::Last(d) => visit.at >= scope.now.saturating_sub(d.as_millis()),
            Window::Session => visit.session == scope.current.session,
        }
    }

    fn text(self, out: &mut String) {
        match self {
            Window::All => {}
            Window::Last(d) => {
                out.push_str(" within ");
                out.push_str(&d.text());
            }
            Window::Session => out.push_str(" this session"),
        }
    }

    /// How far back the window reaches, for pruning (`None`: unbounded).
    fn lookback(self) -> Option<u64> {
        match self {
            Window::Last(d) => Some(d.as_millis()),
            Window::All | Window::Session => None,
        }
    }
}

impl Condition {
    /// Parses a condition at `path` (e.g. `"if"`).
    pub fn from_value(
        value: &Value,
        path: &str,
        patterns: &dyn Patterns,
    ) -> Result<Condition, ConfigError> {
        Condition::parse(value, path, 0, patterns)
    }

    fn parse(
        value: &Value,
        path: &str,
        depth: usize,
        patterns: &dyn Patterns,
    ) -> Result<Condition, ConfigError> {
        if depth >= MAX_DEPTH {
            return Err(ConfigError::new(
                path,
                "conditions nest too deeply (at most 16 levels)",
            ));
        }
        // Operands with a name (`query.utm_source`) are open-ended: look them up
        // before the fixed list, which is there for suggestions.
        let (kind, inner) = match value {
            Value::Obj(entries)
                if entries.len() == 1 && Operand::parse(&entries[0].0).is_some() =>
            {
                (entries[0].0.as_str(), &entries[0].1)
            }
            _ => one_of(value, path, "condition", KINDS)?,
        };
        let at = join(path, kind);
        let list = |inner: &Value| -> Result<Vec<Condition>, ConfigError> {
            let Value::Arr(items) = inner else {
                return Err(ConfigError::new(&at, "must be a list of conditions"));
            };
            Condition::parse_list(items, &at, depth + 1, patterns)
        };
        Ok(match kind {
            "all" => Condition::All(list(inner)?),
            "any" => Condition::Any(list(inner)?),
            "not" => Condition::Not(boxed(Condition::parse(inner, &at, depth + 1, patterns))?),
            "count" => Condition::Count(boxed(Count::parse(inner, &at, depth, patterns))?),
            "sequence" => Condition::Sequence(boxed(Sequence::parse(inner, &at, depth, patterns))?),
            "known" => match inner {
                Value::Bool(b) => Condition::Known(*b),
                _ => return Err(ConfigError::new(&at, "must be true or false")),
            },
            _ => match Operand::parse(kind) {
                Some(operand) => Condition::Test(operand, Test::from_value(inner, &at, patterns)?),
                // `query.NAME` and friends, written without a name.
                None => {
                    return Err(ConfigError::new(
                        &at,
                        "needs a name after the dot, e.g. \"query.utm_source\"",
                    ));
                }
            },
        })
    }

    /// Parses the conditions of a list at `path`. A loop rather than
    /// `collect::<Result<..>>()`, whose adapters are a kilobyte of the snippet.
    fn parse_list(
        items: &[Value],
        path: &str,
        depth: usize,
        patterns: &dyn Patterns,
    ) -> Result<Vec<Condition>, ConfigError> {
        let mut out = Vec::with_capacity(items.len());
        for (i, c) in items.iter().enumerate() {
            out.push(Condition::parse(c, &index(path, i), depth, patterns)?);
        }
        Ok(out)
    }

    /// Whether the condition tests the event's name itself (outside nested counts
    /// and sequences, which look at events of their own).
    fn tests_event(&self) -> bool {
        match self {
            Condition::All(cs) | Condition::Any(cs) => cs.iter().any(Condition::tests_event),
            Condition::Not(c) => c.tests_event(),
            Condition::Test(operand, _) => *operand == Operand::Event,
            _ => false,
        }
    }

    /// Whether the condition holds in `scope`.
    pub fn eval(&self, scope: Scope<'_>) -> bool {
        match self {
            Condition::All(all) => all.iter().all(|c| c.eval(scope)),
            Condition::Any(any) => any.iter().any(|c| c.eval(scope)),
            Condition::Not(c) => !c.eval(scope),
            Condition::Test(operand, test) => {
                test.matches(operand.read(&scope).as_deref(), scope.patterns)
            }
            Condition::Known(want) => scope.here.known == *want,
            Condition::Count(count) => count.seen(scope) >= count.at_least,
            Condition::Sequence(seq) => seq.failure(scope).is_none(),
        }
    }

    /// Why the condition does not hold in `scope`: the first failing part, in words,
    /// e.g. `path is "/home", wanted: starting with "/pricing"`; `None` when it holds.
    /// For the trigger trace, so it is only worked out when someone is looking.
    pub fn why_not(&self, scope: Scope<'_>) -> Option<String> {
        match self {
            Condition::All(all) => all.iter().find_map(|c| c.why_not(scope)),
            Condition::Any(any) => {
                let Some(first) = any.first() else {
                    return Some(String::from("an empty \"any\" list never holds"));
                };
                let first = first.why_not(scope)?;
                if any.iter().any(|c| c.eval(scope)) {
                    return None;
                }
                let mut out = String::from("none of the \"any\" conditions held; the first: ");
                out.push_str(&first);
                Some(out)
            }
            Condition::Not(c) => (c.eval(scope)).then(|| String::from("a \"not\" condition held")),
            Condition::Test(operand, test) => {
                let value = operand.read(&scope);
                if test.matches(value.as_deref(), scope.patterns) {
                    return None;
                }
                let mut out = String::from(operand.name());
                match value {
                    Some(v) => {
                        out.push_str(" is ");
                        crate::json::push_str(&mut out, &v);
                    }
                    None => out.push_str(" is missing"),
                }
                out.push_str(", wanted: ");
                out.push_str(&test.describe());
                Some(out)
            }
            Condition::Known(want) => (scope.here.known != *want).then(|| {
                String::from(if *want {
                    "the visitor is anonymous"
                } else {
                    "the visitor is a known profile"
                })
            }),
            Condition::Count(count) => {
                let seen = count.seen(scope);
                if seen >= count.at_least {
                    return None;
                }
                let mut out = String::from("count: ");
                crate::json::push_num(&mut out, seen.into());
                out.push_str(if count.views_only {
                    " matching view(s)"
                } else {
                    " matching event(s)"
                });
                count.within.text(&mut out);
                out.push_str(", needs ");
                crate::json::push_num(&mut out, count.at_least.into());
                Some(out)
            }
            Condition::Sequence(seq) => seq.failure(scope).map(|f| seq.why_not(f)),
        }
    }

    /// The longest time window this condition looks back over, so the history can be
    /// pruned to what the triggers need. `None` means "the whole history".
    pub fn lookback(&self) -> Option<u64> {
        let max = |cs: &[Condition]| {
            let mut max = 0;
            for c in cs {
                max = c.lookback()?.max(max);
            }
            Some(max)
        };
        match self {
            Condition::All(cs) | Condition::Any(cs) => max(cs),
            Condition::Not(c) => c.lookback(),
            Condition::Test(..) | Condition::Known(_) => Some(0),
            Condition::Count(count) => {
                let own = count.within.lookback()?;
                match &count.of {
                    Some(of) => of.lookback().map(|l| l.max(own)),
                    None => Some(own),
                }
            }
            Condition::Sequence(seq) => {
                let own = seq.within.lookback()?;
                let steps = max(&seq.steps)?;
                let absent = seq.absent.as_ref().map_or(Some(0), Condition::lookback)?;
                Some(own.max(steps).max(absent))
            }
        }
    }

    /// The earliest time after `scope.now` at which this condition may come to hold
    /// by time passing alone (a dwell time reached, a sequence's wait over), so the
    /// snippet can look again while the page stays open. `None`: nothing to wait for.
    pub fn wake(&self, scope: Scope<'_>) -> Option<u64> {
        let min = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match self {
            Condition::All(cs) | Condition::Any(cs) => {
                let mut earliest = None;
                for c in cs {
                    earliest = min(earliest, c.wake(scope));
                }
                earliest
            }
            Condition::Not(c) => c.wake(scope),
            Condition::Test(Operand::Dwell, test) if !test.not => {
                use crate::matcher::{Cmp, Op};
                let Op::Num(cmp, n) = test.op else {
                    return None;
                };
                if !(0.0..86_400.0).contains(&n) {
                    return None;
                }
                // The first whole second at which `dwell` passes.
                let floor = n as u64;
                let secs = match cmp {
                    Cmp::Gte | Cmp::Eq if (floor as f64) < n => floor + 1,
                    Cmp::Gte | Cmp::Eq => floor,
                    Cmp::Gt => floor + 1,
                    Cmp::Lt | Cmp::Lte => return None,
                };
                let at = scope.here.page_started + secs * 1000;
                (at > scope.now).then_some(at)
            }
            Condition::Sequence(seq) => {
                let wait = seq.wait?.as_millis();
                let last = seq.chain(scope)?;
                let at = last.saturating_add(wait);
                (at > scope.now && seq.absent_holds(scope, last)).then_some(at)
            }
            _ => None,
        }
    }
}

impl Count {
    fn parse(
        value: &Value,
        path: &str,
        depth: usize,
        patterns: &dyn Patterns,
    ) -> Result<Count, ConfigError> {
        object(value, path, &["of", "atLeast", "within"])?;
        let of = match value.get("of") {
            None | Some(Value::Null) => None,
            Some(of) => Some(Condition::parse(
                of,
                &join(path, "of"),
                depth + 1,
                patterns,
            )?),
        };
        let key = join(path, "atLeast");
        let at_least = match value.get("atLeast") {
            None => {
                return Err(ConfigError::new(
                    &key,
                    "is required: how many views, e.g. 3",
                ));
            }
            Some(v) => v
                .as_u64()
                .filter(|n| (1..=u32::MAX as u64).contains(n))
                .ok_or_else(|| ConfigError::new(&key, "must be a whole number, 1 or more"))?
                as u32,
        };
        let within = Window::parse(value.get("within"), &join(path, "within"))?;
        let views_only = !of.as_ref().is_some_and(Condition::tests_event);
        Ok(Count {
            views_only,
            of,
            at_least,
            within,
        })
    }

    /// How many events match, counting no further than `at_least`. Without `of`,
    /// page views count.
    fn seen(&self, scope: Scope<'_>) -> u32 {
        let mut seen = 0u32;
        // Newest first, so the common case ("3 of the last few views") stops early.
        for visit in scope.history.visits().iter().rev() {
            if visit.at > scope.now {
                continue;
            }
            if !self.within.holds(visit, &scope) {
                if matches!(self.within, Window::Last(_)) {
                    break;
                }
                continue;
            }
            let matches = (!self.views_only || visit.event == crate::trigger::PAGE_VIEW)
                && self
                    .of
                    .as_ref()
                    .is_none_or(|of| of.eval(Scope { visit, ..scope }));
            if matches {
                seen += 1;
                if seen >= self.at_least {
                    break;
                }
            }
        }
        seen
    }
}

impl Sequence {
    fn parse(
        value: &Value,
        path: &str,
        depth: usize,
        patterns: &dyn Patterns,
    ) -> Result<Sequence, ConfigError> {
        object(value, path, &["steps", "within", "absent", "for"])?;
        let at = join(path, "steps");
        let steps = match value.get("steps") {
            Some(Value::Arr(items)) if !items.is_empty() && items.len() <= 16 => {
                Condition::parse_list(items, &at, depth + 1, patterns)?
            }
            None => return Err(ConfigError::new(&at, "is required: a list of conditions")),
            Some(_) => {
                return Err(ConfigError::new(
                    &at,
                    "must be a list of 1 to 16 conditions",
                ));
            }
        };
        let absent = match value.get("absent") {
            None | Some(Value::Null) => None,
            Some(c) => Some(Condition::parse(
                c,
                &join(path, "absent"),
                depth + 1,
                patterns,
            )?),
        };
        let wait = match value.get("for") {
            None | Some(Value::Null) => None,
            Some(v) => {
                let key = join(path, "for");
                let text = crate::value::string(Some(v), &key)?;
                Some(Duration::parse(&text).map_err(|m| ConfigError::new(&key, m))?)
            }
        };
        Ok(Sequence {
            steps,
            within: Window::parse(value.get("within"), &join(path, "within"))?,
            absent,
            wait,
        })
    }

    /// The time of the last step of the latest chain of events matching the steps
    /// in order inside the window; `None` when there is no such chain.
    ///
    /// Matching from the newest event backwards, taking the latest match for each
    /// step, finds a chain whenever one exists, and the one that ends last: after a
    /// completed purchase and a new cart, it is the new cart that counts.
    fn chain(&self, scope: Scope<'_>) -> Option<u64> {
        let visits = scope.history.visits();
        let mut end = visits.partition_point(|v| v.at <= scope.now);
        let mut last = None;
        for step in self.steps.iter().rev() {
            let i = visits[..end]
                .iter()
                .rposition(|visit| step.eval(Scope { visit, ..scope }))?;
            if !self.within.holds(&visits[i], &scope) {
                return None;
            }
            last.get_or_insert(visits[i].at);
            end = i;
        }
        last
    }

    /// Whether nothing after `last` (up to now) matches `absent`.
    fn absent_holds(&self, scope: Scope<'_>, last: u64) -> bool {
        let Some(absent) = &self.absent else {
            return true;
        };
        !scope
            .history
            .visits()
            .iter()
            .filter(|v| v.at > last && v.at <= scope.now)
            .any(|visit| absent.eval(Scope { visit, ..scope }))
    }

    /// `None` when the sequence holds, else which part failed. Not a text, so that
    /// evaluating builds none: only [`Condition::why_not`] puts it in words.
    fn failure(&self, scope: Scope<'_>) -> Option<SequenceFailure> {
        let Some(last) = self.chain(scope) else {
            return Some(SequenceFailure::OutOfOrder);
        };
        if !self.absent_holds(scope, last) {
            return Some(SequenceFailure::Absent);
        }
        match self.wait {
            Some(wait) if scope.now < last.saturating_add(wait.as_millis()) => {
                Some(SequenceFailure::Waiting(wait))
            }
            _ => None,
        }
    }

    /// Why the sequence does not hold, in words.
    fn why_not(&self, failure: SequenceFailure) -> String {
        match failure {
            SequenceFailure::OutOfOrder => {
                let mut out = String::from("sequence: the steps did not happen in order");
                self.within.text(&mut out);
                out
            }
            SequenceFailure::Absent => {
                String::from("sequence: an event matching \"absent\" followed the last step")
            }
            SequenceFailure::Waiting(wait) => {
                let mut out = String::from("sequence: waiting ");
                out.push_str(&wait.text());
                out.push_str(" after the last step");
                out
            }
        }
    }
}

/// Which part of a sequence failed.
#[derive(Clone, Copy)]
enum SequenceFailure {
    /// The steps did not happen in order, within the window.
    OutOfOrder,
    /// An event matching `absent` followed the last step.
    Absent,
    /// Not enough time has passed since the last step.
    Waiting(Duration),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::tests::TestPatterns;
    use crate::value::testing::from_json;

    const MIN: u64 = 60_000;
    const DAY: u64 = 86_400_000;
    const NOW: u64 = 100 * DAY;

    fn parse(json: &str) -> Result<Condition, String> {
        Condition::from_value(&from_json(json), "if", &TestPatterns).map_err(|e| e.text())
    }

    fn cond(json: &str) -> Condition {
        parse(json).unwrap_or_else(|e| panic!("{json}: {e}"))
    }

    /// A stored event: (ms before NOW, event, path, session, item, category, value).
    type Entry<'a> = (u64, &'a str, &'a str, u32, &'a str, &'a str, &'a str);

    fn history(entries: &[Entry]) -> History {
        History::from_visits(
            entries
                .iter()
                .map(
                    |&(ago, event, path, session, item, category, value)| Visit {
                        at: NOW - ago,
                        event: event.into(),
                        path: path.into(),
                        session,
                        item: item.into(),
                        category: category.into(),
                        value: value.into(),
                    },
                )
                .collect(),
        )
    }

    fn page(ago: u64, path: &str) -> Entry<'_> {
        (ago, "page_view", path, 1, "", "", "")
    }

    fn here() -> Here {
        let mut profile = Fields::new();
        profile.insert("profileid".into(), "p-1".into());
        profile.insert("gender".into(), "f".into());
        let mut props = Fields::new();
        props.insert("plan".into(), "Team".into());
        props.insert("seats".into(), "12".into());
        Here {
            url: "https://shop.example.com/pricing?utm_source=News+Letter&q=a%20b&empty#faq".into(),
            host: "shop.example.com".into(),
            query: "?utm_source=News+Letter&q=a%20b&empty".into(),
            hash: "#faq".into(),
            referrer: "https://www.google.com/".into(),
            title: "Pricing | Shop".into(),
            item_name: "Red shoe".into(),
            props,
            profile,
            known: true,
            session_started: NOW - 10 * MIN,
            page_started: NOW - 45_000,
        }
    }

    /// Evaluates `json` with the newest entry as the current event; also checks
    /// that `why_not` agrees.
    fn eval_at(json: &str, entries: &[Entry], here: &Here, now: u64) -> bool {
        let h = history(entries);
        let current = h.visits().last().expect("an entry");
        let c = cond(json);
        let scope = Scope::of_current(now, current, &h, here, &TestPatterns);
        let got = c.eval(scope);
        assert_eq!(
            c.why_not(scope).is_none(),
            got,
            "why_not agrees with eval: {json}"
        );
        got
    }

    fn eval(json: &str, entries: &[Entry]) -> bool {
        eval_at(json, entries, &here(), NOW)
    }

    #[test]
    fn every_operand() {
        let item = (0, "item_view", "/p/shoe", 2, "sku-1", "shoes", "59.95");
        let cases: &[(&str, bool)] = &[
            (r#"{"url":{"contains":"utm_source="}}"#, true),
            (r#"{"path":{"equals":"/p/shoe"}}"#, true),
            (r#"{"host":{"endsWith":".example.com"}}"#, true),
            (r##"{"hash":{"equals":"#faq"}}"##, true),
            (r#"{"referrer":{"startsWith":"https://www.google."}}"#, true),
            (
                r#"{"title":{"startsWith":"pricing","ignoreCase":true}}"#,
                true,
            ),
            (r#"{"event":{"equals":"item_view"}}"#, true),
            (r#"{"query.q":{"equals":"a b"}}"#, true),
            (r#"{"query.empty":{"equals":""}}"#, true),
            (r#"{"query.missing":{"equals":""}}"#, false),
            (r#"{"query.missing":{"equals":"x","not":true}}"#, true),
            (
                r#"{"utm.source":{"equals":"news letter","ignoreCase":true}}"#,
                true,
            ),
            (r#"{"utm.medium":{"equals":"email"}}"#, false),
            (r#"{"item.id":{"in":["sku-1","sku-2"]}}"#, true),
            (r#"{"item.name":{"contains":"shoe"}}"#, true),
            (r#"{"item.category":{"equals":"shoes"}}"#, true),
            (r#"{"item.price":{"gte":50}}"#, true),
            (r#"{"item.price":{"lt":50}}"#, false),
            (
                r#"{"props.plan":{"equals":"team","ignoreCase":true}}"#,
                true,
            ),
            (r#"{"props.seats":{"gt":10}}"#, true),
            (r#"{"props.none":{"gt":10}}"#, false),
            (r#"{"profile.gender":{"equals":"f"}}"#, true),
            (r#"{"profile.age":{"gte":18}}"#, false),
            (r#"{"known":true}"#, true),
            (r#"{"known":false}"#, false),
            (r#"{"sessions":{"gte":2}}"#, true),
            (r#"{"sessions":{"gte":3}}"#, false),
            (r#"{"dwell":{"gte":45}}"#, true),
            (r#"{"dwell":{"gte":46}}"#, false),
            (r#"{"path":{"regex":"^/p/[a-z]+$"}}"#, true),
        ];
        for (json, want) in cases {
            assert_eq!(eval(json, &[item]), *want, "{json}");
        }
    }

    #[test]
    fn combinators() {
        let cases: &[(&str, bool)] = &[
            (r#"{"all":[]}"#, true),
            (r#"{"any":[]}"#, false),
            (r#"{"not":{"path":{"equals":"/"}}}"#, false),
            (r#"{"not":{"path":{"equals":"/x"}}}"#, true),
            (
                r#"{"any":[{"path":{"equals":"/a"}},{"path":{"equals":"/"}}]}"#,
                true,
            ),
            (
                r##"{"all":[{"path":{"startsWith":"/"}},{"not":{"any":[{"known":false},{"hash":{"equals":"#faq"}}]}}]}"##,
                false,
            ),
        ];
        for (json, want) in cases {
            assert_eq!(eval(json, &[page(0, "/")]), *want, "{json}");
        }
    }

    #[test]
    fn counts_are_of_page_views_unless_the_event_is_named() {
        let entries = [
            page(3, "/p/shoe"),
            (2, "item_view", "/p/shoe", 1, "sku-1", "shoes", ""),
            (1, "cart_update", "/p/shoe", 1, "sku-1", "", "59"),
            page(0, "/p/shoe"),
        ];
        let views = r#"{"count":{"of":{"path":{"equals":"/p/shoe"}},"atLeast":3}}"#;
        assert!(
            !eval(views, &entries),
            "the item view and cart update share the path"
        );
        assert!(eval(&views.replace('3', "2"), &entries));
        let items = r#"{"count":{"of":{"all":[{"event":{"equals":"item_view"}},{"item.category":{"equals":"shoes"}}]},"atLeast":1}}"#;
        assert!(eval(items, &entries));
        let any = r#"{"count":{"of":{"not":{"event":{"equals":"conversion"}}},"atLeast":4}}"#;
        assert!(eval(any, &entries), "naming the event counts every kind");
        let h = history(&entries);
        let current = h.visits().last().unwrap();
        let why = cond(r#"{"count":{"of":{"event":{"equals":"conversion"}},"atLeast":1}}"#)
            .why_not(Scope::of_current(NOW, current, &h, &here(), &TestPatterns));
        assert_eq!(why.as_deref(), Some("count: 0 matching event(s), needs 1"));
    }

    #[test]
    fn count_windows_at_their_edges() {
        let pricing3 =
            r#"{"count":{"of":{"path":{"startsWith":"/pricing"}},"atLeast":3,"within":"7d"}}"#;
        type Case<'a> = (&'a str, Vec<Entry<'a>>, bool);
        let cases: Vec<Case> = vec![
            (
                pricing3,
                vec![
                    page(DAY, "/pricing"),
                    page(1, "/pricing"),
                    page(0, "/pricing"),
                ],
                true,
            ),
            // Exactly at the window's edge still counts; a millisecond earlier does not.
            (
                pricing3,
                vec![
                    page(7 * DAY, "/pricing"),
                    page(1, "/pricing"),
                    page(0, "/pricing"),
                ],
                true,
            ),
            (
                pricing3,
                vec![
                    page(7 * DAY + 1, "/pricing"),
                    page(1, "/pricing"),
                    page(0, "/pricing"),
                ],
                false,
            ),
            (
                pricing3,
                vec![page(2, "/pricing"), page(1, "/home"), page(0, "/pricing")],
                false,
            ),
            // Without `of`, page views count, not other events.
            (
                r#"{"count":{"atLeast":2}}"#,
                vec![(5, "cart_update", "/cart", 1, "", "", "9"), page(0, "/b")],
                false,
            ),
            (
                r#"{"count":{"atLeast":2}}"#,
                vec![page(99 * DAY, "/a"), page(0, "/b")],
                true,
            ),
            // "2 item views in category shoes this session."
            (
                r#"{"count":{"of":{"all":[{"event":{"equals":"item_view"}},{"item.category":{"equals":"shoes"}}]},"atLeast":2,"within":"session"}}"#,
                vec![
                    (DAY, "item_view", "/p/1", 1, "1", "shoes", ""),
                    (5, "item_view", "/p/2", 2, "2", "shoes", ""),
                    (0, "item_view", "/p/3", 2, "3", "shoes", ""),
                ],
                true,
            ),
            (
                r#"{"count":{"of":{"item.category":{"equals":"shoes"}},"atLeast":2,"within":"session"}}"#,
                vec![
                    (DAY, "item_view", "/p/1", 1, "1", "shoes", ""),
                    (0, "item_view", "/p/3", 2, "3", "shoes", ""),
                ],
                false,
            ),
            // Page-level values exist only for the current event.
            (
                r#"{"count":{"of":{"title":{"contains":"Pricing"}},"atLeast":2}}"#,
                vec![page(5, "/pricing"), page(0, "/pricing")],
                false,
            ),
            (
                r#"{"count":{"of":{"title":{"contains":"Pricing"}},"atLeast":1}}"#,
                vec![page(5, "/pricing"), page(0, "/pricing")],
                true,
            ),
        ];
        for (json, entries, want) in cases {
            assert_eq!(eval(json, &entries), want, "{json} over {entries:?}");
        }
        // Events from the future (a clock that stepped back) are ignored.
        let h = [page(0, "/pricing"), page(1, "/pricing")];
        assert!(!eval_at(
            r#"{"count":{"of":{"path":{"equals":"/pricing"}},"atLeast":2}}"#,
            &h,
            &here(),
            NOW - 1
        ));
    }

    const ABANDONED: &str = r#"{"sequence":{
        "steps":[{"event":{"equals":"item_view"}},{"path":{"equals":"/cart"}}],
        "within":"1d","absent":{"event":{"equals":"conversion"}},"for":"30m"}}"#;

    #[test]
    fn sequences() {
        let item = |ago| (ago, "item_view", "/p/1", 1, "1", "shoes", "10");
        let conversion = |ago| (ago, "conversion", "/thanks", 1, "", "", "10");
        type Case<'a> = (&'a str, Vec<Entry<'a>>, bool);
        let cases: Vec<Case> = vec![
            // Product, then cart, 31 minutes ago, nothing since: abandoned.
            (
                ABANDONED,
                vec![item(40 * MIN), page(31 * MIN, "/cart"), page(0, "/home")],
                true,
            ),
            // Exactly 30 minutes is enough; 29 is not yet.
            (
                ABANDONED,
                vec![item(40 * MIN), page(30 * MIN, "/cart"), page(0, "/home")],
                true,
            ),
            (
                ABANDONED,
                vec![item(40 * MIN), page(29 * MIN, "/cart"), page(0, "/home")],
                false,
            ),
            // The wrong order is no sequence.
            (
                ABANDONED,
                vec![page(40 * MIN, "/cart"), item(31 * MIN), page(0, "/home")],
                false,
            ),
            // A conversion after the cart: not abandoned.
            (
                ABANDONED,
                vec![
                    item(50 * MIN),
                    page(40 * MIN, "/cart"),
                    conversion(35 * MIN),
                    page(0, "/home"),
                ],
                false,
            ),
            // ...but a new cart after that purchase counts again.
            (
                ABANDONED,
                vec![
                    item(90 * MIN),
                    page(80 * MIN, "/cart"),
                    conversion(70 * MIN),
                    item(60 * MIN),
                    page(45 * MIN, "/cart"),
                    page(0, "/home"),
                ],
                true,
            ),
            // The first step must fall inside the window.
            (
                ABANDONED,
                vec![item(DAY + 1), page(31 * MIN, "/cart"), page(0, "/home")],
                false,
            ),
            // Without `for` and `absent`: just the order; the current event may be the last step.
            (
                r#"{"sequence":{"steps":[{"path":{"equals":"/a"}},{"path":{"equals":"/b"}}]}}"#,
                vec![page(9, "/a"), page(0, "/b")],
                true,
            ),
            (
                r#"{"sequence":{"steps":[{"path":{"equals":"/a"}},{"path":{"equals":"/a"}}]}}"#,
                vec![page(9, "/b"), page(0, "/a")],
                false,
            ),
        ];
        for (json, entries, want) in cases {
            assert_eq!(eval(json, &entries), want, "{json} over {entries:?}");
        }
    }

    #[test]
    fn why_not_names_the_first_failing_part() {
        let h = [page(DAY, "/pricing"), page(0, "/home")];
        let cases = [
            (r#"{"path":{"equals":"/home"}}"#, None),
            (
                r#"{"path":{"startsWith":"/pricing"}}"#,
                Some(r#"path is "/home", wanted: starting with "/pricing""#),
            ),
            (
                r#"{"all":[{"path":{"contains":"om"}},{"path":{"equals":"/x"}},{"path":{"equals":"/y"}}]}"#,
                Some(r#"path is "/home", wanted: equal to "/x""#),
            ),
            (
                r#"{"any":[{"path":{"contains":"shoe"}},{"path":{"equals":"/x"}}]}"#,
                Some(
                    r#"none of the "any" conditions held; the first: path is "/home", wanted: containing "shoe""#,
                ),
            ),
            (
                r#"{"not":{"path":{"equals":"/home"}}}"#,
                Some(r#"a "not" condition held"#),
            ),
            (
                r#"{"query.utm_medium":{"equals":"email"}}"#,
                Some(r#"query.utm_medium is missing, wanted: equal to "email""#),
            ),
            (r#"{"known":false}"#, Some("the visitor is a known profile")),
            (
                r#"{"count":{"of":{"path":{"equals":"/pricing"}},"atLeast":3,"within":"7d"}}"#,
                Some("count: 1 matching view(s) within 1w, needs 3"),
            ),
            (
                r#"{"count":{"atLeast":3,"within":"session"}}"#,
                Some("count: 2 matching view(s) this session, needs 3"),
            ),
            (
                r#"{"sequence":{"steps":[{"path":{"equals":"/home"}},{"path":{"equals":"/pricing"}}],"within":"2d"}}"#,
                Some("sequence: the steps did not happen in order within 2d"),
            ),
            (
                r#"{"sequence":{"steps":[{"path":{"equals":"/pricing"}}],"for":"2d"}}"#,
                Some("sequence: waiting 2d after the last step"),
            ),
        ];
        let here = here();
        for (json, want) in cases {
            let hist = history(&h);
            let current = hist.visits().last().unwrap();
            let scope = Scope::of_current(NOW, current, &hist, &here, &TestPatterns);
            assert_eq!(cond(json).why_not(scope).as_deref(), want, "{json}");
        }
    }

    #[test]
    fn wake_is_when_time_alone_can_make_it_hold() {
        let here = here(); // the page was viewed 45 s before NOW
        let cases: &[(&str, Vec<Entry>, Option<u64>)] = &[
            (
                r#"{"dwell":{"gte":60}}"#,
                vec![page(0, "/")],
                Some(NOW + 15_000),
            ),
            (
                r#"{"dwell":{"gt":60}}"#,
                vec![page(0, "/")],
                Some(NOW + 16_000),
            ),
            (r#"{"dwell":{"gte":30}}"#, vec![page(0, "/")], None),
            (r#"{"dwell":{"lt":60}}"#, vec![page(0, "/")], None),
            (
                r#"{"all":[{"path":{"equals":"/"}},{"any":[{"dwell":{"gte":50}},{"dwell":{"gte":90}}]}]}"#,
                vec![page(0, "/")],
                Some(NOW + 5_000),
            ),
            (
                ABANDONED,
                vec![
                    (40 * MIN, "item_view", "/p", 1, "", "", ""),
                    page(10 * MIN, "/cart"),
                    page(0, "/x"),
                ],
                Some(NOW + 20 * MIN),
            ),
            // Converted since: nothing to wait for.
            (
                ABANDONED,
                vec![
                    (40 * MIN, "item_view", "/p", 1, "", "", ""),
                    page(10 * MIN, "/cart"),
                    (MIN, "conversion", "/thanks", 1, "", "", ""),
                    page(0, "/x"),
                ],
                None,
            ),
            (r#"{"path":{"equals":"/"}}"#, vec![page(0, "/")], None),
        ];
        for (json, entries, want) in cases {
            let h = history(entries);
            let current = h.visits().last().unwrap();
            let scope = Scope::of_current(NOW, current, &h, &here, &TestPatterns);
            assert_eq!(cond(json).wake(scope), *want, "{json}");
        }
    }

    #[test]
    fn lookback_is_the_longest_window() {
        let cases = [
            (r#"{"path":{"equals":"/"}}"#, Some(0)),
            (r#"{"count":{"atLeast":1,"within":"2d"}}"#, Some(2 * DAY)),
            (r#"{"count":{"atLeast":1}}"#, None),
            (r#"{"count":{"atLeast":1,"within":"session"}}"#, None),
            (
                r#"{"any":[{"count":{"atLeast":1,"within":"1d"}},{"not":{"count":{"atLeast":2,"within":"3d"}}}]}"#,
                Some(3 * DAY),
            ),
            (ABANDONED, Some(DAY)),
        ];
        for (json, want) in cases {
            assert_eq!(cond(json).lookback(), want, "{json}");
        }
    }

    #[test]
    fn query_params_decode() {
        let cases = [
            ("?a=1&b=2", "b", Some("2")),
            ("a=1&b=2", "a", Some("1")),
            ("?a=x+y%21", "a", Some("x y!")),
            ("?a=%zz%4", "a", Some("%zz%4")),
            ("?a=%C3%A9", "a", Some("é")),
            ("?a&b=", "a", Some("")),
            ("?a=1&a=2", "a", Some("1")),
            ("?q%20x=1", "q x", Some("1")),
            ("", "a", None),
        ];
        for (query, name, want) in cases {
            assert_eq!(query_param(query, name).as_deref(), want, "{query} {name}");
        }
    }

    #[test]
    fn errors_name_the_path_and_suggest() {
        let cases = [
            (
                r#"{"path":{"startWith":"/p"}}"#,
                r#"if.path: unknown operator "startWith" (did you mean "startsWith"?)"#,
            ),
            (
                r#"{"paht":{"equals":"/p"}}"#,
                r#"if: unknown condition "paht" (did you mean "path"?)"#,
            ),
            (
                r#"{"item.prize":{"gt":1}}"#,
                r#"if: unknown condition "item.prize" (did you mean "item.price"?)"#,
            ),
            (
                r#"{"query.":{"equals":"x"}}"#,
                r#"if: unknown condition "query." (did you mean "query.NAME"?)"#,
            ),
            (
                r#"{"count":{"atLeast":1,"whithin":"1d"}}"#,
                r#"if.count: unknown key "whithin" (did you mean "within"?)"#,
            ),
            (
                "{\"count\":{\"atLeast\":0}}",
                "if.count.atLeast: must be a whole number, 1 or more",
            ),
            (
                r#"{"count":{"within":"1d"}}"#,
                "if.count.atLeast: is required: how many views, e.g. 3",
            ),
            (
                r#"{"count":{"atLeast":1,"within":"a week"}}"#,
                "if.count.within: expected \"session\" or a duration such as \"30m\", \"7d\"",
            ),
            (
                r#"{"all":[{"path":{"equals":"/"}},{"not":{"path":{"equals":[5]}}}]}"#,
                "if.all[1].not.path.equals: must be text or a number",
            ),
            (
                r#"{"all":{"path":{"equals":"/"}}}"#,
                "if.all: must be a list of conditions",
            ),
            (
                r#"{"path":{"equals":"/"},"not":{"path":{"equals":"/"}}}"#,
                "if: must have exactly one condition, e.g. { all: ... }",
            ),
            (r#""/pricing""#, "if: must be an object with one condition"),
            (r#"{"known":"yes"}"#, "if.known: must be true or false"),
            (
                r#"{"sequence":{"within":"1d"}}"#,
                "if.sequence.steps: is required: a list of conditions",
            ),
            (
                r#"{"sequence":{"steps":[]}}"#,
                "if.sequence.steps: must be a list of 1 to 16 conditions",
            ),
            (
                r#"{"sequence":{"steps":[{"path":{"equals":"/"}}],"for":"soon"}}"#,
                "if.sequence.for: expected a duration such as \"30s\", \"15m\", \"12h\", \"7d\" or \"2w\"",
            ),
            (
                r#"{"sequence":{"steps":[{"pth":{"equals":"/"}}]}}"#,
                r#"if.sequence.steps[0]: unknown condition "pth" (did you mean "path"?)"#,
            ),
        ];
        for (json, want) in cases {
            assert_eq!(parse(json).unwrap_err(), want, "{json}");
        }
    }

    #[test]
    fn utm_names_the_five_standard_parameters() {
        assert_eq!(
            parse(r#"{"utm.sorce":{"equals":"x"}}"#).unwrap_err(),
            r#"if: unknown condition "utm.sorce" (did you mean "utm.source"?)"#
        );
        assert!(parse(r#"{"utm.content":{"equals":"x"}}"#).is_ok());
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut json = String::from(r#"{"path":{"equals":"/"}}"#);
        for _ in 0..MAX_DEPTH {
            json = alloc::format!(r#"{{"not":{json}}}"#);
        }
        assert!(parse(&json).unwrap_err().contains("nest too deeply"));
    }
}
