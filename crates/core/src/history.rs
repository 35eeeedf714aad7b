//! The visitor's visit history, kept in the browser and bounded.

use alloc::string::String;
use alloc::vec::Vec;

use crate::json::{self, Doc, Span};

/// One recorded page view or site event. Its texts are spans into its
/// [`History`]'s text: see [`History::entry`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Visit {
    /// When it happened, in milliseconds since the Unix epoch.
    pub at: u64,
    /// The visitor's session number (1 for the first session).
    pub session: u32,
    /// The event: `page_view`, `item_view`, `category_view`, `cart_update`,
    /// `conversion` or a custom name from `sitehook.track`.
    pub event: Span,
    /// The page's path, e.g. `/pricing`.
    pub path: Span,
    /// The item's id, for item events.
    pub item: Span,
    /// The item's or page's category.
    pub category: Span,
    /// The item's price or the event's value, as text (`"19.99"`).
    pub value: Span,
}

/// A visit with its texts, to record or as read back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Entry<'a> {
    /// See [`Visit::at`].
    pub at: u64,
    /// See [`Visit::event`].
    pub event: &'a str,
    /// See [`Visit::path`].
    pub path: &'a str,
    /// See [`Visit::session`].
    pub session: u32,
    /// See [`Visit::item`].
    pub item: &'a str,
    /// See [`Visit::category`].
    pub category: &'a str,
    /// See [`Visit::value`].
    pub value: &'a str,
}

impl<'a> Entry<'a> {
    /// A page view of `path` at `at`, in session 1.
    pub fn page_view(at: u64, path: &'a str) -> Self {
        Entry {
            at,
            event: crate::trigger::PAGE_VIEW,
            path,
            session: 1,
            ..Entry::default()
        }
    }
}

/// A bounded, time-ordered list of visits, oldest first, and the text their spans
/// name. Texts of visits that were dropped stay in the text until the history is
/// next read from storage: a page adds a few events, and rewriting the text for
/// each would cost more than it keeps.
#[derive(Debug, Clone, Default)]
pub struct History {
    text: String,
    visits: Vec<Visit>,
}

impl PartialEq for History {
    fn eq(&self, other: &History) -> bool {
        self.visits.len() == other.visits.len()
            && self
                .visits
                .iter()
                .zip(&other.visits)
                .all(|(a, b)| self.entry(a) == other.entry(b))
    }
}

impl History {
    /// The most entries kept. Older entries are dropped first; triggers that count
    /// further back than this many events see only the newest ones.
    pub const MAX_VISITS: usize = 300;

    /// The most bytes the stored form takes (its share of the site's `localStorage`
    /// quota, commonly 5 MB per origin); past it the oldest entries go first.
    pub const MAX_BYTES: usize = 48 * 1024;

    /// The longest path, item id, category or value kept; longer ones are cut (on a
    /// character boundary) so that one hostile URL cannot fill the site's storage.
    pub const MAX_PATH: usize = 512;

    /// A history of these entries, repaired: sorted by time and cut to the bounds.
    pub fn of(entries: &[Entry<'_>]) -> Self {
        let mut history = History::default();
        for e in entries {
            history.push(*e);
        }
        history
    }

    /// The text of `span`.
    #[inline]
    pub fn at(&self, span: Span) -> &str {
        json::at(&self.text, span)
    }

    /// Whether the text of `span` is `text`: compared as bytes, without making a
    /// `str` of it, for the loops over every stored event.
    #[inline]
    pub fn is(&self, span: Span, text: &str) -> bool {
        self.text.as_bytes().get(span.0 as usize..span.1 as usize) == Some(text.as_bytes())
    }

    /// A visit with its texts.
    pub fn entry(&self, v: &Visit) -> Entry<'_> {
        Entry {
            at: v.at,
            event: self.at(v.event),
            path: self.at(v.path),
            session: v.session,
            item: self.at(v.item),
            category: self.at(v.category),
            value: self.at(v.value),
        }
    }

    /// Reads a stored history (`[{"t":ms,"p":"/path","e":"item_view",...}, ...]`),
    /// skipping entries that are not visits: storage is shared with the site's other
    /// scripts. A missing `e` is a page view, a missing `s` session 1. Anything that is
    /// not such a list reads as an empty history.
    pub fn from_json(text: String) -> Self {
        let Some(doc) = Doc::parse(text) else {
            return History::default();
        };
        let mut visits = Vec::new();
        let total = doc.len(0);
        // Page views are stored without `e`: each refers to one "page_view" added to
        // the end of the text.
        let page_view = Span(
            doc.text().len() as u32,
            (doc.text().len() + crate::trigger::PAGE_VIEW.len()) as u32,
        );
        // The newest entries, in their stored order: events of the same millisecond
        // (a page view and its item view) keep the order they happened in.
        for (n, (_, v)) in doc.items(0).enumerate() {
            if n + Self::MAX_VISITS < total {
                continue;
            }
            let text = |k: &str| {
                let n = doc.node(doc.get(v, k));
                (n.tag == crate::json::Tag::Str).then_some(n.span)
            };
            let (Some(at), Some(path)) = (doc.u64(doc.get(v, "t")), text("p")) else {
                continue;
            };
            visits.push(Visit {
                at,
                session: doc
                    .u64(doc.get(v, "s"))
                    .map_or(1, |s| s.min(u32::MAX as u64) as u32),
                event: text("e").unwrap_or(page_view),
                path,
                item: text("i").unwrap_or_default(),
                category: text("c").unwrap_or_default(),
                value: text("v").unwrap_or_default(),
            });
        }
        let mut text = doc.into_text();
        text.push_str(crate::trigger::PAGE_VIEW);
        let mut history = History {
            text,
            visits: Vec::new(),
        };
        // Repaired as [`History::push`] does: in time order, texts cut to the bounds.
        for v in visits {
            history.insert(v);
        }
        history
    }

    /// The history as stored, at most [`Self::MAX_BYTES`] (the oldest entries are
    /// left out). The one-letter keys, and leaving out empty fields and the common
    /// values, keep it small in `localStorage`, where every byte counts against the
    /// site's own quota.
    pub fn to_json(&self) -> String {
        // Written newest first, to know where the bound falls, then put in order.
        let mut ends: Vec<usize> = Vec::new();
        let mut out = String::new();
        for v in self.visits.iter().rev() {
            let e = self.entry(v);
            let start = out.len();
            out.push_str(",{");
            json::push_key(&mut out, "t", true);
            json::push_num(&mut out, e.at);
            json::push_key(&mut out, "p", false);
            json::push_str(&mut out, e.path);
            if !e.event.is_empty() && e.event != crate::trigger::PAGE_VIEW {
                json::push_key(&mut out, "e", false);
                json::push_str(&mut out, e.event);
            }
            if e.session != 1 {
                json::push_key(&mut out, "s", false);
                json::push_num(&mut out, e.session.into());
            }
            for (key, text) in [("i", e.item), ("c", e.category), ("v", e.value)] {
                if !text.is_empty() {
                    json::push_key(&mut out, key, false);
                    json::push_str(&mut out, text);
                }
            }
            out.push('}');
            if out.len() + 1 > Self::MAX_BYTES {
                out.truncate(start);
                break;
            }
            ends.push(start);
        }
        let mut ordered = String::with_capacity(out.len() + 1);
        ordered.push('[');
        let mut end = out.len();
        for &start in ends.iter().rev() {
            // Each entry starts with its comma; the first one's is left out.
            let from = if ordered.len() == 1 { start + 1 } else { start };
            ordered.push_str(out.get(from..end).unwrap_or_default());
            end = start;
        }
        ordered.push(']');
        ordered
    }

    /// The bytes of text this history holds, those of visits dropped or pruned
    /// since it was read included: a history kept in memory and pushed to for a
    /// long time is read again from its JSON past a bound (see the snippet's
    /// `Store::keep_history`).
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    /// The visits, oldest first.
    pub fn visits(&self) -> &[Visit] {
        &self.visits
    }

    /// Records a visit, dropping the oldest one when full, and returns its index.
    pub fn push(&mut self, e: Entry<'_>) -> usize {
        let mut add = |text: &str| {
            let start = self.text.len() as u32;
            self.text.push_str(cut(text, Self::MAX_PATH));
            Span(start, self.text.len() as u32)
        };
        let visit = Visit {
            at: e.at,
            session: e.session,
            event: add(e.event),
            path: add(e.path),
            item: add(e.item),
            category: add(e.category),
            value: add(e.value),
        };
        self.insert(visit)
    }

    /// Inserts a visit whose spans are in this history's text, in time order, cutting
    /// its texts to the bounds; returns its index.
    fn insert(&mut self, mut visit: Visit) -> usize {
        for span in [
            &mut visit.event,
            &mut visit.path,
            &mut visit.item,
            &mut visit.category,
            &mut visit.value,
        ] {
            let len = cut(self.at(*span), Self::MAX_PATH).len();
            span.1 = span.0 + len as u32;
        }
        // Clocks can step backwards; keep the order the counting relies on.
        let at = self.visits.partition_point(|v| v.at <= visit.at);
        self.visits.insert(at, visit);
        if self.visits.len() > Self::MAX_VISITS {
            self.visits.remove(0);
            return at.saturating_sub(1);
        }
        at
    }

    /// Adds another history's entries (an anonymous visitor's, when they sign in).
    pub fn merge(&mut self, other: &History) {
        for v in &other.visits {
            self.push(other.entry(v));
        }
    }

    /// Forgets visits older than `keep_ms` before `now`: nothing needs them, and the
    /// visitor's storage should hold no more than the triggers use.
    pub fn prune(&mut self, now: u64, keep_ms: u64) {
        let oldest = now.saturating_sub(keep_ms);
        self.visits.retain(|v| v.at >= oldest);
    }
}

/// `text` cut to `max` bytes on a character boundary.
pub fn cut(text: &str, max: usize) -> &str {
    let mut at = text.len().min(max);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    // `get`, not `&text[..at]`, whose panic path would bring formatting code.
    text.get(..at).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn visit(at: u64, path: &str) -> Entry<'_> {
        Entry::page_view(at, path)
    }

    fn paths(h: &History) -> Vec<&str> {
        h.visits().iter().map(|v| h.at(v.path)).collect()
    }

    #[test]
    fn push_keeps_order_and_bound() {
        let mut h = History::default();
        for i in 0..(History::MAX_VISITS as u64 + 5) {
            h.push(visit(i, "/a"));
        }
        assert_eq!(h.visits().len(), History::MAX_VISITS);
        assert_eq!(h.visits()[0].at, 5, "the oldest visits are dropped first");
        h.push(visit(3, "/late-clock"));
        let times: Vec<u64> = h.visits().iter().map(|v| v.at).collect();
        assert!(
            times.windows(2).all(|w| w[0] <= w[1]),
            "not sorted: {times:?}"
        );
    }

    #[test]
    fn of_repairs_foreign_data() {
        let long = "é".repeat(History::MAX_PATH);
        let h = History::of(&[visit(9, "/b"), visit(1, &long)]);
        assert_eq!(h.visits()[0].at, 1);
        assert!(paths(&h)[0].len() <= History::MAX_PATH);
        assert_eq!(paths(&h)[1], "/b");
    }

    #[test]
    fn stored_form_round_trips_and_survives_foreign_data() {
        let h = History::of(&[visit(1, "/a \"quoted\" é"), visit(2, "/b")]);
        let back = History::from_json(h.to_json());
        assert_eq!(back, h);
        // Same millisecond: a page view and the item view it declared, in that order.
        let same = History::of(&[
            visit(7, "/p"),
            Entry {
                event: "item_view",
                ..visit(7, "/p")
            },
        ]);
        let back = History::from_json(same.to_json());
        assert_eq!(back, same);
        let foreign = r#"[{"t":1,"p":"/a"},{"t":"x","p":"/b"},{"p":"/c"},7,null,{"t":-1,"p":"/d"},{"t":3,"p":"/e"}]"#;
        assert_eq!(
            paths(&History::from_json(foreign.to_string())),
            ["/a", "/e"]
        );
        for junk in [r#"{"not":"a list"}"#, "", "[{", "null"] {
            assert_eq!(
                History::from_json(junk.to_string()),
                History::default(),
                "{junk}"
            );
        }
        // A stored entry over the bounds is cut when read.
        let long = alloc::format!(r#"[{{"t":1,"p":"{}"}}]"#, "x".repeat(600));
        assert_eq!(paths(&History::from_json(long))[0].len(), History::MAX_PATH);
    }

    #[test]
    fn prune_drops_what_no_window_needs() {
        let mut h = History::of(&[visit(10, "/a"), visit(50, "/b"), visit(100, "/c")]);
        h.prune(100, 50);
        assert_eq!(
            paths(&h),
            ["/b", "/c"],
            "a visit exactly at the edge is kept"
        );
    }

    #[test]
    fn events_round_trip_and_storage_is_bounded_in_bytes() {
        let item = Entry {
            at: 5,
            event: "item_view",
            path: "/p/1",
            session: 3,
            item: "sku-1",
            category: "shoes",
            value: "19.99",
        };
        let h = History::of(&[visit(1, "/a"), item]);
        let json = h.to_json();
        assert_eq!(
            json,
            r#"[{"t":1,"p":"/a"},{"t":5,"p":"/p/1","e":"item_view","s":3,"i":"sku-1","c":"shoes","v":"19.99"}]"#
        );
        let back = History::from_json(json);
        assert_eq!(back, h);
        assert_eq!(back.entry(&back.visits()[1]), item);
        assert_eq!(History::default().to_json(), "[]");

        let long = "x".repeat(History::MAX_PATH);
        let big = History::of(&(0..300).map(|i| visit(i, &long)).collect::<Vec<_>>());
        let json = big.to_json();
        assert!(json.len() <= History::MAX_BYTES, "{} bytes", json.len());
        let back = History::from_json(json);
        assert!(back.visits().len() < 300);
        assert_eq!(
            back.visits().last().unwrap().at,
            299,
            "the newest entries are kept"
        );
    }

    #[test]
    fn push_returns_the_index_and_merge_keeps_order() {
        let mut h = History::of(&[visit(1, "/a"), visit(9, "/c")]);
        assert_eq!(h.push(visit(5, "/b")), 1);
        assert_eq!(paths(&h)[1], "/b");
        let mut other = History::default();
        other.push(visit(7, "/anon"));
        h.merge(&other);
        assert_eq!(paths(&h), ["/a", "/b", "/anon", "/c"]);
        let _ = vec![0];
    }
}
