//! The boundary to JavaScript: JS values into [`Value`], and console lines.
//!
//! Everything read from the page is untrusted: the walk is bounded in depth, size and
//! string length, a throwing getter reads as missing, and nothing here throws back
//! into the page.

use alloc::string::String;
use alloc::vec::Vec;

use sitehook_core::Value;
use wasm_bindgen::{JsCast, JsValue};

use crate::web;

/// Deepest nesting read; deeper values read as `null`. Above what the core accepts
/// (conditions nest 16 deep, two JS levels each), so its clearer error wins.
const MAX_DEPTH: usize = 48;
/// Most values read from one JS value (a runaway config reads as cut short).
const MAX_NODES: usize = 50_000;
/// Most items read from one array, keys from one object.
const MAX_ITEMS: u32 = 2_000;
/// Longest string read; longer ones read as `null`, so a field reports "is required"
/// or "must be a string" rather than filling storage. Above anything the snippet
/// stores, so that what it wrote always reads back.
const MAX_STRING: usize = 64 * 1024;

/// Reads a JS value into a [`Value`].
pub fn to_value(value: &JsValue) -> Value {
    let mut budget = MAX_NODES;
    walk(value, 0, &mut budget)
}

fn walk(value: &JsValue, depth: usize, budget: &mut usize) -> Value {
    if *budget == 0 || depth > MAX_DEPTH {
        return Value::Null;
    }
    *budget -= 1;
    if let Some(text) = value.as_string() {
        return if text.len() <= MAX_STRING {
            Value::Str(text)
        } else {
            Value::Null
        };
    }
    if let Some(b) = value.as_bool() {
        return Value::Bool(b);
    }
    if let Some(n) = value.as_f64() {
        return Value::Num(n);
    }
    if web::Array::is_array(value) {
        let array: &web::Array = value.unchecked_ref();
        let len = array.length().min(MAX_ITEMS);
        let mut items = Vec::with_capacity(len as usize);
        for i in 0..len {
            items.push(walk(&array.get(i), depth + 1, budget));
        }
        return Value::Arr(items);
    }
    if value.is_object() && !value.is_function() {
        let keys = web::keys(value);
        let len = keys.length().min(MAX_ITEMS);
        let mut entries = Vec::with_capacity(len as usize);
        for i in 0..len {
            let Some(name) = keys.get(i).as_string() else {
                continue;
            };
            let item = web::get(value, &name).unwrap_or(JsValue::UNDEFINED);
            entries.push((name, walk(&item, depth + 1, budget)));
        }
        return Value::Obj(entries);
    }
    Value::Null
}

/// Parses JSON text with the browser's `JSON.parse`; `Null` if it is not JSON.
pub fn parse_json(text: &str) -> Value {
    web::parse(text)
        .map(|v| to_value(&v))
        .unwrap_or(Value::Null)
}

/// `performance.now()`, in milliseconds (0 where there is no Performance API).
pub fn now(window: &web::Window) -> f64 {
    window.performance().map_or(0.0, |p| p.now())
}

/// `console.warn("sitehook: " + parts...)`.
pub fn warn(parts: &[&str]) {
    web::warn(&line(parts));
}

/// `console.log("sitehook: " + parts...)`.
pub fn log(parts: &[&str]) {
    web::log(&line(parts));
}

fn line(parts: &[&str]) -> String {
    let mut text = String::from("sitehook: ");
    for part in parts {
        text.push_str(part);
    }
    text
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// The browser's `RegExp`: one binding for the constructor (which throws on a bad
    /// pattern, caught here) and one for `test`, rather than all of js-sys's.
    #[wasm_bindgen(js_name = RegExp)]
    type Re;
    #[wasm_bindgen(constructor, catch, js_class = RegExp)]
    fn new(pattern: &str, flags: &str) -> Result<Re, JsValue>;
    #[wasm_bindgen(method)]
    fn test(this: &Re, text: &str) -> bool;
}

/// Regular expressions for the core, compiled once per pattern with the browser's
/// `RegExp` and kept for the page's life.
#[derive(Default)]
pub struct Patterns {
    compiled: core::cell::RefCell<Vec<(String, bool, Re)>>,
}

impl Patterns {
    fn compile(pattern: &str, ignore_case: bool) -> Result<Re, JsValue> {
        Re::new(pattern, if ignore_case { "i" } else { "" })
    }
}

impl sitehook_core::Patterns for Patterns {
    fn check(&self, pattern: &str, ignore_case: bool) -> Option<String> {
        match Patterns::compile(pattern, ignore_case) {
            Ok(re) => {
                self.compiled
                    .borrow_mut()
                    .push((String::from(pattern), ignore_case, re));
                None
            }
            Err(e) => {
                let mut m = String::from("is not a valid regular expression: ");
                m.push_str(&error_text(&e));
                Some(m)
            }
        }
    }

    fn is_match(&self, pattern: &str, ignore_case: bool, text: &str) -> bool {
        let mut compiled = self.compiled.borrow_mut();
        if let Some((_, _, re)) = compiled
            .iter()
            .find(|(p, i, _)| p == pattern && *i == ignore_case)
        {
            return re.test(text);
        }
        match Patterns::compile(pattern, ignore_case) {
            Ok(re) => {
                let hit = re.test(text);
                compiled.push((String::from(pattern), ignore_case, re));
                hit
            }
            Err(_) => false,
        }
    }

    fn query_param(&self, query: &str, name: &str) -> Option<String> {
        web::SearchParams::new(query).first(name)
    }
}

/// The message of a thrown JS value.
pub fn error_text(e: &JsValue) -> String {
    e.as_string()
        .or_else(|| web::get(e, "message").ok()?.as_string())
        .unwrap_or_else(|| String::from("unknown error"))
}

/// Whether the browser sends Global Privacy Control or Do Not Track.
pub fn privacy_signal(window: &web::Window) -> bool {
    let nav = window.navigator();
    let gpc = web::get(&nav, "globalPrivacyControl").unwrap_or_default();
    let dnt = web::get(&nav, "doNotTrack").unwrap_or_default();
    gpc.as_bool() == Some(true) || dnt.as_string().is_some_and(|d| d == "1")
}
