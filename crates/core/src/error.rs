//! Config errors that name the path (`triggers[2].if.all[0].path`) and suggest a fix
//! (`did you mean "startsWith"?`), and the checks on a [`Doc`] that make them.

use alloc::string::String;

use crate::json::{Doc, Span, Tag};
use crate::number::push_u64;

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
    let got = got.as_bytes();
    // The first of the closest; a loop, which is smaller in the snippet than the
    // iterator chain.
    let (mut best, mut best_d) = (None, 3);
    for k in known {
        let kb = k.as_bytes();
        let d = if got.len() >= 4
            && kb
                .get(..got.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(got))
        {
            1
        } else {
            distance(got, kb)
        };
        if d < best_d {
            (best, best_d) = (Some(*k), d);
        }
    }
    best
}

/// Levenshtein distance over bytes, ignoring ASCII case (config keys are ASCII),
/// capped at short inputs.
fn distance(a: &[u8], b: &[u8]) -> usize {
    const MAX: usize = 64;
    if a.len() > MAX || b.len() > MAX {
        return usize::MAX;
    }
    // One row of the table, on the stack.
    let mut row = [0usize; MAX + 1];
    for (j, cell) in row.iter_mut().enumerate() {
        *cell = j;
    }
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(!ca.eq_ignore_ascii_case(cb)))
                .min(above + 1)
                .min(row[j] + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Checks that node `i` is an object whose keys are all in `known`.
pub fn object(doc: &Doc, i: usize, path: &str, known: &[&str]) -> Result<(), ConfigError> {
    if doc.tag(i) != Tag::Obj {
        return Err(ConfigError::new(path, "must be an object"));
    }
    for (key, _) in doc.items(i) {
        let key = doc.at(key);
        if !known.contains(&key) {
            return Err(unknown(path, "unknown key", key, known));
        }
    }
    Ok(())
}

/// A required string at node `i` (a member's value; missing reads as null).
pub fn string(doc: &Doc, i: usize, path: &str) -> Result<Span, ConfigError> {
    if doc.is_null(i) {
        return Err(ConfigError::new(path, "is required"));
    }
    let n = doc.node(i);
    if n.tag != Tag::Str {
        return Err(ConfigError::new(path, "must be a string"));
    }
    Ok(n.span)
}

/// A one-key object such as `{ startsWith: "/p" }`: its key (one of `known`) and the
/// key's value.
pub fn one_of<'d>(
    doc: &'d Doc,
    i: usize,
    path: &str,
    what: &str,
    known: &[&str],
) -> Result<(&'d str, usize), ConfigError> {
    if doc.tag(i) != Tag::Obj {
        if !EXPLAIN {
            return Err(ConfigError::default());
        }
        let mut m = String::from("must be an object with one ");
        m.push_str(what);
        return Err(ConfigError::with(path, m));
    }
    let mut items = doc.items(i);
    let (Some((key, value)), None) = (items.next(), items.next()) else {
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
    let key = doc.at(key);
    if !known.contains(&key) {
        if !EXPLAIN {
            return Err(ConfigError::default());
        }
        let mut w = String::from("unknown ");
        w.push_str(what);
        return Err(unknown(path, &w, key, known));
    }
    Ok((key, value))
}

#[cfg(test)]
pub(crate) mod testing {
    //! Documents from JSON text in tests.
    use crate::json::Doc;
    use alloc::string::ToString;

    pub fn doc(text: &str) -> Doc {
        Doc::parse(text.to_string()).unwrap_or_else(|| panic!("not JSON: {text}"))
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
        assert_eq!(suggest("", &ops), None);
        assert_eq!(distance(b"kitten", b"sitting"), 3);
        assert_eq!(distance(b"", b"abc"), 3);
        let e = unknown("if.path", "unknown operator", "regex", &ops);
        assert_eq!(
            e.text(),
            "if.path: unknown operator \"regex\" (expected one of equals, startsWith, contains)"
        );
    }

    #[test]
    fn paths() {
        assert_eq!(index(&join("if", "all"), 12), "if.all[12]");
        assert_eq!(join("", "id"), "id");
    }
}
