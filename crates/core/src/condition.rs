//! The condition language and its evaluation.
//!
//! Conditions are written as one-key objects, the key naming the kind:
//!
//! ```js
//! { all: [
//!   { path: { startsWith: "/pricing" } },
//!   { count: { of: { path: { startsWith: "/pricing" } }, atLeast: 3, within: "7d" } }
//! ]}
//! ```

use serde::Deserialize;

use crate::duration::Duration;
use crate::history::{History, Visit};

/// A condition on the current page view and the stored history.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Condition {
    /// Every condition holds (an empty list holds).
    All(Vec<Condition>),
    /// At least one condition holds (an empty list does not).
    Any(Vec<Condition>),
    /// The condition does not hold.
    Not(Box<Condition>),
    /// The page's path passes the test.
    Path(TextTest),
    /// Enough past page views (the current one included) match.
    Count(Box<Count>),
}

/// A test on a piece of text. Comparisons are exact: paths are case-sensitive on the web.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TextTest {
    /// The text is exactly this.
    Equals(String),
    /// The text starts with this.
    StartsWith(String),
    /// The text contains this.
    Contains(String),
}

/// "At least N page views matching `of` within a time window."
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Count {
    /// Which views count; every view when absent.
    #[serde(default)]
    pub of: Option<Condition>,
    /// How many views are needed (at least 1).
    pub at_least: u32,
    /// How far back to look; the whole stored history when absent.
    #[serde(default)]
    pub within: Option<Duration>,
}

/// What a condition is evaluated against.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// The time of evaluation, in milliseconds since the Unix epoch.
    pub now: u64,
    /// The page view being evaluated.
    pub visit: &'a Visit,
    /// The stored history, which already includes `visit`.
    pub history: &'a History,
}

impl TextTest {
    /// Whether `text` passes.
    pub fn matches(&self, text: &str) -> bool {
        match self {
            TextTest::Equals(want) => text == want,
            TextTest::StartsWith(want) => text.starts_with(want.as_str()),
            TextTest::Contains(want) => text.contains(want.as_str()),
        }
    }
}

impl Condition {
    /// Whether the condition holds in `scope`.
    pub fn eval(&self, scope: Scope<'_>) -> bool {
        match self {
            Condition::All(all) => all.iter().all(|c| c.eval(scope)),
            Condition::Any(any) => any.iter().any(|c| c.eval(scope)),
            Condition::Not(c) => !c.eval(scope),
            Condition::Path(test) => test.matches(&scope.visit.path),
            Condition::Count(count) => count.eval(scope),
        }
    }

    /// The longest time window this condition looks back over, so the history can be
    /// pruned to what the triggers need. `None` means "the whole history".
    pub fn lookback(&self) -> Option<u64> {
        match self {
            Condition::All(cs) | Condition::Any(cs) => cs
                .iter()
                .try_fold(0, |max, c| c.lookback().map(|l| max.max(l))),
            Condition::Not(c) => c.lookback(),
            Condition::Path(_) => Some(0),
            Condition::Count(count) => {
                let own = count.within.map(Duration::as_millis)?;
                match &count.of {
                    Some(of) => of.lookback().map(|l| l.max(own)),
                    None => Some(own),
                }
            }
        }
    }

    /// Checks what serde cannot: counts of at least one. Returns the problem.
    pub fn validate(&self) -> Result<(), &'static str> {
        match self {
            Condition::All(cs) | Condition::Any(cs) => cs.iter().try_for_each(Condition::validate),
            Condition::Not(c) => c.validate(),
            Condition::Path(_) => Ok(()),
            Condition::Count(count) => {
                if count.at_least == 0 {
                    return Err("count.atLeast must be 1 or more");
                }
                count.of.as_ref().map_or(Ok(()), Condition::validate)
            }
        }
    }
}

impl Count {
    fn eval(&self, scope: Scope<'_>) -> bool {
        let since = self
            .within
            .map_or(0, |w| scope.now.saturating_sub(w.as_millis()));
        let mut seen = 0u32;
        // Newest first, so the common case ("3 of the last few views") stops early.
        for visit in scope.history.visits().iter().rev() {
            if visit.at > scope.now {
                continue;
            }
            if visit.at < since {
                break;
            }
            let matches = self
                .of
                .as_ref()
                .is_none_or(|of| of.eval(Scope { visit, ..scope }));
            if matches {
                seen += 1;
                if seen >= self.at_least {
                    return true;
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400_000;

    fn cond(json: &str) -> Condition {
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"))
    }

    fn history(visits: &[(u64, &str)]) -> History {
        History::from_visits(
            visits
                .iter()
                .map(|&(at, path)| Visit {
                    at,
                    path: path.into(),
                })
                .collect(),
        )
    }

    #[test]
    fn text_tests() {
        let cases = [
            (r#"{"path":{"equals":"/pricing"}}"#, "/pricing", true),
            (r#"{"path":{"equals":"/pricing"}}"#, "/pricing/", false),
            (r#"{"path":{"equals":"/pricing"}}"#, "/Pricing", false),
            (
                r#"{"path":{"startsWith":"/pricing"}}"#,
                "/pricing/team",
                true,
            ),
            (
                r#"{"path":{"startsWith":"/pricing"}}"#,
                "/about/pricing",
                false,
            ),
            (
                r#"{"path":{"contains":"shoe"}}"#,
                "/products/shoes-red",
                true,
            ),
            (r#"{"path":{"contains":"shoe"}}"#, "/products/hats", false),
            (r#"{"all":[]}"#, "/", true),
            (r#"{"any":[]}"#, "/", false),
            (r#"{"not":{"path":{"equals":"/"}}}"#, "/", false),
            (r#"{"not":{"path":{"equals":"/"}}}"#, "/x", true),
            (
                r#"{"any":[{"path":{"equals":"/a"}},{"path":{"equals":"/b"}}]}"#,
                "/b",
                true,
            ),
            (
                r#"{"all":[{"path":{"startsWith":"/p"}},{"not":{"path":{"contains":"team"}}}]}"#,
                "/pricing/team",
                false,
            ),
        ];
        for (json, path, want) in cases {
            let visit = Visit {
                at: 0,
                path: path.into(),
            };
            let history = History::default();
            let got = cond(json).eval(Scope {
                now: 0,
                visit: &visit,
                history: &history,
            });
            assert_eq!(got, want, "{json} on {path}");
        }
    }

    #[test]
    fn count_within_window_edges() {
        let pricing3 =
            r#"{"count":{"of":{"path":{"startsWith":"/pricing"}},"atLeast":3,"within":"7d"}}"#;
        let now = 100 * DAY;
        type Case<'a> = (&'a str, &'a [(u64, &'a str)], bool);
        let cases: &[Case] = &[
            // Three views inside the window, the current one included.
            (
                pricing3,
                &[
                    (now - DAY, "/pricing"),
                    (now - 1, "/pricing"),
                    (now, "/pricing"),
                ],
                true,
            ),
            // Exactly at the window's edge still counts...
            (
                pricing3,
                &[
                    (now - 7 * DAY, "/pricing"),
                    (now - 1, "/pricing"),
                    (now, "/pricing"),
                ],
                true,
            ),
            // ...one millisecond earlier does not.
            (
                pricing3,
                &[
                    (now - 7 * DAY - 1, "/pricing"),
                    (now - 1, "/pricing"),
                    (now, "/pricing"),
                ],
                false,
            ),
            // Views of other pages do not count.
            (
                pricing3,
                &[(now - 2, "/pricing"), (now - 1, "/home"), (now, "/pricing")],
                false,
            ),
            // Views from the future (a clock that stepped back) are ignored.
            (
                pricing3,
                &[
                    (now - 2, "/pricing"),
                    (now, "/pricing"),
                    (now + 5, "/pricing"),
                ],
                false,
            ),
            // Without `of`, every view counts; without `within`, all history.
            (
                r#"{"count":{"atLeast":2}}"#,
                &[(1, "/a"), (now, "/b")],
                true,
            ),
            (
                r#"{"count":{"atLeast":3}}"#,
                &[(1, "/a"), (now, "/b")],
                false,
            ),
        ];
        for (json, visits, want) in cases {
            let history = history(visits);
            let visit = history
                .visits()
                .iter()
                .rfind(|v| v.at <= now)
                .unwrap()
                .clone();
            let got = cond(json).eval(Scope {
                now,
                visit: &visit,
                history: &history,
            });
            assert_eq!(got, *want, "{json} over {visits:?}");
        }
    }

    #[test]
    fn lookback_is_the_longest_window() {
        let cases = [
            (r#"{"path":{"equals":"/"}}"#, Some(0)),
            (r#"{"count":{"atLeast":1,"within":"2d"}}"#, Some(2 * DAY)),
            (r#"{"count":{"atLeast":1}}"#, None),
            (
                r#"{"any":[{"count":{"atLeast":1,"within":"1d"}},{"not":{"count":{"atLeast":2,"within":"3d"}}}]}"#,
                Some(3 * DAY),
            ),
            (
                r#"{"all":[{"count":{"atLeast":1,"within":"1d"}},{"count":{"atLeast":1}}]}"#,
                None,
            ),
        ];
        for (json, want) in cases {
            assert_eq!(cond(json).lookback(), want, "{json}");
        }
    }

    #[test]
    fn rejects_unknown_operators_and_zero_counts() {
        assert!(serde_json::from_str::<Condition>(r#"{"path":{"startWith":"/p"}}"#).is_err());
        assert!(serde_json::from_str::<Condition>(r#"{"paht":{"equals":"/p"}}"#).is_err());
        assert!(
            serde_json::from_str::<Condition>(r#"{"count":{"atLeast":1,"whithin":"1d"}}"#).is_err()
        );
        assert_eq!(
            cond(r#"{"count":{"atLeast":0}}"#).validate(),
            Err("count.atLeast must be 1 or more")
        );
        assert_eq!(
            cond(r#"{"not":{"count":{"atLeast":0}}}"#).validate(),
            Err("count.atLeast must be 1 or more")
        );
    }
}
