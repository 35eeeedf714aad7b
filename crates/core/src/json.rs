//! JSON: a small writer, and [`Doc`], a reader that keeps a document as one flat list
//! of nodes over its own text.
//!
//! Everything the snippet reads arrives as JSON text: the page's config and the
//! arguments of its API calls (the loader passes them through `JSON.stringify`), and
//! what it stored in `localStorage`. A [`Doc`] holds that text and a tape of
//! [`Node`]s in document order, each naming its text by a [`Span`]: a string without
//! escapes is the span of its own characters, so reading allocates one vector and no
//! strings. Decoded escapes are appended to the end of the text. One flat vector of a
//! `Copy` type, instead of a tree of owned values, keeps the WebAssembly small: there
//! is no drop glue or cloning to generate, and whatever the core builds from a
//! document refers to it by spans and node indices.

use alloc::string::String;
use alloc::vec::Vec;

use crate::number::push_u64;

/// A range of bytes of a text: `start..end`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span(pub u32, pub u32);

impl Span {
    /// Whether the span is empty.
    pub fn is_empty(self) -> bool {
        self.1 <= self.0
    }
}

/// The text of `span` in `text`; `""` for a span that is out of range or not on
/// character boundaries (never the case for the spans a [`Doc`] makes).
#[inline(always)]
pub fn at(text: &str, span: Span) -> &str {
    // `get`, not indexing, whose panic would bring formatting code into the snippet.
    text.get(span.0 as usize..span.1 as usize)
        .unwrap_or_default()
}

/// What a [`Node`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    /// `null`.
    Null,
    /// `true` or `false` (the span says which).
    Bool,
    /// A number: the span is its text as written.
    Num,
    /// A string: the span is its decoded text.
    Str,
    /// An array: its elements follow.
    Arr,
    /// An object: each key (a `Str` node) follows, then its value.
    Obj,
}

/// One value of a [`Doc`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    /// What it is.
    pub tag: Tag,
    /// Its text (see [`Tag`]).
    pub span: Span,
    /// The index just past its last descendant: where its next sibling starts.
    pub end: u32,
}

/// A parsed JSON document: its text and its nodes, the root first.
#[derive(Debug, Clone, Default)]
pub struct Doc {
    text: String,
    nodes: Vec<Node>,
}

/// An empty document: its root is `null`.
pub static EMPTY: Doc = Doc {
    text: String::new(),
    nodes: Vec::new(),
};

/// Deepest nesting read. Above what the core accepts (conditions nest 16 deep, two
/// JSON levels each), so that its clearer error wins.
pub const MAX_DEPTH: u32 = 64;

/// The node that stands in for a missing one.
const NULL: Node = Node {
    tag: Tag::Null,
    span: Span(0, 0),
    end: 0,
};

impl Doc {
    /// Parses `text`; `None` when it is not one JSON value (storage is untrusted, and
    /// a value the snippet cannot read is treated as missing).
    pub fn parse(text: String) -> Option<Doc> {
        let mut p = Parser {
            s: &text,
            b: text.as_bytes(),
            i: 0,
            nodes: Vec::new(),
            extra: String::new(),
        };
        p.value(0)?;
        p.ws();
        if p.i != p.b.len() {
            return None;
        }
        let (nodes, extra) = (p.nodes, p.extra);
        let mut text = text;
        text.push_str(&extra);
        Some(Doc { text, nodes })
    }

    /// Parses `text`, or gives an empty document (a root that is `null`).
    pub fn parse_or_empty(text: String) -> Doc {
        Doc::parse(text).unwrap_or_default()
    }

    /// The document's text (with decoded escapes at its end).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Takes the document's text, leaving it empty.
    pub fn into_text(self) -> String {
        self.text
    }

    /// Node `i`; a `null` node past the end (the root of an empty document).
    pub fn node(&self, i: usize) -> Node {
        self.nodes.get(i).copied().unwrap_or(NULL)
    }

    /// The tag of node `i`.
    pub fn tag(&self, i: usize) -> Tag {
        self.node(i).tag
    }

    /// Whether node `i` is `null` or missing.
    pub fn is_null(&self, i: usize) -> bool {
        self.tag(i) == Tag::Null
    }

    /// The text of `span`.
    pub fn at(&self, span: Span) -> &str {
        at(&self.text, span)
    }

    /// The string at node `i`, if it is one.
    pub fn str(&self, i: usize) -> Option<&str> {
        let n = self.node(i);
        (n.tag == Tag::Str).then(|| self.at(n.span))
    }

    /// The boolean at node `i`, if it is one.
    pub fn bool(&self, i: usize) -> Option<bool> {
        let n = self.node(i);
        (n.tag == Tag::Bool).then(|| self.at(n.span) == "true")
    }

    /// The number at node `i`, if it is one.
    pub fn num(&self, i: usize) -> Option<f64> {
        let n = self.node(i);
        if n.tag != Tag::Num {
            return None;
        }
        crate::number::parse(self.at(n.span))
    }

    /// The number at node `i` as a whole, non-negative integer, if it is one.
    pub fn u64(&self, i: usize) -> Option<u64> {
        let n = self.num(i)?;
        ((0.0..=9_007_199_254_740_991.0).contains(&n) && n == (n as u64) as f64).then_some(n as u64)
    }

    /// The value at node `i` as field text: a string as it is, a number or boolean as
    /// written. `None` for null, arrays, objects and numbers beyond 2^53, which
    /// would not be exact: such values are refused, not garbled.
    pub fn text_of(&self, i: usize) -> Option<Span> {
        let n = self.node(i);
        match n.tag {
            Tag::Str | Tag::Bool => Some(n.span),
            Tag::Num => self.num(i).filter(|v| v.abs() < 9.0e15).map(|_| n.span),
            _ => None,
        }
    }

    /// The node after node `i` and its descendants: the next element of an array (in
    /// an object, the next key).
    pub fn next(&self, i: usize) -> usize {
        (self.node(i).end as usize).max(i.saturating_add(1))
    }

    /// The members of an object or the elements of an array at node `i` (nothing
    /// for anything else): `(key, value)`, the key a span into the text (empty for
    /// an array's elements).
    pub fn items(&self, i: usize) -> Items<'_> {
        let n = self.node(i);
        let obj = n.tag == Tag::Obj;
        let (at, end) = if obj || n.tag == Tag::Arr {
            (i + 1, n.end as usize)
        } else {
            (0, 0)
        };
        Items {
            doc: self,
            at,
            end,
            obj,
        }
    }

    /// How many members or elements node `i` has.
    pub fn len(&self, i: usize) -> usize {
        let mut n = 0;
        for _ in self.items(i) {
            n += 1;
        }
        n
    }

    /// The value of member `key` of the object at node `i`; when there is none, an
    /// index past the end, which reads as `null` (so a missing key and `null` read
    /// alike, as configs mean them). An index rather than an `Option`: this is the
    /// document's most used function, and WebAssembly returns an `Option<usize>`
    /// through memory.
    pub fn get(&self, i: usize, key: &str) -> usize {
        for (k, v) in self.items(i) {
            if self.at(k) == key {
                return v;
            }
        }
        usize::MAX
    }

    /// The value of member `key` of the object at node `i`, unless it is missing or
    /// `null` (configs write `null` for "not set").
    #[inline]
    pub fn field(&self, i: usize, key: &str) -> Option<usize> {
        let v = self.get(i, key);
        (!self.is_null(v)).then_some(v)
    }

    /// The text of member `key` of the root object, as [`Doc::text_of`] reads it.
    pub fn root_text(&self, key: &str) -> Option<&str> {
        self.text_of(self.get(0, key)).map(|s| self.at(s))
    }
}

/// The members or elements of a node; see [`Doc::items`].
pub struct Items<'a> {
    doc: &'a Doc,
    at: usize,
    end: usize,
    obj: bool,
}

impl Iterator for Items<'_> {
    type Item = (Span, usize);

    fn next(&mut self) -> Option<(Span, usize)> {
        if self.at >= self.end {
            return None;
        }
        let mut key = Span(0, 0);
        if self.obj {
            key = self.doc.node(self.at).span;
            self.at += 1;
        }
        let value = self.at;
        // A node's `end` is past its descendants: the next sibling.
        self.at = (self.doc.node(value).end as usize).max(value + 1);
        Some((key, value))
    }
}

struct Parser<'a> {
    /// The text, and the same as bytes. Every span the parser cuts from it starts and
    /// ends next to an ASCII character, so `str::get` takes it without a UTF-8 check.
    s: &'a str,
    b: &'a [u8],
    i: usize,
    nodes: Vec<Node>,
    /// Decoded strings that had escapes, appended to the text afterwards.
    extra: String,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while matches!(self.b.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn byte(&self) -> u8 {
        self.b.get(self.i).copied().unwrap_or(0)
    }

    fn push(&mut self, tag: Tag, start: usize, end: usize) -> usize {
        let at = self.nodes.len();
        self.nodes.push(Node {
            tag,
            span: Span(start as u32, end as u32),
            end: at as u32 + 1,
        });
        at
    }

    fn value(&mut self, depth: u32) -> Option<()> {
        if depth > MAX_DEPTH || self.b.len() > u32::MAX as usize / 2 {
            return None;
        }
        self.ws();
        let start = self.i;
        let c = self.byte();
        match c {
            b'{' | b'[' => {
                let obj = c == b'{';
                let at = self.push(if obj { Tag::Obj } else { Tag::Arr }, start, start);
                self.i += 1;
                self.ws();
                let close = if obj { b'}' } else { b']' };
                if self.byte() == close {
                    self.i += 1;
                } else {
                    loop {
                        if obj {
                            self.ws();
                            if self.byte() != b'"' {
                                return None;
                            }
                            self.string()?;
                            self.ws();
                            if self.byte() != b':' {
                                return None;
                            }
                            self.i += 1;
                        }
                        self.value(depth + 1)?;
                        self.ws();
                        let c = self.byte();
                        self.i += 1;
                        if c == close {
                            break;
                        }
                        if c != b',' {
                            return None;
                        }
                    }
                }
                let end = self.nodes.len() as u32;
                let node = self.nodes.get_mut(at)?;
                node.end = end;
                node.span.1 = self.i as u32;
            }
            b'"' => self.string()?,
            b't' | b'f' | b'n' => {
                let word: &[u8] = match c {
                    b't' => b"true",
                    b'f' => b"false",
                    _ => b"null",
                };
                if !self.b.get(start..)?.starts_with(word) {
                    return None;
                }
                self.i += word.len();
                let tag = if c == b'n' { Tag::Null } else { Tag::Bool };
                self.push(tag, start, self.i);
            }
            _ => {
                while matches!(self.byte(), b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
                    self.i += 1;
                }
                crate::number::parse(self.s.get(start..self.i)?)?;
                self.push(Tag::Num, start, self.i);
            }
        }
        Some(())
    }

    /// A string at `self.i` (its opening quote): a span of the text when it has no
    /// escapes, else decoded into `extra`.
    fn string(&mut self) -> Option<()> {
        self.i += 1;
        let start = self.i;
        loop {
            match self.b.get(self.i)? {
                b'"' => break,
                b'\\' => return self.escaped(start),
                // Control characters are not allowed raw in JSON strings.
                0..=0x1f => return None,
                _ => self.i += 1,
            }
        }
        self.push(Tag::Str, start, self.i);
        self.i += 1;
        Some(())
    }

    /// The rest of a string with escapes, from `start`, decoded into `extra`.
    fn escaped(&mut self, start: usize) -> Option<()> {
        let from = self.b.len() + self.extra.len();
        // The part before the first escape is whole characters: it ends at a `\`.
        self.extra.push_str(self.s.get(start..self.i)?);
        loop {
            let c = *self.b.get(self.i)?;
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let e = *self.b.get(self.i)?;
                    self.i += 1;
                    let ch = match e {
                        b'n' => '\n',
                        b't' => '\t',
                        b'r' => '\r',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'u' => {
                            let mut cp = self.hex4()?;
                            // A surrogate pair written as two escapes.
                            if (0xd800..0xdc00).contains(&cp)
                                && self.b.get(self.i..self.i + 2) == Some(b"\\u")
                            {
                                self.i += 2;
                                let low = self.hex4()?;
                                cp = 0x10000
                                    + ((cp - 0xd800) << 10)
                                    + (low.wrapping_sub(0xdc00) & 0x3ff);
                            }
                            char::from_u32(cp).unwrap_or('\u{fffd}')
                        }
                        b'"' | b'\\' | b'/' => e as char,
                        _ => return None,
                    };
                    self.extra.push(ch);
                }
                0..=0x1f => return None,
                _ => {
                    // The bytes of one character (the text is UTF-8), up to the next
                    // quote or escape, copied as they are.
                    let at = self.i - 1;
                    while !matches!(self.b.get(self.i), None | Some(b'"' | b'\\' | 0..=0x1f)) {
                        self.i += 1;
                    }
                    self.extra.push_str(self.s.get(at..self.i)?);
                }
            }
        }
        let to = self.b.len() + self.extra.len();
        self.push(Tag::Str, from, to);
        Some(())
    }

    fn hex4(&mut self) -> Option<u32> {
        let mut n = 0;
        for _ in 0..4 {
            let d = (*self.b.get(self.i)? as char).to_digit(16)?;
            n = n * 16 + d;
            self.i += 1;
        }
        Some(n)
    }
}

/// Appends `text` as a JSON string literal.
pub fn push_str(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // U+2028/2029 are valid JSON but end lines in older JavaScript parsers.
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let n = c as u32;
                out.push_str("\\u");
                for shift in [12, 8, 4, 0] {
                    out.push(HEX[((n >> shift) & 0xf) as usize] as char);
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends `"key":` (with a leading comma unless `first`).
pub fn push_key(out: &mut String, key: &str, first: bool) {
    if !first {
        out.push(',');
    }
    push_str(out, key);
    out.push(':');
}

/// Appends a non-negative integer.
pub fn push_num(out: &mut String, n: u64) {
    push_u64(out, n);
}

/// Appends an object of string pairs.
pub fn push_map<'a>(out: &mut String, pairs: impl IntoIterator<Item = (&'a String, &'a String)>) {
    out.push('{');
    for (i, (k, v)) in pairs.into_iter().enumerate() {
        push_key(out, k, i == 0);
        push_str(out, v);
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn doc(text: &str) -> Doc {
        Doc::parse(text.to_string()).unwrap_or_else(|| panic!("parses: {text}"))
    }

    #[test]
    fn strings_round_trip_through_a_real_json_parser() {
        for text in [
            "plain",
            "quote \" and \\ back",
            "line\nbreak\ttab\r",
            "\u{1}\u{1f}",
            "é ✓ 😀",
            "\u{2028}",
        ] {
            let mut out = String::new();
            push_str(&mut out, text);
            let back: String = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{out}: {e}"));
            assert_eq!(back, text);
            assert_eq!(doc(&out).str(0), Some(text), "our reader: {out}");
        }
    }

    #[test]
    fn reads_what_json_stringify_writes() {
        let d = doc(
            r#" {"a": [1, -2.5e3, true, null, "x\u00e9\ud83d\ude00\"y"], "b": {}, "c": {"d": "e"}} "#,
        );
        assert_eq!(d.tag(0), Tag::Obj);
        let a = d.get(0, "a");
        let items: Vec<usize> = d.items(a).map(|(_, v)| v).collect();
        assert_eq!(items.len(), 5);
        assert_eq!(d.num(items[0]), Some(1.0));
        assert_eq!(d.num(items[1]), Some(-2500.0));
        assert_eq!(d.bool(items[2]), Some(true));
        assert!(d.is_null(items[3]));
        assert_eq!(d.str(items[4]), Some("xé😀\"y"));
        assert_eq!(d.len(d.get(0, "b")), 0);
        let c = d.get(0, "c");
        assert_eq!(d.str(d.get(c, "d")), Some("e"));
        let keys: Vec<&str> = d.items(0).map(|(k, _)| d.at(k)).collect();
        assert_eq!(keys, ["a", "b", "c"]);
        assert!(d.is_null(d.get(0, "z")));
        assert_eq!(d.text_of(items[1]).map(|s| d.at(s)), Some("-2.5e3"));
        assert_eq!(d.text_of(items[2]).map(|s| d.at(s)), Some("true"));
        assert_eq!(d.text_of(items[3]), None);
    }

    #[test]
    fn refuses_what_is_not_json() {
        for bad in [
            "",
            "{",
            "[1,]x",
            "{\"a\"}",
            "{\"a\":1,}",
            "tru",
            "\"open",
            "[1 2]",
            "{'a':1}",
            "\"a\nb\"",
            "1 2",
            "nan",
            "\"\\x\"",
        ] {
            assert!(Doc::parse(bad.to_string()).is_none(), "{bad:?}");
        }
        let deep = "[".repeat(70) + &"]".repeat(70);
        assert!(Doc::parse(deep).is_none(), "too deep");
        let ok = "[".repeat(60) + &"]".repeat(60);
        assert!(Doc::parse(ok).is_some());
        assert!(Doc::parse_or_empty("junk".into()).is_null(0));
    }

    #[test]
    fn agrees_with_serde_json_on_a_corpus() {
        let corpus = [
            r#"{"relay":"http://127.0.0.1:1","profile":{"profileid":"p-1","age":41},"triggers":[{"id":"a","if":{"all":[{"path":{"startsWith":"/p"}}]}}]}"#,
            r#"[{"t":1700000000000,"p":"/a\\b","e":"x"},{"t":2,"p":"/"}]"#,
            r#"{"n":3,"s":1,"l":2}"#,
        ];
        for text in corpus {
            let want: serde_json::Value = serde_json::from_str(text).unwrap();
            let d = doc(text);
            assert_eq!(to_serde(&d, 0), want, "{text}");
        }
    }

    fn to_serde(d: &Doc, i: usize) -> serde_json::Value {
        use serde_json::Value as V;
        match d.tag(i) {
            Tag::Null => V::Null,
            Tag::Bool => V::Bool(d.bool(i).unwrap()),
            Tag::Num => serde_json::from_str(d.at(d.node(i).span)).unwrap(),
            Tag::Str => V::String(d.str(i).unwrap().into()),
            Tag::Arr => V::Array(d.items(i).map(|(_, v)| to_serde(d, v)).collect()),
            Tag::Obj => V::Object(
                d.items(i)
                    .map(|(k, v)| (d.at(k).to_string(), to_serde(d, v)))
                    .collect(),
            ),
        }
    }
}
