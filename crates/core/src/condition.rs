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

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use crate::duration::Duration;
use crate::history::{History, Visit};
use crate::value::{ConfigError, Value, boxed, index, join, object, one_of};

/// How deep conditions may nest; deeper configs are rejected rather than risking the
/// stack on a hostile or generated config.
pub const MAX_DEPTH: usize = 16;

/// A condition on the current page view and the stored history.
#[derive(Debug, Clone, PartialEq)]
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
#[derive(Debug, Clone, PartialEq)]
pub enum TextTest {
    /// The text is exactly this.
    Equals(String),
    /// The text starts with this.
    StartsWith(String),
    /// The text contains this.
    Contains(String),
}

/// "At least N page views matching `of` within a time window."
#[derive(Debug, Clone, PartialEq)]
pub struct Count {
    /// Which views count; every view when absent.
    pub of: Option<Condition>,
    /// How many views are needed (at least 1).
    pub at_least: u32,
    /// How far back to look; the whole stored history when absent.
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

const KINDS: &[&str] = &["all", "any", "not", "path", "count"];
const TEXT_OPS: &[&str] = &["equals", "startsWith", "contains"];

impl TextTest {
    /// Whether `text` passes.
    pub fn matches(&self, text: &str) -> bool {
        // On bytes (UTF-8 makes byte matches character matches): `str`'s searchers can
        // panic with formatted messages, which would pull `core::fmt` into the snippet.
        let (text, want) = match self {
            TextTest::Equals(w) | TextTest::StartsWith(w) | TextTest::Contains(w) => {
                (text.as_bytes(), w.as_bytes())
            }
        };
        match self {
            TextTest::Equals(_) => text == want,
            TextTest::StartsWith(_) => text.starts_with(want),
            TextTest::Contains(_) => want.is_empty() || text.windows(want.len()).any(|w| w == want),
        }
    }

    /// Parses `{ equals | startsWith | contains: "text" }` at `path`.
    pub fn from_value(value: &Value, path: &str) -> Result<TextTest, ConfigError> {
        let (op, arg) = one_of(value, path, "operator", TEXT_OPS)?;
        let arg = crate::value::string(Some(arg), &join(path, op))?;
        Ok(match op {
            "equals" => TextTest::Equals(arg),
            "startsWith" => TextTest::StartsWith(arg),
            _ => TextTest::Contains(arg),
        })
    }
}

impl Condition {
    /// Parses a condition at `path` (e.g. `"if"`).
    pub fn from_value(value: &Value, path: &str) -> Result<Condition, ConfigError> {
        Condition::parse(value, path, 0)
    }

    fn parse(value: &Value, path: &str, depth: usize) -> Result<Condition, ConfigError> {
        if depth >= MAX_DEPTH {
            return Err(ConfigError::new(
                path,
                "conditions nest too deeply (at most 16 levels)",
            ));
        }
        let (kind, inner) = one_of(value, path, "condition", KINDS)?;
        let at = join(path, kind);
        Ok(match kind {
            "all" | "any" => {
                let Value::Arr(items) = inner else {
                    return Err(ConfigError::new(&at, "must be a list of conditions"));
                };
                let list = items
                    .iter()
                    .enumerate()
                    .map(|(i, c)| Condition::parse(c, &index(&at, i), depth + 1))
                    .collect::<Result<Vec<_>, _>>()?;
                if kind == "all" {
                    Condition::All(list)
                } else {
                    Condition::Any(list)
                }
            }
            "not" => Condition::Not(boxed(Condition::parse(inner, &at, depth + 1))?),
            "path" => Condition::Path(TextTest::from_value(inner, &at)?),
            _ => Condition::Count(boxed(Count::parse(inner, &at, depth))?),
        })
    }

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

    /// Why the condition does not hold in `scope`: the first failing part, in words,
    /// e.g. `path "/home" does not start with "/pricing"`; `None` when it holds. For
    /// the trigger trace, so it is only worked out when someone is looking.
    pub fn why_not(&self, scope: Scope<'_>) -> Option<String> {
        match self {
            Condition::All(all) => all.iter().find_map(|c| c.why_not(scope)),
            Condition::Any(any) => {
                let first = any.first()?.why_not(scope)?;
                if any.iter().any(|c| c.eval(scope)) {
                    return None;
                }
                let mut out = String::from("none of the \"any\" conditions held; the first: ");
                out.push_str(&first);
                Some(out)
            }
            Condition::Not(c) => (c.eval(scope)).then(|| String::from("a \"not\" condition held")),
            Condition::Path(test) => {
                if test.matches(&scope.visit.path) {
                    return None;
                }
                let (verb, want) = match test {
                    TextTest::Equals(w) => (" is not ", w),
                    TextTest::StartsWith(w) => (" does not start with ", w),
                    TextTest::Contains(w) => (" does not contain ", w),
                };
                let mut out = String::from("path ");
                crate::json::push_str(&mut out, &scope.visit.path);
                out.push_str(verb);
                crate::json::push_str(&mut out, want);
                Some(out)
            }
            Condition::Count(count) => {
                let seen = count.seen(scope);
                if seen >= count.at_least {
                    return None;
                }
                let mut out = String::from("count: ");
                crate::json::push_num(&mut out, seen.into());
                out.push_str(" matching view(s)");
                if let Some(within) = count.within {
                    out.push_str(" within ");
                    out.push_str(&within.text());
                }
                out.push_str(", needs ");
                crate::json::push_num(&mut out, count.at_least.into());
                Some(out)
            }
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
}

impl Count {
    fn parse(value: &Value, path: &str, depth: usize) -> Result<Count, ConfigError> {
        object(value, path, &["of", "atLeast", "within"])?;
        let of = match value.get("of") {
            None | Some(Value::Null) => None,
            Some(of) => Some(Condition::parse(of, &join(path, "of"), depth + 1)?),
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
        let within = match value.get("within") {
            None | Some(Value::Null) => None,
            Some(v) => {
                let key = join(path, "within");
                let text = crate::value::string(Some(v), &key)?;
                Some(Duration::parse(&text).map_err(|m| ConfigError::new(&key, m))?)
            }
        };
        Ok(Count {
            of,
            at_least,
            within,
        })
    }

    fn eval(&self, scope: Scope<'_>) -> bool {
        self.seen(scope) >= self.at_least
    }

    /// How many views match, counting no further than `at_least`.
    fn seen(&self, scope: Scope<'_>) -> u32 {
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
                    break;
                }
            }
        }
        seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::testing::from_json;

    const DAY: u64 = 86_400_000;

    fn parse(json: &str) -> Result<Condition, String> {
        Condition::from_value(&from_json(json), "if").map_err(|e| e.text())
    }

    fn cond(json: &str) -> Condition {
        parse(json).unwrap_or_else(|e| panic!("{json}: {e}"))
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
    fn why_not_names_the_first_failing_part() {
        let now = 10 * DAY;
        let h = history(&[(now - DAY, "/pricing"), (now, "/home")]);
        let cases = [
            (r#"{"path":{"equals":"/home"}}"#, None),
            (
                r#"{"path":{"startsWith":"/pricing"}}"#,
                Some(r#"path "/home" does not start with "/pricing""#),
            ),
            (
                r#"{"all":[{"path":{"contains":"om"}},{"path":{"equals":"/x"}},{"path":{"equals":"/y"}}]}"#,
                Some(r#"path "/home" is not "/x""#),
            ),
            (
                r#"{"any":[{"path":{"contains":"shoe"}},{"path":{"equals":"/x"}}]}"#,
                Some(
                    r#"none of the "any" conditions held; the first: path "/home" does not contain "shoe""#,
                ),
            ),
            (
                r#"{"any":[{"path":{"contains":"shoe"}},{"path":{"equals":"/home"}}]}"#,
                None,
            ),
            (
                r#"{"not":{"path":{"equals":"/home"}}}"#,
                Some(r#"a "not" condition held"#),
            ),
            (
                r#"{"count":{"of":{"path":{"equals":"/pricing"}},"atLeast":3,"within":"7d"}}"#,
                Some("count: 1 matching view(s) within 1w, needs 3"),
            ),
            (r#"{"count":{"atLeast":2}}"#, None),
        ];
        let visit = &h.visits()[1];
        for (json, want) in cases {
            let c = cond(json);
            let scope = Scope {
                now,
                visit,
                history: &h,
            };
            let got = c.why_not(scope);
            assert_eq!(got.as_deref(), want, "{json}");
            assert_eq!(
                got.is_none(),
                c.eval(scope),
                "why_not agrees with eval: {json}"
            );
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
                r#"{"count":{"atLeast":1,"whithin":"1d"}}"#,
                r#"if.count: unknown key "whithin" (did you mean "within"?)"#,
            ),
            (
                r#"{"count":{"atLeast":0}}"#,
                "if.count.atLeast: must be a whole number, 1 or more",
            ),
            (
                r#"{"count":{"atLeast":2.5}}"#,
                "if.count.atLeast: must be a whole number, 1 or more",
            ),
            (
                r#"{"count":{"within":"1d"}}"#,
                "if.count.atLeast: is required: how many views, e.g. 3",
            ),
            (
                r#"{"count":{"atLeast":1,"within":"a week"}}"#,
                "if.count.within: expected a duration such as \"30s\", \"15m\", \"12h\", \"7d\" or \"2w\"",
            ),
            (
                r#"{"all":[{"path":{"equals":"/"}},{"not":{"path":{"equals":5}}}]}"#,
                "if.all[1].not.path.equals: must be a string",
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
        ];
        for (json, want) in cases {
            assert_eq!(parse(json).unwrap_err(), want, "{json}");
        }
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
