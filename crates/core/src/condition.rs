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
//!
//! Parsed conditions are a [`Program`]: one flat list of [`Cond`] nodes in which a
//! node's children follow it, and each node with children says where they end. The
//! nodes are `Copy` and name their texts by spans into the config's [`Doc`], so a
//! program is three vectors, not a tree of boxes and strings: evaluation is a walk
//! over indices, and the WebAssembly has no drop glue or clones to carry for it.

use alloc::string::String;
use alloc::vec::Vec;

use crate::duration::Duration;
use crate::error::{ConfigError, index, join, object, one_of};
use crate::history::{History, Visit};
use crate::json::{Doc, Span, Tag};
use crate::matcher::{Args, Item, Patterns, Test};
use crate::number::push_u64;

/// How deep conditions may nest; deeper configs are rejected rather than risking the
/// stack on a hostile or generated config.
pub const MAX_DEPTH: usize = 16;

/// The most steps a sequence may have.
pub const MAX_STEPS: usize = 16;

/// A lookback of the whole history (see [`Program::lookback`]).
///
/// Times in this module are plain `u64`s with such documented values for "none"
/// rather than `Option<u64>`: in WebAssembly an `Option<u64>` result goes through
/// memory, and these are on every evaluation's path.
pub const ALL: u64 = u64::MAX;

/// One node of a [`Program`]. Nodes with children are followed by them, and say
/// where they end (the index past their last descendant).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cond {
    /// Every child holds (none: holds).
    All(u32),
    /// At least one child holds (none: does not).
    Any(u32),
    /// The one child does not hold.
    Not(u32),
    /// A value passes a test: `{ path: { startsWith: "/pricing" } }`.
    Test(Operand, Test),
    /// The visitor is (`true`) or is not (`false`) a known profile.
    Known(bool),
    /// Enough past events (the current one included) match; the child, if any, says
    /// which.
    Count(Count),
    /// Events matched the children (the steps, then `absent` if any) in order.
    Sequence(Sequence),
}

/// What a test looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    Query(Span),
    /// A UTM parameter (`utm.source` is the query parameter `utm_source`).
    Utm(Span),
    /// The item's id.
    ItemId,
    /// The item's name.
    ItemName,
    /// The item's (or category page's) category.
    ItemCategory,
    /// The item's price, or the value of a `cart_update` or `conversion`.
    ItemPrice,
    /// A property of the event, from `sitehook.track(name, props)`.
    Prop(Span),
    /// A profile field.
    Profile(Span),
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    /// Whether `of` is given (the node's child); every page view counts without it.
    pub of: bool,
    /// Whether only page views count: when `of` says nothing about the event, "3
    /// views of /pricing" must not also count the item views and tracked events
    /// that share the page's path.
    pub views_only: bool,
    /// How many are needed (at least 1).
    pub at_least: u32,
    /// How far back to look.
    pub within: Window,
    /// Where the node's children end.
    pub end: u32,
}

/// "Events matching these steps, in this order, within a window; then, optionally,
/// nothing matching `absent` for a while": viewed a product, then the cart, and no
/// conversion for 30 minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sequence {
    /// How many steps (the node's first children), each matched by a later event
    /// than the one before.
    pub steps: u32,
    /// The first step must fall within this window.
    pub within: Window,
    /// Whether `absent` is given (the child after the steps): no event after the
    /// last step matches it.
    pub absent: bool,
    /// At least this long has passed since the last step.
    pub wait: Option<Duration>,
    /// Where the node's children end.
    pub end: u32,
}

/// Parsed conditions: the nodes, the choices of their `in` lists, and the config
/// document whose text their spans name.
#[derive(Debug, Default)]
pub struct Program {
    /// The config the conditions were read from.
    pub doc: Doc,
    /// The nodes of every condition read so far; a condition is the index of its
    /// first node.
    pub nodes: Vec<Cond>,
    /// The choices of `in` lists.
    pub items: Vec<Item>,
}

/// An object of text fields in a [`Doc`]: a profile, an event's properties. (The
/// wire's sorted map of fields is [`crate::fields::Fields`].)
#[derive(Clone, Copy)]
pub struct TextFields<'a> {
    /// The document.
    pub doc: &'a Doc,
    /// The object's node.
    pub node: usize,
}

impl<'a> TextFields<'a> {
    /// No fields.
    pub fn none() -> TextFields<'static> {
        TextFields {
            doc: &crate::json::EMPTY,
            node: 0,
        }
    }

    /// The text of field `key` (strings, numbers and booleans; see
    /// [`Doc::text_of`]).
    pub fn get(&self, key: &str) -> Option<&'a str> {
        let doc = self.doc;
        doc.text_of(doc.get(self.node, key)).map(|s| doc.at(s))
    }
}

/// What is known about the current event beyond its stored [`Visit`]: the page, the
/// event's properties and the visitor.
#[derive(Clone, Copy)]
pub struct Here<'a> {
    /// The page's full URL.
    pub url: &'a str,
    /// The page's host name.
    pub host: &'a str,
    /// The query string, with its `?` (or without; both are read).
    pub query: &'a str,
    /// The fragment, with its `#`.
    pub hash: &'a str,
    /// The referring URL.
    pub referrer: &'a str,
    /// The document's title.
    pub title: &'a str,
    /// The item's name, when the event declared an item.
    pub item_name: &'a str,
    /// The event's properties.
    pub props: TextFields<'a>,
    /// The visitor's profile fields.
    pub profile: TextFields<'a>,
    /// Whether the visitor is a known profile.
    pub known: bool,
    /// When the current session started (ms since the epoch).
    pub session_started: u64,
    /// When the current page was viewed (ms since the epoch).
    pub page_started: u64,
}

impl Default for Here<'_> {
    fn default() -> Self {
        Here {
            url: "",
            host: "",
            query: "",
            hash: "",
            referrer: "",
            title: "",
            item_name: "",
            props: TextFields::none(),
            profile: TextFields::none(),
            known: false,
            session_started: 0,
            page_started: 0,
        }
    }
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
    pub here: &'a Here<'a>,
    /// The conditions.
    pub program: &'a Program,
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
        here: &'a Here<'a>,
        program: &'a Program,
        patterns: &'a dyn Patterns,
    ) -> Self {
        Scope {
            now,
            visit: current,
            current,
            history,
            here,
            program,
            patterns,
        }
    }
}

/// The UTM parameters `utm.X` may name.
const UTM: &[&str] = &["source", "medium", "campaign", "term", "content"];

/// The condition kinds, for suggestions; the first six are not operands.
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
    "item.id",
    "item.name",
    "item.category",
    "item.price",
    "sessions",
    "dwell",
    "query.NAME",
    "utm.source",
    "utm.medium",
    "utm.campaign",
    "utm.term",
    "utm.content",
    "props.NAME",
    "profile.NAME",
];

/// The operands without a name, in [`KINDS`] order from `url`.
const PLAIN: [Operand; 13] = [
    Operand::Url,
    Operand::Path,
    Operand::Host,
    Operand::Hash,
    Operand::Referrer,
    Operand::Title,
    Operand::Event,
    Operand::ItemId,
    Operand::ItemName,
    Operand::ItemCategory,
    Operand::ItemPrice,
    Operand::Sessions,
    Operand::Dwell,
];

/// The condition kind `key` names (an index into [`KINDS`]), and for the operands
/// with a name, the span of the name; `None` for an unknown kind.
fn kind(key: &str, span: Span) -> Option<(usize, Option<Operand>)> {
    // `query.NAME`, `props.NAME`, `profile.NAME`, `utm.X`: a prefix and a name.
    let named = |at: usize, operand: fn(Span) -> Operand| {
        let name = Span(span.0 + at as u32, span.1);
        (!name.is_empty()).then_some((0, Some(operand(name))))
    };
    let b = key.as_bytes();
    if b.starts_with(b"query.") {
        return named(6, Operand::Query);
    }
    if b.starts_with(b"props.") {
        return named(6, Operand::Prop);
    }
    if b.starts_with(b"profile.") {
        return named(8, Operand::Profile);
    }
    if b.starts_with(b"utm.") {
        // The five standard parameters only: `utm.sorce` is a typo, not a
        // parameter nobody sends.
        return if UTM.contains(&key.get(4..).unwrap_or_default()) {
            named(4, Operand::Utm)
        } else {
            None
        };
    }
    let k = KINDS.iter().position(|k| *k == key)?;
    Some((k, PLAIN.get(k.wrapping_sub(6)).copied()))
}

impl Operand {
    /// The operand's name as written in configs, for traces.
    pub fn name(&self, text: &str) -> String {
        let (prefix, name) = match *self {
            Operand::Query(n) => ("query.", n),
            Operand::Utm(n) => ("utm.", n),
            Operand::Prop(n) => ("props.", n),
            Operand::Profile(n) => ("profile.", n),
            plain => {
                let i = PLAIN.iter().position(|p| *p == plain).unwrap_or_default();
                return String::from(KINDS.get(i + 6).copied().unwrap_or_default());
            }
        };
        let mut s = String::from(prefix);
        s.push_str(crate::json::at(text, name));
        s
    }

    /// The operand's value for `v` (the current event or a stored one) in `scope`;
    /// `None` when there is none (a missing query parameter, a page-level value of a
    /// stored event). Values that are not in the scope as text (a number, a decoded
    /// query parameter) are written into `buf`. A buffer rather than a `Cow`: this
    /// runs for every stored event a `count` or `sequence` looks at, and a plain
    /// `&str` costs the least there.
    pub fn read<'b>(&self, scope: &Scope<'b>, v: &Visit, buf: &'b mut String) -> Option<&'b str> {
        let here = scope.here;
        let h = scope.history;
        let text = scope.program.doc.text();
        let (value, nonempty) = match *self {
            Operand::Path => (h.at(v.path), false),
            Operand::Event => (h.at(v.event), false),
            Operand::ItemId => (h.at(v.item), true),
            Operand::ItemCategory => (h.at(v.category), true),
            Operand::ItemPrice => (h.at(v.value), true),
            Operand::Profile(n) => (here.profile.get(crate::json::at(text, n))?, false),
            Operand::Sessions => {
                push_u64(buf, v.session.into());
                (buf.as_str(), false)
            }
            _ if !core::ptr::eq(v, scope.current) => return None,
            Operand::Url => (here.url, false),
            Operand::Host => (here.host, false),
            Operand::Hash => (here.hash, false),
            Operand::Referrer => (here.referrer, false),
            Operand::Title => (here.title, false),
            Operand::ItemName => (here.item_name, true),
            Operand::Query(n) | Operand::Utm(n) => {
                let name = crate::json::at(text, n);
                *buf = if let Operand::Utm(_) = self {
                    let mut utm = String::from("utm_");
                    utm.push_str(name);
                    scope.patterns.query_param(here.query, &utm)?
                } else {
                    scope.patterns.query_param(here.query, name)?
                };
                (buf.as_str(), false)
            }
            Operand::Prop(n) => (here.props.get(crate::json::at(text, n))?, false),
            Operand::Dwell => {
                push_u64(buf, scope.now.saturating_sub(here.page_started) / 1000);
                (buf.as_str(), false)
            }
        };
        if nonempty && value.is_empty() {
            return None;
        }
        Some(value)
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

/// The parts of a page URL as `location` gives them: `(host, path, query, hash)`,
/// the query with its `?` and the hash with its `#` (empty when there is none). The
/// URL is `location.href`, which the browser has already normalised.
pub fn url_parts(url: &str) -> (&str, &str, &str, &str) {
    // On bytes: `str::find` brings a pattern searcher half a kilobyte long.
    let b = url.as_bytes();
    let find = |from: usize, what: &[u8]| {
        let mut i = from;
        while i < b.len() && !what.contains(&b[i]) {
            i += 1;
        }
        i
    };
    let hash_at = find(0, b"#");
    let query_at = find(0, b"?#");
    // After "scheme://": the authority, up to the path.
    let colon = find(0, b":/?#");
    let scheme = if b.get(colon..colon + 3) == Some(b"://") {
        colon + 3
    } else {
        0
    };
    let path_at = find(scheme, b"/?#");
    let authority = b.get(scheme..path_at).unwrap_or_default();
    // No user info, no port (`[::1]:8080` keeps its brackets, as `hostname` does).
    let start = authority
        .iter()
        .rposition(|c| *c == b'@')
        .map_or(0, |at| at + 1);
    let end = match authority.iter().rposition(|c| matches!(c, b':' | b']')) {
        Some(at) if at >= start && authority.get(at) == Some(&b':') => at,
        _ => authority.len(),
    };
    let mut path = url.get(path_at..query_at).unwrap_or_default();
    if path.is_empty() && scheme > 0 {
        path = "/";
    }
    (
        url.get(scheme + start..scheme + end).unwrap_or_default(),
        path,
        url.get(query_at..hash_at).unwrap_or_default(),
        url.get(hash_at..).unwrap_or_default(),
    )
}

impl Window {
    fn parse(doc: &Doc, i: usize, path: &str) -> Result<Window, ConfigError> {
        if doc.is_null(i) {
            return Ok(Window::All);
        }
        let text = crate::error::string(doc, i, path)?;
        let text = doc.at(text);
        if text.trim_ascii() == "session" {
            return Ok(Window::Session);
        }
        Duration::parse(text).map(Window::Last).map_err(|_| {
            ConfigError::new(
                path,
                "expected \"session\" or a duration such as \"30m\", \"7d\"",
            )
        })
    }

    /// Whether `visit` falls inside the window at `scope`.
    #[inline(always)]
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

    /// How far back the window reaches, for pruning ([`ALL`]: unbounded).
    fn lookback(self) -> u64 {
        match self {
            Window::Last(d) => d.as_millis(),
            Window::All | Window::Session => ALL,
        }
    }
}

/// Reads conditions from a document into a program's nodes.
struct Builder<'a> {
    doc: &'a Doc,
    nodes: &'a mut Vec<Cond>,
    items: &'a mut Vec<Item>,
    patterns: &'a dyn Patterns,
}

impl Builder<'_> {
    /// Adds the condition at node `i`, at `path` (e.g. `"if"`), `depth` levels down.
    fn cond(&mut self, i: usize, path: &str, depth: usize) -> Result<(), ConfigError> {
        if depth >= MAX_DEPTH {
            return Err(ConfigError::new(
                path,
                "conditions nest too deeply (at most 16 levels)",
            ));
        }
        let doc = self.doc;
        // Operands with a name (`query.utm_source`) are open-ended: looked up before
        // the fixed list, which is there for suggestions.
        let mut found = None;
        let mut items = doc.items(i);
        if let (Some((key, value)), None, Tag::Obj) = (items.next(), items.next(), doc.tag(i)) {
            found = kind(doc.at(key), key).map(|(k, operand)| (k, operand, key, value));
        }
        let Some((k, operand, key, inner)) = found else {
            // Not an object of one known kind: says which of those it is not.
            one_of(doc, i, path, "condition", KINDS)?;
            // A kind in the list that names nothing (`query.` and friends).
            return Err(ConfigError::new(
                path,
                "needs a name after the dot, e.g. \"query.utm_source\"",
            ));
        };
        let at = join(path, doc.at(key));
        let me = self.nodes.len();
        if let Some(operand) = operand {
            let test = Test::parse(doc, inner, &at, self.patterns, self.items)?;
            self.nodes.push(Cond::Test(operand, test));
            return Ok(());
        }
        match k {
            // all, any
            0 | 1 => {
                if doc.tag(inner) != Tag::Arr {
                    return Err(ConfigError::new(&at, "must be a list of conditions"));
                }
                self.nodes.push(Cond::All(0));
                self.list(inner, &at, depth + 1)?;
                let end = self.nodes.len() as u32;
                self.set(
                    me,
                    if k == 0 {
                        Cond::All(end)
                    } else {
                        Cond::Any(end)
                    },
                );
            }
            // not
            2 => {
                self.nodes.push(Cond::Not(0));
                self.cond(inner, &at, depth + 1)?;
                let end = self.nodes.len() as u32;
                self.set(me, Cond::Not(end));
            }
            3 => self.count(inner, &at, depth)?,
            4 => self.sequence(inner, &at, depth)?,
            // known
            _ => match doc.bool(inner) {
                Some(b) => self.nodes.push(Cond::Known(b)),
                None => return Err(ConfigError::new(&at, "must be true or false")),
            },
        }
        Ok(())
    }

    fn set(&mut self, at: usize, node: Cond) {
        if let Some(n) = self.nodes.get_mut(at) {
            *n = node;
        }
    }

    /// Adds the conditions of the list at node `i`.
    fn list(&mut self, i: usize, path: &str, depth: usize) -> Result<(), ConfigError> {
        for (n, (_, c)) in self.doc.items(i).enumerate() {
            self.cond(c, &index(path, n), depth)?;
        }
        Ok(())
    }

    fn count(&mut self, i: usize, path: &str, depth: usize) -> Result<(), ConfigError> {
        let doc = self.doc;
        object(doc, i, path, &["of", "atLeast", "within"])?;
        let key = join(path, "atLeast");
        let n = doc.get(i, "atLeast");
        if n == usize::MAX {
            return Err(ConfigError::new(
                &key,
                "is required: how many views, e.g. 3",
            ));
        }
        let at_least = match doc.u64(n) {
            Some(n) if (1..=u32::MAX as u64).contains(&n) => n as u32,
            _ => return Err(ConfigError::new(&key, "must be a whole number, 1 or more")),
        };
        let within = Window::parse(doc, doc.get(i, "within"), &join(path, "within"))?;
        let me = self.nodes.len();
        self.nodes.push(Cond::Known(false));
        let of = doc.field(i, "of");
        if let Some(of) = of {
            self.cond(of, &join(path, "of"), depth + 1)?;
        }
        let views_only = !(of.is_some() && self.tests_event(me + 1));
        let end = self.nodes.len() as u32;
        self.set(
            me,
            Cond::Count(Count {
                of: of.is_some(),
                views_only,
                at_least,
                within,
                end,
            }),
        );
        Ok(())
    }

    fn sequence(&mut self, i: usize, path: &str, depth: usize) -> Result<(), ConfigError> {
        let doc = self.doc;
        object(doc, i, path, &["steps", "within", "absent", "for"])?;
        let at = join(path, "steps");
        let Some(steps) = doc.field(i, "steps") else {
            return Err(ConfigError::new(&at, "is required: a list of conditions"));
        };
        let n = doc.len(steps);
        if doc.tag(steps) != Tag::Arr || n == 0 || n > MAX_STEPS {
            return Err(ConfigError::new(
                &at,
                "must be a list of 1 to 16 conditions",
            ));
        }
        let wait = match doc.field(i, "for") {
            None => None,
            Some(v) => {
                let key = join(path, "for");
                let text = crate::error::string(doc, v, &key)?;
                Some(Duration::parse(doc.at(text)).map_err(|m| ConfigError::new(&key, m))?)
            }
        };
        let within = Window::parse(doc, doc.get(i, "within"), &join(path, "within"))?;
        // Every step must be inside `within` and the last one at least `for` ago:
        // with `for` as long as `within` that leaves no time at all, and the trigger
        // would wait for ever without a word.
        if let (Some(wait), Window::Last(w)) = (wait, within)
            && wait.as_millis() >= w.as_millis()
        {
            return Err(ConfigError::new(
                &join(path, "for"),
                "must be shorter than \"within\": every step must be within it, the last one \"for\" ago",
            ));
        }
        let me = self.nodes.len();
        self.nodes.push(Cond::Known(false));
        self.list(steps, &at, depth + 1)?;
        let absent = doc.field(i, "absent");
        if let Some(c) = absent {
            self.cond(c, &join(path, "absent"), depth + 1)?;
        }
        let end = self.nodes.len() as u32;
        self.set(
            me,
            Cond::Sequence(Sequence {
                steps: n as u32,
                within,
                absent: absent.is_some(),
                wait,
                end,
            }),
        );
        Ok(())
    }

    /// Whether the condition at node `i` tests the event's name itself (outside
    /// nested counts and sequences, which look at events of their own).
    fn tests_event(&self, i: usize) -> bool {
        match self.nodes.get(i) {
            Some(Cond::All(end) | Cond::Any(end) | Cond::Not(end)) => {
                let mut c = i + 1;
                while c < *end as usize {
                    if self.tests_event(c) {
                        return true;
                    }
                    c = end_of(self.nodes, c);
                }
                false
            }
            Some(Cond::Test(operand, _)) => *operand == Operand::Event,
            _ => false,
        }
    }
}

/// The index past node `i`'s last descendant.
fn end_of(nodes: &[Cond], i: usize) -> usize {
    let end = match nodes.get(i) {
        Some(Cond::All(e) | Cond::Any(e) | Cond::Not(e)) => *e,
        Some(Cond::Count(c)) => c.end,
        Some(Cond::Sequence(s)) => s.end,
        _ => 0,
    };
    (end as usize).max(i + 1)
}

impl Program {
    /// A program over the config `doc`, with no conditions yet.
    pub fn new(doc: Doc) -> Program {
        Program {
            doc,
            nodes: Vec::new(),
            items: Vec::new(),
        }
    }

    /// Reads the condition at node `i` of the program's document, at `path` (e.g.
    /// `"if"`): the index of its first node. A condition with an error adds nothing.
    pub fn condition(
        &mut self,
        i: usize,
        path: &str,
        patterns: &dyn Patterns,
    ) -> Result<u32, ConfigError> {
        let (nodes, items) = (self.nodes.len(), self.items.len());
        let mut b = Builder {
            doc: &self.doc,
            nodes: &mut self.nodes,
            items: &mut self.items,
            patterns,
        };
        match b.cond(i, path, 0) {
            Ok(()) => Ok(nodes as u32),
            Err(e) => {
                self.nodes.truncate(nodes);
                self.items.truncate(items);
                Err(e)
            }
        }
    }

    /// Node `i` (an empty `all` past the end). By reference: a node is tens of
    /// bytes, and evaluation reads one per condition per stored event.
    fn node(&self, i: usize) -> &Cond {
        static NONE: Cond = Cond::All(0);
        self.nodes.get(i).unwrap_or(&NONE)
    }

    /// The children of node `i` (which end at `end`), as indices.
    fn children(&self, i: usize, end: u32) -> Children<'_> {
        Children {
            nodes: &self.nodes,
            at: i + 1,
            end: end as usize,
        }
    }

    /// The longest time window the condition at node `i` looks back over, so the
    /// history can be pruned to what the triggers need; [`ALL`] for the whole
    /// history.
    pub fn lookback(&self, i: usize) -> u64 {
        let (own, end) = match *self.node(i) {
            Cond::Test(..) | Cond::Known(_) => return 0,
            Cond::All(end) | Cond::Any(end) | Cond::Not(end) => (0, end),
            Cond::Count(c) => (c.within.lookback(), c.end),
            Cond::Sequence(s) => (s.within.lookback(), s.end),
        };
        let mut max = own;
        for c in self.children(i, end) {
            max = max.max(self.lookback(c));
        }
        max
    }

    /// What the tests read besides the value.
    fn args<'a>(&'a self, patterns: &'a dyn Patterns) -> Args<'a> {
        Args {
            text: self.doc.text(),
            items: &self.items,
            patterns,
        }
    }
}

/// The children of a node; see [`Program::children`].
struct Children<'a> {
    nodes: &'a [Cond],
    at: usize,
    end: usize,
}

impl Iterator for Children<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if self.at >= self.end {
            return None;
        }
        let c = self.at;
        self.at = end_of(self.nodes, c);
        Some(c)
    }
}

impl<'a> Scope<'a> {
    /// Whether the condition at node `i` holds.
    pub fn holds(&self, i: usize) -> bool {
        self.eval(i, self.visit)
    }

    /// Whether the condition at node `i` holds for `v`, the current event or a
    /// stored one: a parameter rather than a copy of the scope per stored event,
    /// since `count` and `sequence` run this for each.
    fn eval(&self, i: usize, v: &'a Visit) -> bool {
        let program = self.program;
        match *program.node(i) {
            Cond::All(end) => {
                for c in program.children(i, end) {
                    if !self.eval(c, v) {
                        return false;
                    }
                }
                true
            }
            Cond::Any(end) => {
                for c in program.children(i, end) {
                    if self.eval(c, v) {
                        return true;
                    }
                }
                false
            }
            Cond::Not(_) => !self.eval(i + 1, v),
            Cond::Test(operand, test) => {
                let mut buf = String::new();
                test.matches(operand.read(self, v, &mut buf), program.args(self.patterns))
            }
            Cond::Known(want) => self.here.known == want,
            Cond::Count(count) => self.seen(i, count) >= count.at_least,
            Cond::Sequence(seq) => self.failure(i, seq).is_none(),
        }
    }

    /// How many events match count node `i`, counting no further than `at_least`.
    /// Without `of`, page views count.
    fn seen(&self, i: usize, count: Count) -> u32 {
        let mut seen = 0u32;
        // Newest first, so the common case ("3 of the last few views") stops early.
        for visit in self.history.visits().iter().rev() {
            if visit.at > self.now {
                continue;
            }
            if !count.within.holds(visit, self) {
                if matches!(count.within, Window::Last(_)) {
                    break;
                }
                continue;
            }
            let matches = (!count.views_only
                || self.history.is(visit.event, crate::trigger::PAGE_VIEW))
                && (!count.of || self.eval(i + 1, visit));
            if matches {
                seen += 1;
                if seen >= count.at_least {
                    break;
                }
            }
        }
        seen
    }

    /// The time of the last step of the latest chain of events matching sequence
    /// node `i`'s steps in order inside its window, and that step's place in the
    /// history; time 0 when there is none (no event is at the epoch).
    ///
    /// Matching from the newest event backwards, taking the latest match for each
    /// step, finds a chain whenever one exists, and the one that ends last: after a
    /// completed purchase and a new cart, it is the new cart that counts.
    fn chain(&self, i: usize, seq: Sequence) -> (u64, usize) {
        let mut steps = [0usize; MAX_STEPS];
        let mut n = 0;
        for c in self.program.children(i, seq.end) {
            if n < seq.steps as usize && n < MAX_STEPS {
                steps[n] = c;
                n += 1;
            }
        }
        let visits = self.history.visits();
        let mut end = visits.partition_point(|v| v.at <= self.now);
        let mut last = (0, 0);
        for &step in steps.get(..n).unwrap_or_default().iter().rev() {
            let mut found = None;
            while end > 0 {
                end -= 1;
                let Some(visit) = visits.get(end) else {
                    return (0, 0);
                };
                if self.eval(step, visit) {
                    found = Some(visit);
                    break;
                }
            }
            let Some(visit) = found.filter(|v| seq.within.holds(v, self)) else {
                return (0, 0);
            };
            if last.0 == 0 {
                last = (visit.at, end);
            }
        }
        last
    }

    /// Whether nothing after the history's event at `last` (up to now) matches
    /// sequence node `i`'s `absent`. By place, not time: a conversion tracked in
    /// the same millisecond as the cart, after it, is after it.
    fn absent_holds(&self, i: usize, seq: Sequence, last: usize) -> bool {
        if !seq.absent {
            return true;
        }
        let mut absent = i + 1;
        for _ in 0..seq.steps {
            absent = end_of(&self.program.nodes, absent);
        }
        let visits = self.history.visits();
        for visit in visits.get(last + 1..).unwrap_or_default() {
            if visit.at <= self.now && self.eval(absent, visit) {
                return false;
            }
        }
        true
    }

    /// `None` when sequence node `i` holds, else which part failed. Not a text, so
    /// that evaluating builds none: only [`Scope::why_not`] puts it in words.
    fn failure(&self, i: usize, seq: Sequence) -> Option<SequenceFailure> {
        let (last, place) = self.chain(i, seq);
        if last == 0 {
            return Some(SequenceFailure::OutOfOrder);
        }
        if !self.absent_holds(i, seq, place) {
            return Some(SequenceFailure::Absent);
        }
        match seq.wait {
            Some(wait) if self.now < last.saturating_add(wait.as_millis()) => {
                Some(SequenceFailure::Waiting(wait))
            }
            _ => None,
        }
    }

    /// The earliest time after `now` at which the condition at node `i` may come to
    /// hold by time passing alone (a dwell time reached, a sequence's wait over), so
    /// the snippet can look again while the page stays open; 0 when there is
    /// nothing to wait for.
    pub fn wake(&self, i: usize) -> u64 {
        let program = self.program;
        match *program.node(i) {
            Cond::All(end) | Cond::Any(end) | Cond::Not(end) => {
                let mut earliest = 0;
                for c in program.children(i, end) {
                    earliest = sooner(earliest, self.wake(c));
                }
                earliest
            }
            Cond::Test(Operand::Dwell, test) if !test.not => {
                use crate::matcher::{Cmp, Op};
                let Op::Num(cmp, n) = test.op else {
                    return 0;
                };
                if !(0.0..86_400.0).contains(&n) {
                    return 0;
                }
                // The first whole second at which `dwell` passes.
                let floor = n as u64;
                let secs = match cmp {
                    Cmp::Gte | Cmp::Eq if (floor as f64) < n => floor + 1,
                    Cmp::Gte | Cmp::Eq => floor,
                    Cmp::Gt => floor + 1,
                    Cmp::Lt | Cmp::Lte => return 0,
                };
                let at = self.here.page_started + secs * 1000;
                if at > self.now { at } else { 0 }
            }
            Cond::Sequence(seq) => {
                let (Some(wait), (last, place)) = (seq.wait, self.chain(i, seq)) else {
                    return 0;
                };
                let at = last.saturating_add(wait.as_millis());
                if last > 0 && at > self.now && self.absent_holds(i, seq, place) {
                    at
                } else {
                    0
                }
            }
            _ => 0,
        }
    }

    /// Why the condition at node `i` does not hold: the first failing part, in
    /// words, e.g. `path is "/home", wanted: starting with "/pricing"`; `None` when it
    /// holds. For the trigger trace, so it is only worked out when someone is
    /// looking.
    pub fn why_not(&self, i: usize) -> Option<String> {
        let program = self.program;
        let text = program.doc.text();
        match *program.node(i) {
            Cond::All(end) => {
                for c in program.children(i, end) {
                    if let Some(why) = self.why_not(c) {
                        return Some(why);
                    }
                }
                None
            }
            Cond::Any(end) => {
                let Some(first) = program.children(i, end).next() else {
                    return Some(String::from("an empty \"any\" list never holds"));
                };
                let first = self.why_not(first)?;
                if self.holds(i) {
                    return None;
                }
                let mut out = String::from("none of the \"any\" conditions held; the first: ");
                out.push_str(&first);
                Some(out)
            }
            Cond::Not(_) => self
                .holds(i + 1)
                .then(|| String::from("a \"not\" condition held")),
            Cond::Test(operand, test) => {
                let mut buf = String::new();
                let value = operand.read(self, self.visit, &mut buf);
                if test.matches(value, program.args(self.patterns)) {
                    return None;
                }
                let mut out = operand.name(text);
                match value {
                    Some(v) => {
                        out.push_str(" is ");
                        crate::json::push_str(&mut out, v);
                    }
                    None => out.push_str(" is missing"),
                }
                out.push_str(", wanted: ");
                out.push_str(&test.describe(text));
                Some(out)
            }
            Cond::Known(want) => (self.here.known != want).then(|| {
                String::from(if want {
                    "the visitor is anonymous"
                } else {
                    "the visitor is a known profile"
                })
            }),
            Cond::Count(count) => {
                let seen = self.seen(i, count);
                if seen >= count.at_least {
                    return None;
                }
                let mut out = String::from("count: ");
                push_u64(&mut out, seen.into());
                out.push_str(if count.views_only {
                    " matching view(s)"
                } else {
                    " matching event(s)"
                });
                count.within.text(&mut out);
                out.push_str(", needs ");
                push_u64(&mut out, count.at_least.into());
                Some(out)
            }
            Cond::Sequence(seq) => self.failure(i, seq).map(|f| f.words(seq)),
        }
    }
}

/// The sooner of two wake times, 0 meaning none.
pub fn sooner(a: u64, b: u64) -> u64 {
    match (a, b) {
        (0, t) | (t, 0) => t,
        (a, b) => a.min(b),
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

impl SequenceFailure {
    /// Why the sequence does not hold, in words.
    fn words(self, seq: Sequence) -> String {
        match self {
            SequenceFailure::OutOfOrder => {
                let mut out = String::from("sequence: the steps did not happen in order");
                seq.within.text(&mut out);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::testing::doc;
    use crate::history::Entry as Stored;
    use crate::matcher::tests::TestPatterns;
    use alloc::vec;

    const MIN: u64 = 60_000;
    const DAY: u64 = 86_400_000;
    const NOW: u64 = 100 * DAY;

    /// A parsed condition with what it needs to run.
    struct Parsed {
        program: Program,
        root: usize,
        patterns: TestPatterns,
    }

    impl Parsed {
        fn scope<'a>(&'a self, now: u64, h: &'a History, here: &'a Here<'a>) -> Scope<'a> {
            let current = h.visits().last().expect("an entry");
            Scope::of_current(now, current, h, here, &self.program, &self.patterns)
        }

        fn lookback(&self) -> u64 {
            self.program.lookback(self.root)
        }
    }

    fn parse(json: &str) -> Result<Parsed, String> {
        let mut program = Program::new(doc(json));
        let patterns = TestPatterns::default();
        let root = program
            .condition(0, "if", &patterns)
            .map_err(|e| e.text())? as usize;
        Ok(Parsed {
            program,
            root,
            patterns,
        })
    }

    fn cond(json: &str) -> Parsed {
        match parse(json) {
            Ok(p) => p,
            Err(e) => panic!("{json}: {e}"),
        }
    }

    fn error(json: &str) -> String {
        match parse(json) {
            Ok(_) => panic!("{json}: parsed"),
            Err(e) => e,
        }
    }

    /// A stored event: (ms before NOW, event, path, session, item, category, value).
    type Entry<'a> = (u64, &'a str, &'a str, u32, &'a str, &'a str, &'a str);

    fn history(entries: &[Entry]) -> History {
        let stored: Vec<Stored> = entries
            .iter()
            .map(
                |&(ago, event, path, session, item, category, value)| Stored {
                    at: NOW - ago,
                    event,
                    path,
                    session,
                    item,
                    category,
                    value,
                },
            )
            .collect();
        History::of(&stored)
    }

    fn page(ago: u64, path: &str) -> Entry<'_> {
        (ago, "page_view", path, 1, "", "", "")
    }

    /// The fields documents `here` refers to: the profile and the properties.
    fn fields() -> (Doc, Doc) {
        (
            doc(r#"{"profileid":"p-1","gender":"f"}"#),
            doc(r#"{"plan":"Team","seats":12}"#),
        )
    }

    fn here<'a>(docs: &'a (Doc, Doc)) -> Here<'a> {
        Here {
            url: "https://shop.example.com/pricing?utm_source=News+Letter&q=a%20b&empty#faq",
            host: "shop.example.com",
            query: "?utm_source=News+Letter&q=a%20b&empty",
            hash: "#faq",
            referrer: "https://www.google.com/",
            title: "Pricing | Shop",
            item_name: "Red shoe",
            props: TextFields {
                doc: &docs.1,
                node: 0,
            },
            profile: TextFields {
                doc: &docs.0,
                node: 0,
            },
            known: true,
            session_started: NOW - 10 * MIN,
            page_started: NOW - 45_000,
        }
    }

    /// Evaluates `json` with the newest entry as the current event; also checks
    /// that `why_not` agrees.
    fn eval_at(json: &str, entries: &[Entry], here: &Here, now: u64) -> bool {
        let h = history(entries);
        let c = cond(json);
        let scope = c.scope(now, &h, here);
        let got = scope.holds(c.root);
        assert_eq!(
            scope.why_not(c.root).is_none(),
            got,
            "why_not agrees with eval: {json}"
        );
        got
    }

    fn eval(json: &str, entries: &[Entry]) -> bool {
        let docs = fields();
        eval_at(json, entries, &here(&docs), NOW)
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
        let docs = fields();
        let here = here(&docs);
        let c = cond(r#"{"count":{"of":{"event":{"equals":"conversion"}},"atLeast":1}}"#);
        let why = c.scope(NOW, &h, &here).why_not(c.root);
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
        let docs = fields();
        assert!(!eval_at(
            r#"{"count":{"of":{"path":{"equals":"/pricing"}},"atLeast":2}}"#,
            &h,
            &here(&docs),
            NOW - 1
        ));
    }

    const ABANDONED: &str = r#"{"sequence":{
        "steps":[{"event":{"equals":"item_view"}},{"path":{"equals":"/cart"}}],
        "within":"1d","absent":{"event":{"equals":"conversion"}},"for":"30m"}}"#;

    #[test]
    fn sequences() {
        const SESSION_SEQUENCE: &str = r#"{"sequence":{"steps":[{"path":{"equals":"/a"}},{"path":{"equals":"/b"}}],"within":"session"}}"#;
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
            // A conversion tracked in the same millisecond as the cart, after it, is
            // after it; one just before it (same millisecond) is not.
            (
                ABANDONED,
                vec![
                    item(50 * MIN),
                    page(40 * MIN, "/cart"),
                    conversion(40 * MIN),
                    page(0, "/home"),
                ],
                false,
            ),
            (
                ABANDONED,
                vec![
                    item(50 * MIN),
                    conversion(40 * MIN),
                    page(40 * MIN, "/cart"),
                    page(0, "/home"),
                ],
                true,
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
            // The first step must fall inside the window; exactly a day ago still does.
            (
                ABANDONED,
                vec![item(DAY + 1), page(31 * MIN, "/cart"), page(0, "/home")],
                false,
            ),
            (
                ABANDONED,
                vec![item(DAY), page(31 * MIN, "/cart"), page(0, "/home")],
                true,
            ),
            // `within: "session"`: every step in the current session.
            (
                SESSION_SEQUENCE,
                vec![
                    (20 * MIN, "page_view", "/a", 1, "", "", ""),
                    (0, "page_view", "/b", 2, "", "", ""),
                ],
                false,
            ),
            (
                SESSION_SEQUENCE,
                vec![
                    (20 * MIN, "page_view", "/a", 2, "", "", ""),
                    (0, "page_view", "/b", 2, "", "", ""),
                ],
                true,
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
        let docs = fields();
        let here = here(&docs);
        for (json, want) in cases {
            let hist = history(&h);
            let c = cond(json);
            assert_eq!(
                c.scope(NOW, &hist, &here).why_not(c.root).as_deref(),
                want,
                "{json}"
            );
        }
    }

    #[test]
    fn wake_is_when_time_alone_can_make_it_hold() {
        let docs = fields();
        let here = here(&docs); // the page was viewed 45 s before NOW
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
            let c = cond(json);
            let got = c.scope(NOW, &h, &here).wake(c.root);
            assert_eq!(Some(got).filter(|t| *t != 0), *want, "{json}");
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
            let got = cond(json).lookback();
            assert_eq!(Some(got).filter(|l| *l != ALL), want, "{json}");
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
    fn url_parts_are_those_of_location() {
        let cases = [
            (
                "https://shop.example.com/pricing?plan=team#faq",
                ("shop.example.com", "/pricing", "?plan=team", "#faq"),
            ),
            ("http://127.0.0.1:8080/", ("127.0.0.1", "/", "", "")),
            ("http://[::1]:8080/a/b", ("[::1]", "/a/b", "", "")),
            ("http://[::1]/a", ("[::1]", "/a", "", "")),
            ("https://u:p@host.test:443", ("host.test", "/", "", "")),
            ("https://host.test?x=1", ("host.test", "/", "?x=1", "")),
            (
                "https://host.test/#/cart?x",
                ("host.test", "/", "", "#/cart?x"),
            ),
            ("file:///tmp/a.html", ("", "/tmp/a.html", "", "")),
        ];
        for (url, want) in cases {
            assert_eq!(url_parts(url), want, "{url}");
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
                r#"{"sequence":{"steps":[{"path":{"equals":"/"}}],"for":"1d","within":"24h"}}"#,
                r#"if.sequence.for: must be shorter than "within": every step must be within it, the last one "for" ago"#,
            ),
            (
                r#"{"sequence":{"steps":[{"pth":{"equals":"/"}}]}}"#,
                r#"if.sequence.steps[0]: unknown condition "pth" (did you mean "path"?)"#,
            ),
        ];
        for (json, want) in cases {
            assert_eq!(error(json), want, "{json}");
        }
    }

    #[test]
    fn utm_names_the_five_standard_parameters() {
        assert_eq!(
            error(r#"{"utm.sorce":{"equals":"x"}}"#),
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
        assert!(error(&json).contains("nest too deeply"));
    }
}
