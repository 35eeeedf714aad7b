//! A plain data tree, the form in which configs and stored data reach the core, and the
//! parsing of it into typed values with errors that name the path and suggest fixes.
//!
//! The snippet builds a [`Value`] from `window.sitehookConfig` (or from `localStorage`)
//! by walking the JS object; the core turns it into triggers. Parsing by hand instead of
//! with serde keeps `core::fmt` and serde's generated code out of the WebAssembly,
//! which is most of its size, and lets errors say *where* (`if.all[1].path`) and
//! *what instead* (`did you mean "startsWith"?`).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

/// A JSON-like value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`, `undefined`, or anything with no data form (a function, a symbol).
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Num(f64),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<Value>),
    /// An object, its keys in their order.
    Obj(Vec<(String, Value)>),
}

/// Whether config errors carry words: the feature `explain`, on by default.
///
/// Without it a parse still fails on exactly the same input, but its [`ConfigError`]
/// is empty (no path, no message, no suggestion) and the code and texts that build
/// them are left out. The snippet's visitor build is made that way: a site whose
/// config is right never downloads its error texts, and a site whose config is wrong
/// gets the snippet's explaining build, which says what is wrong (crates/snippet).
pub const EXPLAIN: bool = cfg!(feature = "explain");

/// A problem in a config, at a path such as `triggers[2].if.all[0].path`.
///
/// Without [`EXPLAIN`] it carries nothing (it is zero-sized), so that a parse's
/// `Result`s are as small as its success values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigError {
    /// Where, relative to the thing being parsed (empty: the thing itself).
    #[cfg(feature = "explain")]
    pub path: String,
    /// What is wrong, and what to do.
    #[cfg(feature = "explain")]
    pub message: String,
}

impl ConfigError {
    /// An error about the value at `path`.
    #[cfg_attr(not(feature = "explain"), inline(always))]
    pub fn new(path: &str, message: &str) -> Self {
        if !EXPLAIN {
            return ConfigError::default();
        }
        ConfigError::with(path, String::from(message))
    }

    #[cfg(feature = "explain")]
    fn with(path: &str, message: String) -> Self {
        ConfigError {
            path: path.into(),
            message,
        }
    }

    #[cfg(not(feature = "explain"))]
    #[inline(always)]
    fn with(_: &str, _: String) -> Self {
        ConfigError {}
    }

    /// `"path: message"`, or the message alone at the top (`""` without
    /// [`EXPLAIN`]).
    #[cfg(feature = "explain")]
    pub fn text(&self) -> String {
        let mut out = self.path.clone();
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&self.message);
        out
    }

    /// `"path: message"`, or the message alone at the top (`""` without
    /// [`EXPLAIN`]).
    #[cfg(not(feature = "explain"))]
    pub fn text(&self) -> String {
        String::new()
    }
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.text())
    }
}

/// Joins a path and a key: `join("if", "all")` is `"if.all"` (`""` without
/// [`EXPLAIN`]: paths only name where an error is).
pub fn join(path: &str, key: &str) -> String {
    if !EXPLAIN {
        return String::new();
    }
    let mut out = String::from(path);
    if !out.is_empty() {
        out.push('.');
    }
    out.push_str(key);
    out
}

/// `index("if.all", 2)` is `"if.all[2]"` (`""` without [`EXPLAIN`]).
pub fn index(path: &str, i: usize) -> String {
    if !EXPLAIN {
        return String::new();
    }
    let mut out = String::from(path);
    out.push('[');
    push_u64(&mut out, i as u64);
    out.push(']');
    out
}

/// Appends the decimal digits of `n` (without `core::fmt`).
pub fn push_u64(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(d as char);
    }
}

impl Value {
    /// The value at `key` of an object (`None` for a missing key or a non-object).
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Obj(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The text, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as field text: strings as they are, booleans and numbers written
    /// out (an age, a flag). `None` for null, arrays and objects.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Value::Str(s) => Some(s.clone()),
            Value::Bool(b) => Some(String::from(if *b { "true" } else { "false" })),
            // Beyond 2^53 a number is not exact; such values are refused, not garbled.
            Value::Num(n) if n.is_finite() && n.abs() < 9.0e15 => Some(number_text(*n)),
            Value::Num(_) => None,
            _ => None,
        }
    }

    /// The number as a whole, non-negative integer, if it is one.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Num(n)
                if *n >= 0.0 && *n <= 9_007_199_254_740_991.0 && *n == (*n as u64) as f64 =>
            {
                Some(*n as u64)
            }
            _ => None,
        }
    }

    /// Whether this is `Null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

/// A number as text: integers exactly, fractions to at most six decimals.
pub fn number_text(n: f64) -> String {
    let mut out = String::new();
    let mut n = n;
    if n < 0.0 {
        out.push('-');
        n = -n;
    }

    let whole = n as u64;
    let mut frac = ((n - whole as f64) * 1_000_000.0 + 0.5) as u64;
    let (whole, carry) = if frac >= 1_000_000 {
        (whole + 1, true)
    } else {
        (whole, false)
    };
    if carry {
        frac = 0;
    }
    push_u64(&mut out, whole);
    if frac > 0 {
        out.push('.');
        let mut digits = String::new();
        push_u64(&mut digits, frac);
        for _ in digits.len()..6 {
            out.push('0');
        }
        // Trailing zeros dropped, on bytes (ASCII digits).
        let mut end = digits.len();
        while end > 1 && digits.as_bytes()[end - 1] == b'0' {
            end -= 1;
        }
        digits.truncate(end);
        out.push_str(&digits);
    }
    out
}

/// Reads the entries of an object, rejecting keys outside `known` with a suggestion.
pub fn object<'a>(
    value: &'a Value,
    path: &str,
    known: &[&str],
) -> Result<&'a [(String, Value)], ConfigError> {
    let Value::Obj(entries) = value else {
        return Err(ConfigError::new(path, "must be an object"));
    };
    for (key, _) in entries {
        if !known.contains(&key.as_str()) {
            return Err(unknown(path, "unknown key", key, known));
        }
    }
    Ok(entries)
}

/// "unknown key \"paht\" (did you mean \"path\"?)", or with the list of choices when
/// nothing is close.
pub fn unknown(path: &str, what: &str, got: &str, known: &[&str]) -> ConfigError {
    if !EXPLAIN {
        return ConfigError::default();
    }
    let mut message = String::from(what);
    message.push_str(" \"");
    message.push_str(got);
    message.push('"');
    match suggest(got, known) {
        Some(near) => {
            message.push_str(" (did you mean \"");
            message.push_str(near);
            message.push_str("\"?)");
        }
        None => {
            message.push_str(" (expected one of ");
            for (i, k) in known.iter().enumerate() {
                if i > 0 {
                    message.push_str(", ");
                }
                message.push_str(k);
            }
            message.push(')');
        }
    }
    ConfigError::with(path, message)
}

/// The closest of `known` to `got`, if it is close: at most two edits away ignoring
/// case, or a start of it (`"restart"` for `"restartAfter"`).
pub fn suggest<'k>(got: &str, known: &[&'k str]) -> Option<&'k str> {
    let got = got.to_ascii_lowercase();
    // The first of the closest; a loop, which is smaller in the snippet than the
    // iterator chain.
    let mut best: Option<(usize, &'k str)> = None;
    for k in known {
        let lower = k.to_ascii_lowercase();
        let d = if got.len() >= 4 && lower.starts_with(&got) {
            1
        } else {
            distance(&got, &lower)
        };
        if d <= 2 && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, k));
        }
    }
    best.map(|(_, k)| k)
}

/// Levenshtein distance over bytes (config keys are ASCII), capped at short inputs.
fn distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() > 64 || b.len() > 64 {
        return usize::MAX;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = Vec::with_capacity(b.len() + 1);
    for (i, ca) in a.iter().enumerate() {
        cur.clear();
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        core::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// A required string field.
pub fn string(value: Option<&Value>, path: &str) -> Result<String, ConfigError> {
    match value {
        Some(Value::Str(s)) => Ok(s.clone()),
        None | Some(Value::Null) => Err(ConfigError::new(path, "is required")),
        Some(_) => Err(ConfigError::new(path, "must be a string")),
    }
}

/// A one-key object such as `{ startsWith: "/p" }`: its key (one of `known`) and value.
pub fn one_of<'a>(
    value: &'a Value,
    path: &str,
    what: &str,
    known: &[&str],
) -> Result<(&'a str, &'a Value), ConfigError> {
    let Value::Obj(entries) = value else {
        if !EXPLAIN {
            return Err(ConfigError::default());
        }
        let mut m = String::from("must be an object with one ");
        m.push_str(what);
        return Err(ConfigError::with(path, m));
    };
    let [(key, inner)] = entries.as_slice() else {
        if !EXPLAIN {
            return Err(ConfigError::default());
        }
        let mut m = String::from("must have exactly one ");
        m.push_str(what);
        m.push_str(", e.g. { ");
        m.push_str(known[0]);
        m.push_str(": ... }");
        return Err(ConfigError::with(path, m));
    };
    if !known.contains(&key.as_str()) {
        if !EXPLAIN {
            return Err(ConfigError::default());
        }
        let mut w = String::from("unknown ");
        w.push_str(what);
        return Err(unknown(path, &w, key, known));
    }
    Ok((key, inner))
}

/// A boxed parse, for recursive types.
pub fn boxed<T>(r: Result<T, ConfigError>) -> Result<Box<T>, ConfigError> {
    r.map(Box::new)
}

#[cfg(test)]
pub(crate) mod testing {
    //! Builds values from JSON text in tests.
    use super::Value;
    use alloc::string::ToString;

    pub fn from_json(text: &str) -> Value {
        convert(serde_json::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}")))
    }

    fn convert(v: serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => Value::Num(n.as_f64().unwrap()),
            serde_json::Value::String(s) => Value::Str(s),
            serde_json::Value::Array(a) => Value::Arr(a.into_iter().map(convert).collect()),
            serde_json::Value::Object(o) => Value::Obj(
                o.into_iter()
                    .map(|(k, v)| (k.to_string(), convert(v)))
                    .collect(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let ops = ["equals", "startsWith", "contains"];
        assert_eq!(suggest("startWith", &ops), Some("startsWith"));
        assert_eq!(suggest("STARTSWITH", &ops), Some("startsWith"));
        assert_eq!(suggest("contain", &ops), Some("contains"));
        assert_eq!(suggest("regex", &ops), None);
        let e = unknown("if.path", "unknown operator", "regex", &ops);
        assert_eq!(
            e.text(),
            "if.path: unknown operator \"regex\" (expected one of equals, startsWith, contains)"
        );
    }

    #[test]
    fn numbers_as_text() {
        let cases = [
            (41.0, "41"),
            (-3.0, "-3"),
            (59.99, "59.99"),
            (0.5, "0.5"),
            (1.0000004, "1"),
            (2.9999999, "3"),
        ];
        for (n, want) in cases {
            assert_eq!(Value::Num(n).as_text().unwrap(), want, "{n}");
        }
        assert_eq!(Value::Num(f64::NAN).as_text(), None);
        assert_eq!(Value::Num(f64::INFINITY).as_text(), None);
        assert_eq!(Value::Num(1e20).as_text(), None);
        assert_eq!(Value::Num(3.0).as_u64(), Some(3));
        assert_eq!(Value::Num(3.5).as_u64(), None);
        assert_eq!(Value::Num(-1.0).as_u64(), None);
    }

    #[test]
    fn paths() {
        assert_eq!(index(&join("if", "all"), 12), "if.all[12]");
        assert_eq!(join("", "id"), "id");
        let mut s = String::new();
        push_u64(&mut s, u64::MAX);
        assert_eq!(s, "18446744073709551615");
    }
}
