//! The visitor's visit history, kept in the browser and bounded.

use alloc::string::String;
use alloc::vec::Vec;

use crate::json;
use crate::value::Value;

/// One recorded page view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    /// When the page was viewed, in milliseconds since the Unix epoch.
    pub at: u64,
    /// The page's path, e.g. `/pricing`.
    pub path: String,
}

/// A bounded, time-ordered list of visits, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    visits: Vec<Visit>,
}

impl History {
    /// The most visits kept. Older visits are dropped first; triggers that count further
    /// back than this many views see only the newest ones.
    pub const MAX_VISITS: usize = 200;

    /// The longest path kept; longer paths are cut (on a character boundary) so that
    /// one hostile URL cannot fill the site's storage.
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

    /// Reads a stored history (`[{"t":ms,"p":"/path"}, ...]`), skipping entries that
    /// are not visits: storage is shared with the site's other scripts.
    pub fn from_value(value: &Value) -> Self {
        let Value::Arr(items) = value else {
            return History::default();
        };
        let visits = items
            .iter()
            .rev()
            .take(Self::MAX_VISITS)
            .filter_map(|v| {
                Some(Visit {
                    at: v.get("t")?.as_u64()?,
                    path: v.get("p")?.as_str()?.into(),
                })
            })
            .collect();
        History::from_visits(visits)
    }

    /// The history as stored. The one-letter keys keep it small in `localStorage`,
    /// where every byte counts against the site's own quota.
    pub fn to_json(&self) -> String {
        let mut out = String::from("[");
        for (i, v) in self.visits.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('{');
            json::push_key(&mut out, "t", true);
            json::push_num(&mut out, v.at);
            json::push_key(&mut out, "p", false);
            json::push_str(&mut out, &v.path);
            out.push('}');
        }
        out.push(']');
        out
    }

    /// The visits, oldest first.
    pub fn visits(&self) -> &[Visit] {
        &self.visits
    }

    /// Records a visit, dropping the oldest one when full.
    pub fn push(&mut self, mut visit: Visit) {
        truncate(&mut visit.path, Self::MAX_PATH);
        // Clocks can step backwards; keep the order the counting relies on.
        let at = self.visits.partition_point(|v| v.at <= visit.at);
        self.visits.insert(at, visit);
        if self.visits.len() > Self::MAX_VISITS {
            self.visits.remove(0);
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
        Visit {
            at,
            path: path.into(),
        }
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
}
