//! The operators a condition applies to a value: `{ startsWith: "/pricing" }`,
//! `{ gte: 100 }`, `{ in: ["nl", "be"] }`, `{ regex: "^/p/\\d+$", ignoreCase: true }`,
//! each negatable with `not: true`.

use alloc::string::String;
use alloc::vec::Vec;

use crate::value::{ConfigError, Value, join, unknown};

/// Regular expressions, evaluated by whoever runs the core: the snippet uses the
/// browser's `RegExp` (so the wasm carries no regex engine), tests use the `regex`
/// crate. Patterns are JavaScript regular expressions.
pub trait Patterns {
    /// Why `pattern` is not a valid regular expression; `None` when it is.
    fn check(&self, pattern: &str, ignore_case: bool) -> Option<String>;
    /// Whether `text` matches `pattern` somewhere (anchor with `^` and `$`).
    fn is_match(&self, pattern: &str, ignore_case: bool, text: &str) -> bool;
    /// The first value of query parameter `name` in `query` (`?a=1&b=2`), decoded;
    /// see [`query_param`](crate::condition::query_param). A browser has its own
    /// (`URLSearchParams`), which the snippet uses rather than carry this one.
    fn query_param(&self, query: &str, name: &str) -> Option<String> {
        crate::condition::query_param(query, name)
    }
}

/// For callers that have no regular expressions (the relay, benchmarks): every
/// pattern is refused at parse time, so none is ever evaluated.
pub struct NoPatterns;

impl Patterns for NoPatterns {
    fn check(&self, _: &str, _: bool) -> Option<String> {
        Some(String::from("regular expressions are not available here"))
    }
    fn is_match(&self, _: &str, _: bool, _: &str) -> bool {
        false
    }
}

/// A numeric comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// `equals` with a number.
    Eq,
    /// `lt`.
    Lt,
    /// `lte`.
    Lte,
    /// `gt`.
    Gt,
    /// `gte`.
    Gte,
}

/// What a [`Test`] checks.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// The text is exactly this.
    Equals(String),
    /// The text contains this.
    Contains(String),
    /// The text starts with this.
    StartsWith(String),
    /// The text ends with this.
    EndsWith(String),
    /// The text matches this JavaScript regular expression.
    Regex(String),
    /// The text is one of these.
    /// Each item's text, and its number when the config wrote a number: `in: [10]`
    /// then matches "10.00" as `equals: 10` does.
    In(Vec<(String, Option<f64>)>),
    /// The text is a number that compares so with this one.
    Num(Cmp, f64),
}

/// An operator with its modifiers.
#[derive(Debug, Clone, PartialEq)]
pub struct Test {
    /// The operator and its argument.
    pub op: Op,
    /// `not: true`: the test passes when the operator does not.
    pub not: bool,
    /// `ignoreCase: true`: compare without regard to (ASCII) case.
    pub ignore_case: bool,
}

/// The operator names, in the order suggestions and errors list them.
pub const OPS: &[&str] = &[
    "equals",
    "contains",
    "startsWith",
    "endsWith",
    "regex",
    "in",
    "lt",
    "lte",
    "gt",
    "gte",
];
const MODIFIERS: &[&str] = &["not", "ignoreCase"];

impl Test {
    /// Parses `{ <operator>: arg, not?: bool, ignoreCase?: bool }` at `path`.
    pub fn from_value(
        value: &Value,
        path: &str,
        patterns: &dyn Patterns,
    ) -> Result<Test, ConfigError> {
        let Value::Obj(entries) = value else {
            return Err(ConfigError::new(
                path,
                "must be an object with one operator, e.g. { equals: \"...\" }",
            ));
        };
        let mut op = None;
        let mut not = false;
        let mut ignore_case = false;
        for (key, arg) in entries {
            let at = join(path, key);
            if MODIFIERS.contains(&key.as_str()) {
                let Value::Bool(b) = arg else {
                    return Err(ConfigError::new(&at, "must be true or false"));
                };
                if key == "not" {
                    not = *b;
                } else {
                    ignore_case = *b;
                }
                continue;
            }
            if !OPS.contains(&key.as_str()) {
                let mut known = Vec::from(OPS);
                known.extend_from_slice(MODIFIERS);
                return Err(unknown(path, "unknown operator", key, &known));
            }
            if op.is_some() {
                return Err(ConfigError::new(
                    path,
                    "must have exactly one operator (combine with all / any)",
                ));
            }
            op = Some((key.as_str(), arg, at));
        }
        let Some((name, arg, at)) = op else {
            return Err(ConfigError::new(
                path,
                "must have an operator, e.g. { equals: \"...\" }",
            ));
        };
        let text = |arg: &Value| {
            arg.as_text()
                .ok_or_else(|| ConfigError::new(&at, "must be text or a number"))
        };
        let number = |arg: &Value| match arg {
            Value::Num(n) if n.is_finite() => Ok(*n),
            _ => Err(ConfigError::new(&at, "must be a number")),
        };
        let op = match name {
            "equals" => match arg {
                Value::Num(n) if n.is_finite() => Op::Num(Cmp::Eq, *n),
                _ => Op::Equals(text(arg)?),
            },
            "contains" => Op::Contains(text(arg)?),
            "startsWith" => Op::StartsWith(text(arg)?),
            "endsWith" => Op::EndsWith(text(arg)?),
            "regex" => {
                let Value::Str(pattern) = arg else {
                    return Err(ConfigError::new(
                        &at,
                        "must be a regular expression as a string",
                    ));
                };
                if let Some(why) = patterns.check(pattern, ignore_case) {
                    return Err(ConfigError::new(&at, &why));
                }
                Op::Regex(pattern.clone())
            }
            "in" => {
                let Value::Arr(items) = arg else {
                    return Err(ConfigError::new(&at, "must be a list, e.g. [\"a\", \"b\"]"));
                };
                let mut choices = Vec::with_capacity(items.len());
                for v in items {
                    let number = if let Value::Num(n) = v {
                        Some(*n)
                    } else {
                        None
                    };
                    choices.push((text(v)?, number));
                }
                Op::In(choices)
            }
            "lt" => Op::Num(Cmp::Lt, number(arg)?),
            "lte" => Op::Num(Cmp::Lte, number(arg)?),
            "gt" => Op::Num(Cmp::Gt, number(arg)?),
            _ => Op::Num(Cmp::Gte, number(arg)?),
        };
        let mut test = Test {
            op,
            not,
            ignore_case,
        };
        if ignore_case {
            // Lowercased once here, so each evaluation lowercases only the text.
            match &mut test.op {
                Op::Equals(w) | Op::Contains(w) | Op::StartsWith(w) | Op::EndsWith(w) => {
                    w.make_ascii_lowercase()
                }
                Op::In(ws) => ws.iter_mut().for_each(|(w, _)| w.make_ascii_lowercase()),
                Op::Regex(_) | Op::Num(..) => {}
            }
        }
        Ok(test)
    }

    /// Whether `text` passes; a missing value (`None`) fails every operator, so it
    /// passes a negated one.
    pub fn matches(&self, text: Option<&str>, patterns: &dyn Patterns) -> bool {
        let hit = text.is_some_and(|t| self.op_matches(t, patterns));
        hit != self.not
    }

    fn op_matches(&self, text: &str, patterns: &dyn Patterns) -> bool {
        let lower;
        let text = if self.ignore_case && !matches!(self.op, Op::Regex(_)) {
            lower = text.to_ascii_lowercase();
            lower.as_str()
        } else {
            text
        };
        // On bytes (UTF-8 makes byte matches character matches): `str`'s searchers can
        // panic with formatted messages, which would pull `core::fmt` into the snippet.
        let t = text.as_bytes();
        match &self.op {
            Op::Equals(w) => t == w.as_bytes(),
            Op::Contains(w) => contains(t, w.as_bytes()),
            Op::StartsWith(w) => t.starts_with(w.as_bytes()),
            Op::EndsWith(w) => t.ends_with(w.as_bytes()),
            Op::Regex(p) => patterns.is_match(p, self.ignore_case, text),
            Op::In(ws) => ws.iter().any(|(w, n)| {
                w.as_bytes() == t || n.is_some_and(|n| parse_number(text) == Some(n))
            }),
            Op::Num(cmp, want) => parse_number(text).is_some_and(|n| match cmp {
                Cmp::Eq => n == *want,
                Cmp::Lt => n < *want,
                Cmp::Lte => n <= *want,
                Cmp::Gt => n > *want,
                Cmp::Gte => n >= *want,
            }),
        }
    }

    /// The test in words, for traces: `starts with "/pricing"`, `is not >= 3`.
    pub fn describe(&self) -> String {
        let mut out = String::from(if self.not { "not " } else { "" });
        let (verb, arg): (&str, Option<&str>) = match &self.op {
            Op::Equals(w) => ("equal to ", Some(w)),
            Op::Contains(w) => ("containing ", Some(w)),
            Op::StartsWith(w) => ("starting with ", Some(w)),
            Op::EndsWith(w) => ("ending with ", Some(w)),
            Op::Regex(p) => ("matching /", Some(p)),
            Op::In(_) => ("one of the list", None),
            Op::Num(cmp, _) => (
                match cmp {
                    Cmp::Eq => "= ",
                    Cmp::Lt => "< ",
                    Cmp::Lte => "<= ",
                    Cmp::Gt => "> ",
                    Cmp::Gte => ">= ",
                },
                None,
            ),
        };
        out.push_str(verb);
        match (&self.op, arg) {
            (Op::Regex(_), Some(p)) => {
                out.push_str(p);
                out.push('/');
            }
            (_, Some(w)) => crate::json::push_str(&mut out, w),
            (Op::Num(_, n), None) => out.push_str(&crate::value::number_text(*n)),
            _ => {}
        }
        if self.ignore_case {
            out.push_str(" (ignoring case)");
        }
        out
    }
}

fn contains(text: &[u8], want: &[u8]) -> bool {
    want.is_empty() || text.windows(want.len()).any(|w| w == want)
}

/// Reads a decimal number such as `19.99`, `-3`, `1e3` or ` 42 `; `None` for
/// anything else. Written out rather than `str::parse::<f64>`, whose exact
/// algorithm adds kilobytes to the snippet; comparisons need no last-bit precision.
pub fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim_ascii().as_bytes();
    let (neg, t) = match t.first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut n = 0f64;
    let mut digits = 0;
    let mut scale = 0i32;
    let mut i = 0;
    let mut dot = false;
    while i < t.len() {
        match t[i] {
            c @ b'0'..=b'9' => {
                n = n * 10.0 + f64::from(c - b'0');
                digits += 1;
                if dot {
                    scale -= 1;
                }
            }
            b'.' if !dot => dot = true,
            _ => break,
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    if i < t.len() {
        if t[i] != b'e' && t[i] != b'E' {
            return None;
        }
        // Bytes, not `str` slices: a `str` slice can panic, and its panic message
        // would bring `core::fmt` into the wasm.
        let rest = t.get(i + 1..).unwrap_or_default();
        let (eneg, rest) = match rest.split_first() {
            Some((b'-', r)) => (true, r),
            Some((b'+', r)) => (false, r),
            _ => (false, rest),
        };
        if rest.is_empty() || rest.len() > 3 || !rest.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let e = rest.iter().fold(0i32, |e, b| e * 10 + i32::from(b - b'0'));
        scale += if eneg { -e } else { e };
    }
    // Dividing by an exact power of ten keeps "19.99" at the nearest double.
    let mut p = 1f64;
    for _ in 0..scale.unsigned_abs().min(400) {
        p *= 10.0;
    }
    let n = if scale < 0 { n / p } else { n * p };
    Some(if neg { -n } else { n })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::value::testing::from_json;

    /// The `regex` crate standing in for the browser's `RegExp` in tests.
    pub struct TestPatterns;

    impl Patterns for TestPatterns {
        fn check(&self, pattern: &str, _: bool) -> Option<String> {
            regex::Regex::new(pattern).err().map(|e| {
                let mut m = String::from("is not a valid regular expression: ");
                m.push_str(&alloc::string::ToString::to_string(&e));
                m
            })
        }
        fn is_match(&self, pattern: &str, ignore_case: bool, text: &str) -> bool {
            regex::RegexBuilder::new(pattern)
                .case_insensitive(ignore_case)
                .build()
                .is_ok_and(|r| r.is_match(text))
        }
    }

    fn test(json: &str) -> Result<Test, String> {
        Test::from_value(&from_json(json), "path", &TestPatterns).map_err(|e| e.text())
    }

    #[test]
    fn every_operator() {
        let cases: &[(&str, Option<&str>, bool)] = &[
            (r#"{"equals":"/a"}"#, Some("/a"), true),
            (r#"{"equals":"/a"}"#, Some("/A"), false),
            (r#"{"equals":"/a","ignoreCase":true}"#, Some("/A"), true),
            (r#"{"equals":"/a","not":true}"#, Some("/a"), false),
            (r#"{"equals":"/a","not":true}"#, Some("/b"), true),
            (r#"{"equals":"/a","not":true}"#, None, true),
            (r#"{"equals":"/a"}"#, None, false),
            (r#"{"contains":"shoe"}"#, Some("/red-shoes"), true),
            (
                r#"{"contains":"SHOE","ignoreCase":true}"#,
                Some("/Red-Shoes"),
                true,
            ),
            (r#"{"contains":""}"#, Some(""), true),
            (r#"{"contains":"x","not":true}"#, Some("/red"), true),
            (r#"{"startsWith":"/p"}"#, Some("/pricing"), true),
            (r#"{"startsWith":"/p"}"#, Some("/about/p"), false),
            (r#"{"endsWith":".pdf"}"#, Some("/a/b.pdf"), true),
            (
                r#"{"endsWith":".PDF","ignoreCase":true}"#,
                Some("/a/b.pdf"),
                true,
            ),
            (r#"{"endsWith":".pdf"}"#, Some("/a/b.pdfx"), false),
            (r#"{"regex":"^/p/\\d+$"}"#, Some("/p/42"), true),
            (r#"{"regex":"^/p/\\d+$"}"#, Some("/p/42/x"), false),
            (r#"{"regex":"^/P/","ignoreCase":true}"#, Some("/p/42"), true),
            (r#"{"regex":"^/p/","not":true}"#, Some("/q"), true),
            (r#"{"in":["nl","be"]}"#, Some("be"), true),
            (r#"{"in":[10, 20]}"#, Some("10.00"), true),
            (r#"{"in":["10", 20]}"#, Some("10.00"), false),
            (r#"{"in":["nl","be"]}"#, Some("de"), false),
            (r#"{"in":["NL"],"ignoreCase":true}"#, Some("nl"), true),
            (r#"{"in":[1,2]}"#, Some("2"), true),
            (r#"{"in":["nl"],"not":true}"#, Some("de"), true),
            (r#"{"equals":100}"#, Some("100.0"), true),
            (r#"{"equals":100}"#, Some("99"), false),
            (r#"{"lt":100}"#, Some("99.99"), true),
            (r#"{"lt":100}"#, Some("100"), false),
            (r#"{"lte":100}"#, Some("100"), true),
            (r#"{"gt":100}"#, Some("100"), false),
            (r#"{"gt":100}"#, Some("1e3"), true),
            (r#"{"gte":19.99}"#, Some("19.99"), true),
            (r#"{"gte":0}"#, Some("-0.5"), false),
            (r#"{"gte":0}"#, Some("free"), false),
            (r#"{"gte":0,"not":true}"#, Some("free"), true),
            (r#"{"gt":1}"#, None, false),
        ];
        for (json, text, want) in cases {
            let t = test(json).unwrap_or_else(|e| panic!("{json}: {e}"));
            assert_eq!(t.matches(*text, &TestPatterns), *want, "{json} on {text:?}");
        }
    }

    #[test]
    fn parse_errors_name_the_operator() {
        let cases = [
            (
                r#"{"startWith":"/p"}"#,
                r#"path: unknown operator "startWith" (did you mean "startsWith"?)"#,
            ),
            (
                r#"{"equals":"/a","contains":"b"}"#,
                "path: must have exactly one operator (combine with all / any)",
            ),
            (
                r#"{"not":true}"#,
                r#"path: must have an operator, e.g. { equals: "..." }"#,
            ),
            (r#"{"gt":"3"}"#, "path.gt: must be a number"),
            (
                r#"{"in":"nl"}"#,
                r#"path.in: must be a list, e.g. ["a", "b"]"#,
            ),
            (r#"{"equals":[1]}"#, "path.equals: must be text or a number"),
            (
                r#"{"equals":"a","not":"yes"}"#,
                "path.not: must be true or false",
            ),
            (
                r#"{"regex":"(unclosed"}"#,
                "path.regex: is not a valid regular expression: regex parse error:\n    (unclosed\n    ^\nerror: unclosed group",
            ),
            (
                r#""/p""#,
                r#"path: must be an object with one operator, e.g. { equals: "..." }"#,
            ),
        ];
        for (json, want) in cases {
            assert_eq!(test(json).unwrap_err(), want, "{json}");
        }
    }

    #[test]
    fn numbers() {
        let cases = [
            ("42", Some(42.0)),
            (" 42 ", Some(42.0)),
            ("-3.5", Some(-3.5)),
            ("+7", Some(7.0)),
            ("19.99", Some(19.99)),
            ("0.1", Some(0.1)),
            ("1e3", Some(1000.0)),
            ("2.5E-1", Some(0.25)),
            (".5", Some(0.5)),
            ("5.", Some(5.0)),
            ("", None),
            ("-", None),
            ("12abc", None),
            ("1e", None),
            ("1.2.3", None),
            ("€5", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_number(text), want, "{text:?}");
        }
    }

    #[test]
    fn describe_reads_as_words() {
        let cases = [
            (r#"{"startsWith":"/p"}"#, r#"starting with "/p""#),
            (r#"{"equals":"x","not":true}"#, r#"not equal to "x""#),
            (r#"{"gte":3}"#, ">= 3"),
            (
                r#"{"regex":"^a","ignoreCase":true}"#,
                "matching /^a/ (ignoring case)",
            ),
            (r#"{"in":["a"]}"#, "one of the list"),
        ];
        for (json, want) in cases {
            assert_eq!(test(json).unwrap().describe(), want, "{json}");
        }
    }
}
