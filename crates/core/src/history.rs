//! The visitor's visit history, kept in the browser and bounded.

use alloc::string::String;
use alloc::vec::Vec;

use crate::json;
use crate::value::Value;

/// One recorded page view or site event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Visit {
    /// When it happened, in milliseconds since the Unix epoch.
    pub at: u64,
    /// The event: `page_view`, `item_view`, `category_view`, `cart_update`,
    /// `conversion` or a custom name from `sitehook.track`.
    pub event: String,
    /// The page's path, e.g. `/pricing`.
    pub path: String,
    /// The visitor's session number (1 for the first session).
    pub session: u32,
    /// The item's id, for item events.
    pub item: String,
    /// The item's or page's category.
    pub category: String,
    /// The item's price or the event's value, as text (`"19.99"`).
    pub value: String,
}

impl Visit {
    /// A page view of `path` at `at`, in session 1.
    pub fn page_view(at: u64, path: &str) -> Self {
        Visit {
            at,
            event: String::from(crate::trigger::PAGE_VIEW),
            path: String::from(path),
            session: 1,
            ..Visit::default()
        }
    }
}

/// A bounded, time-ordered list of visits, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    visits: Vec<Visit>,
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

    /// A history from stored visits, repaired: sorted by time and cut to the bounds, so
    /// that data edited by hand or by another script cannot break the counting.
    pub fn from_visits(visits: Vec<Visit>) -> Self {
        // Inserting in order rather than sorting: stored histories are almost always
        // sorted already, and a sort would add kilobytes to the snippet.
        let mut history = History::default();
        for v in visits {
            history.push(v);
        }
        history
    }

    /// Reads a stored history (`[{"t":ms,"p":"/path","e":"item_view",...}, ...]`),
    /// skipping entries that are not visits: storage is shared with the site's other
    /// scripts. A missing `e` is a page view, a missing `s` session 1.
    pub fn from_value(value: &Value) -> Self {
        let Value::Arr(items) = value else {
            return History::default();
        };
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(String::from);
        // The newest entries, in their stored order: events of the same millisecond
        // (a page view and its item view) keep the order they happened in.
        let visit = |v: &Value| {
            Some(Visit {
                at: v.get("t")?.as_u64()?,
                path: text(v, "p")?,
                event: text(v, "e").unwrap_or_else(|| String::from(crate::trigger::PAGE_VIEW)),
                session: v
                    .get("s")
                    .and_then(Value::as_u64)
                    .map_or(1, |s| s.min(u32::MAX as u64) as u32),
                item: text(v, "i").unwrap_or_default(),
                category: text(v, "c").unwrap_or_default(),
                value: text(v, "v").unwrap_or_default(),
            })
        };
        // A loop, not `filter_map(..).collect()`: the adaptor is most of a kilobyte
        // of the snippet.
        let mut visits = Vec::new();
        for v in &items[items.len().saturating_sub(Self::MAX_VISITS)..] {
            if let Some(v) = visit(v) {
                visits.push(v);
            }
        }
        History::from_visits(visits)
    }

    /// The history as stored, at most [`Self::MAX_BYTES`] (the oldest entries are
    /// left out). The one-letter keys, and leaving out empty fields and the common
    /// values, keep it small in `localStorage`, where every byte counts against the
    /// site's own quota.
    pub fn to_json(&self) -> String {
        let mut entries: Vec<String> = Vec::new();
        let mut total = 2;
        for v in self.visits.iter().rev() {
            let mut out = String::from("{");
            json::push_key(&mut out, "t", true);
            json::push_num(&mut out, v.at);
            json::push_key(&mut out, "p", false);
            json::push_str(&mut out, &v.path);
            if v.event != crate::trigger::PAGE_VIEW {
                json::push_key(&mut out, "e", false);
                json::push_str(&mut out, &v.event);
            }
            if v.session != 1 {
                json::push_key(&mut out, "s", false);
                json::push_num(&mut out, v.session.into());
            }
            for (key, text) in [("i", &v.item), ("c", &v.category), ("v", &v.value)] {
                if !text.is_empty() {
                    json::push_key(&mut out, key, false);
                    json::push_str(&mut out, text);
                }
            }
            out.push('}');
            total += out.len() + 1;
            if total > Self::MAX_BYTES {
                break;
            }
            entries.push(out);
        }
        let mut out = String::with_capacity(total);
        out.push('[');
        for (i, e) in entries.iter().rev().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(e);
        }
        out.push(']');
        out
    }

    /// The visits, oldest first.
    pub fn visits(&self) -> &[Visit] {
        &self.visits
    }

    /// Records a visit, dropping the oldest one when full, and returns its index.
    pub fn push(&mut self, mut visit: Visit) -> usize {
        for text in [
            &mut visit.path,
            &mut visit.event,
            &mut visit.item,
            &mut visit.category,
            &mut visit.value,
        ] {
            truncate(text, Self::MAX_PATH);
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
    pub fn merge(&mut self, other: History) {
        for v in other.visits {
            self.push(v);
        }
    }

    /// Forgets visits older than `keep_ms` before `now`: nothing needs them, and the
    /// visitor's storage should hold no more than the triggers use.
    pub fn prune(&mut self, now: u64, keep_ms: u64) {
        let oldest = now.saturating_sub(keep_ms);
        self.visits.retain(|v| v.at >= oldest);
    }
}

fn truncate(text: &mut String, max: usize) {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn visit(at: u64, path: &str) -> Visit {
        Visit::page_view(at, path)
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
    fn from_visits_repairs_foreign_data() {
        let long = "é".repeat(History::MAX_PATH);
        let h = History::from_visits(vec![visit(9, "/b"), visit(1, &long)]);
        assert_eq!(h.visits()[0].at, 1);
        assert!(h.visits()[0].path.len() <= History::MAX_PATH);
        assert_eq!(h.visits()[1].path, "/b");
    }

    #[test]
    fn stored_form_round_trips_and_survives_foreign_data() {
        let h = History::from_visits(vec![visit(1, "/a \"quoted\""), visit(2, "/b")]);
        let back = History::from_value(&crate::value::testing::from_json(&h.to_json()));
        assert_eq!(back, h);
        // Same millisecond: a page view and the item view it declared, in that order.
        let same = History::from_visits(vec![
            visit(7, "/p"),
            Visit {
                event: "item_view".into(),
                ..visit(7, "/p")
            },
        ]);
        let back = History::from_value(&crate::value::testing::from_json(&same.to_json()));
        assert_eq!(back, same);
        let foreign = r#"[{"t":1,"p":"/a"},{"t":"x","p":"/b"},{"p":"/c"},7,null,{"t":-1,"p":"/d"},{"t":3,"p":"/e"}]"#;
        let paths: Vec<String> = History::from_value(&crate::value::testing::from_json(foreign))
            .visits()
            .iter()
            .map(|v| v.path.clone())
            .collect();
        assert_eq!(paths, ["/a", "/e"]);
        assert_eq!(
            History::from_value(&crate::value::testing::from_json(r#"{"not":"a list"}"#)),
            History::default()
        );
    }

    #[test]
    fn prune_drops_what_no_window_needs() {
        let mut h = History::from_visits(vec![visit(10, "/a"), visit(50, "/b"), visit(100, "/c")]);
        h.prune(100, 50);
        let paths: Vec<&str> = h.visits().iter().map(|v| v.path.as_str()).collect();
        assert_eq!(paths, ["/b", "/c"], "a visit exactly at the edge is kept");
    }

    #[test]
    fn events_round_trip_and_storage_is_bounded_in_bytes() {
        let item = Visit {
            at: 5,
            event: "item_view".into(),
            path: "/p/1".into(),
            session: 3,
            item: "sku-1".into(),
            category: "shoes".into(),
            value: "19.99".into(),
        };
        let h = History::from_visits(vec![visit(1, "/a"), item.clone()]);
        let json = h.to_json();
        assert_eq!(
            json,
            r#"[{"t":1,"p":"/a"},{"t":5,"p":"/p/1","e":"item_view","s":3,"i":"sku-1","c":"shoes","v":"19.99"}]"#
        );
        assert_eq!(
            History::from_value(&crate::value::testing::from_json(&json)),
            h
        );

        let long = "x".repeat(History::MAX_PATH);
        let big = History::from_visits((0..300).map(|i| visit(i, &long)).collect());
        let json = big.to_json();
        assert!(json.len() <= History::MAX_BYTES, "{} bytes", json.len());
        let back = History::from_value(&crate::value::testing::from_json(&json));
        assert!(back.visits().len() < 300);
        assert_eq!(
            back.visits().last().unwrap().at,
            299,
            "the newest entries are kept"
        );
    }

    #[test]
    fn push_returns_the_index_and_merge_keeps_order() {
        let mut h = History::from_visits(vec![visit(1, "/a"), visit(9, "/c")]);
        assert_eq!(h.push(visit(5, "/b")), 1);
        assert_eq!(h.visits()[1].path, "/b");
        let mut other = History::default();
        other.push(visit(7, "/anon"));
        h.merge(other);
        let paths: Vec<&str> = h.visits().iter().map(|v| v.path.as_str()).collect();
        assert_eq!(paths, ["/a", "/b", "/anon", "/c"]);
    }
}
