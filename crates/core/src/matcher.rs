//! The operators a condition applies to a value: `{ startsWith: "/pricing" }`,
//! `{ gte: 100 }`, `{ in: ["nl", "be"] }`, `{ regex: "^/p/\\d+$", ignoreCase: true }`,
//! each negatable with `not: true`.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{ConfigError, join, unknown};
use crate::json::{Doc, Span, Tag, at};

/// Regular expressions, evaluated by whoever runs the core: the snippet uses the
/// browser's `RegExp` (so the wasm carries no regex engine), tests use the `regex`
/// crate. Patterns are JavaScript regular expressions.
pub trait Patterns {
    /// Compiles `pattern`: its id for [`Patterns::test`], or why it is not a valid
    /// regular expression.
    fn compile(&self, pattern: &str, ignore_case: bool) -> Result<u32, String>;
    /// Whether `text` matches the compiled pattern `id` somewhere (anchor with `^`
    /// and `$`).
    fn test(&self, id: u32, text: &str) -> bool;
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
    fn compile(&self, _: &str, _: bool) -> Result<u32, String> {
        Err(String::from("regular expressions are not available here"))
    }
    fn test(&self, _: u32, _: &str) -> bool {
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

/// What a [`Test`] checks. The text it compares with is the test's `arg`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    /// The text is exactly the argument.
    Equals,
    /// The text contains the argument.
    Contains,
    /// The text starts with the argument.
    StartsWith,
    /// The text ends with the argument.
    EndsWith,
    /// The text matches the JavaScript regular expression compiled as this id.
    Regex(u32),
    /// The text is one of the [`Item`]s in this range of the program's list.
    In(u32, u32),
    /// The text is a number that compares so with this one.
    Num(Cmp, f64),
}

/// One choice of an `in` list: its text, and its number when the config wrote a
/// number (`in: [10]` then matches "10.00" as `equals: 10` does).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Item {
    /// The choice as text.
    pub text: Span,
    /// The choice as a number, when it was written as one.
    pub num: Option<f64>,
}

/// An operator with its modifiers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Test {
    /// The operator.
    pub op: Op,
    /// Its argument as written: the text to compare with, the pattern, the number.
    pub arg: Span,
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
    // The modifiers, which suggestions offer too.
    "not",
    "ignoreCase",
];

/// What [`Test::matches`] reads besides the value: the program's text and `in`
/// lists, and the regular expressions.
#[derive(Clone, Copy)]
pub struct Args<'a> {
    /// The text the spans point into.
    pub text: &'a str,
    /// The choices of `in` lists.
    pub items: &'a [Item],
    /// The regular expression engine.
    pub patterns: &'a dyn Patterns,
}

impl Test {
    /// Parses `{ <operator>: arg, not?: bool, ignoreCase?: bool }` at node `i` of
    /// `doc`, adding an `in` list's choices to `items`.
    pub fn parse(
        doc: &Doc,
        i: usize,
        path: &str,
        patterns: &dyn Patterns,
        items: &mut Vec<Item>,
    ) -> Result<Test, ConfigError> {
        if doc.tag(i) != Tag::Obj {
            return Err(ConfigError::new(
                path,
                "must be an object with one operator, e.g. { equals: \"...\" }",
            ));
        }
        let mut op = None;
        let mut not = false;
        let mut ignore_case = false;
        for (key, arg) in doc.items(i) {
            let key = doc.at(key);
            let Some(k) = OPS.iter().position(|o| *o == key) else {
                return Err(unknown(path, "unknown operator", key, OPS));
            };
            if k >= 10 {
                let Some(b) = doc.bool(arg) else {
                    return Err(ConfigError::new(&join(path, key), "must be true or false"));
                };
                if k == 10 {
                    not = b;
                } else {
                    ignore_case = b;
                }
                continue;
            }
            if op.is_some() {
                return Err(ConfigError::new(
                    path,
                    "must have exactly one operator (combine with all / any)",
                ));
            }
            op = Some((k, key, arg));
        }
        let Some((k, name, arg)) = op else {
            return Err(ConfigError::new(
                path,
                "must have an operator, e.g. { equals: \"...\" }",
            ));
        };
        let at = join(path, name);
        let node = doc.node(arg);
        let number = doc.num(arg);
        let op = match k {
            // `equals` with a number compares numbers: 100 equals "100.0".
            0 if number.is_some() => Op::Num(Cmp::Eq, number.unwrap_or_default()),
            0..=3 => {
                if doc.text_of(arg).is_none() {
                    return Err(ConfigError::new(&at, "must be text or a number"));
                }
                match k {
                    0 => Op::Equals,
                    1 => Op::Contains,
                    2 => Op::StartsWith,
                    _ => Op::EndsWith,
                }
            }
            4 => {
                let Some(pattern) = doc.str(arg) else {
                    return Err(ConfigError::new(
                        &at,
                        "must be a regular expression as a string",
                    ));
                };
                match patterns.compile(pattern, ignore_case) {
                    Ok(id) => Op::Regex(id),
                    Err(why) => return Err(ConfigError::new(&at, &why)),
                }
            }
            5 => {
                if node.tag != Tag::Arr {
                    return Err(ConfigError::new(&at, "must be a list, e.g. [\"a\", \"b\"]"));
                }
                let from = items.len() as u32;
                for (_, v) in doc.items(arg) {
                    let Some(text) = doc.text_of(v) else {
                        return Err(ConfigError::new(&at, "must be text or a number"));
                    };
                    items.push(Item {
                        text,
                        num: doc.num(v),
                    });
                }
                Op::In(from, items.len() as u32)
            }
            _ => {
                let Some(n) = number else {
                    return Err(ConfigError::new(&at, "must be a number"));
                };
                let cmp = match k {
                    6 => Cmp::Lt,
                    7 => Cmp::Lte,
                    8 => Cmp::Gt,
                    _ => Cmp::Gte,
                };
                Op::Num(cmp, n)
            }
        };
        Ok(Test {
            op,
            arg: node.span,
            not,
            ignore_case,
        })
    }

    /// Whether `text` passes; a missing value (`None`) fails every operator, so it
    /// passes a negated one.
    pub fn matches(&self, text: Option<&str>, args: Args<'_>) -> bool {
        let hit = text.is_some_and(|t| self.op_matches(t, args));
        hit != self.not
    }

    fn op_matches(&self, text: &str, args: Args<'_>) -> bool {
        // On bytes (UTF-8 makes byte matches character matches): `str`'s searchers can
        // panic with formatted messages, which would pull `core::fmt` into the snippet.
        let t = text.as_bytes();
        // As bytes: a span of the config is whole characters, and comparing bytes
        // needs no `str` (whose making checks character boundaries, on every
        // stored event a `count` looks at).
        let w = args
            .text
            .as_bytes()
            .get(self.arg.0 as usize..self.arg.1 as usize)
            .unwrap_or_default();
        let fold = self.ignore_case;
        match self.op {
            Op::Equals => same(t, w, fold),
            Op::Contains => {
                let mut i = 0;
                while let Some(part) = t.get(i..i + w.len()) {
                    if same(part, w, fold) {
                        return true;
                    }
                    i += 1;
                }
                false
            }
            Op::StartsWith => t.get(..w.len()).is_some_and(|p| same(p, w, fold)),
            Op::EndsWith => t
                .len()
                .checked_sub(w.len())
                .and_then(|from| t.get(from..))
                .is_some_and(|p| same(p, w, fold)),
            Op::Regex(id) => args.patterns.test(id, text),
            Op::In(from, to) => {
                let n = crate::number::parse(text);
                for item in args
                    .items
                    .get(from as usize..to as usize)
                    .unwrap_or_default()
                {
                    if same(t, at(args.text, item.text).as_bytes(), fold)
                        || (item.num.is_some() && item.num == n)
                    {
                        return true;
                    }
                }
                false
            }
            Op::Num(cmp, want) => crate::number::parse(text).is_some_and(|n| match cmp {
                Cmp::Eq => n == want,
                Cmp::Lt => n < want,
                Cmp::Lte => n <= want,
                Cmp::Gt => n > want,
                Cmp::Gte => n >= want,
            }),
        }
    }

    /// The test in words, for traces: `starts with "/pricing"`, `is not >= 3`.
    pub fn describe(&self, text: &str) -> String {
        let arg = at(text, self.arg);
        let mut out = String::from(if self.not { "not " } else { "" });
        out.push_str(match self.op {
            Op::Equals => "equal to ",
            Op::Contains => "containing ",
            Op::StartsWith => "starting with ",
            Op::EndsWith => "ending with ",
            Op::Regex(_) => "matching /",
            Op::In(..) => "one of the list",
            Op::Num(Cmp::Eq, _) => "= ",
            Op::Num(Cmp::Lt, _) => "< ",
            Op::Num(Cmp::Lte, _) => "<= ",
            Op::Num(Cmp::Gt, _) => "> ",
            Op::Num(Cmp::Gte, _) => ">= ",
        });
        match self.op {
            Op::Regex(_) => {
                out.push_str(arg);
                out.push('/');
            }
            Op::In(..) => {}
            Op::Num(..) => out.push_str(arg),
            _ => crate::json::push_str(&mut out, arg),
        }
        if self.ignore_case {
            out.push_str(" (ignoring case)");
        }
        out
    }
}

/// Whether two byte strings are equal, ignoring ASCII case when `fold`.
#[inline(always)]
fn same(a: &[u8], b: &[u8], fold: bool) -> bool {
    if fold {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::error::testing::doc;

    /// The `regex` crate standing in for the browser's `RegExp` in tests.
    #[derive(Default)]
    pub struct TestPatterns(core::cell::RefCell<Vec<regex::Regex>>);

    impl Patterns for TestPatterns {
        fn compile(&self, pattern: &str, ignore_case: bool) -> Result<u32, String> {
            let re = regex::RegexBuilder::new(pattern)
                .case_insensitive(ignore_case)
                .build()
                .map_err(|e| {
                    let mut m = String::from("is not a valid regular expression: ");
                    m.push_str(&alloc::string::ToString::to_string(&e));
                    m
                })?;
            let mut all = self.0.borrow_mut();
            all.push(re);
            Ok(all.len() as u32 - 1)
        }
        fn test(&self, id: u32, text: &str) -> bool {
            self.0.borrow()[id as usize].is_match(text)
        }
    }

    /// A parsed test with what it needs to run.
    struct Parsed {
        test: Test,
        doc: Doc,
        items: Vec<Item>,
        patterns: TestPatterns,
    }

    impl core::fmt::Debug for Parsed {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            self.test.fmt(f)
        }
    }

    impl Parsed {
        fn matches(&self, text: Option<&str>) -> bool {
            let args = Args {
                text: self.doc.text(),
                items: &self.items,
                patterns: &self.patterns,
            };
            self.test.matches(text, args)
        }
    }

    fn test(json: &str) -> Result<Parsed, String> {
        let doc = doc(json);
        let patterns = TestPatterns::default();
        let mut items = Vec::new();
        let test = Test::parse(&doc, 0, "path", &patterns, &mut items).map_err(|e| e.text())?;
        Ok(Parsed {
            test,
            doc,
            items,
            patterns,
        })
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
            // Each operator negated.
            (r#"{"startsWith":"/p","not":true}"#, Some("/pricing"), false),
            (r#"{"startsWith":"/p","not":true}"#, Some("/about"), true),
            (r#"{"endsWith":".pdf","not":true}"#, Some("/a/b.pdf"), false),
            (
                r#"{"contains":"shoe","not":true}"#,
                Some("/red-shoes"),
                false,
            ),
            (r#"{"regex":"^/p/","not":true}"#, Some("/p/1"), false),
            (r#"{"in":["nl"],"not":true}"#, Some("nl"), false),
            (r#"{"lt":100,"not":true}"#, Some("99"), false),
            (r#"{"lt":100,"not":true}"#, Some("100"), true),
            (r#"{"lte":100,"not":true}"#, Some("100"), false),
            (r#"{"gt":100,"not":true}"#, Some("100"), true),
            (r#"{"gte":100,"not":true}"#, Some("100"), false),
            (r#"{"equals":100,"not":true}"#, Some("100.0"), false),
            (
                r#"{"startsWith":"/P","ignoreCase":true,"not":true}"#,
                Some("/pricing"),
                false,
            ),
        ];
        for (json, text, want) in cases {
            let t = test(json).unwrap_or_else(|e| panic!("{json}: {e}"));
            assert_eq!(t.matches(*text), *want, "{json} on {text:?}");
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
            let t = test(json).unwrap();
            assert_eq!(t.test.describe(t.doc.text()), want, "{json}");
        }
    }
}
