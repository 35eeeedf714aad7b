//! The boundary to JavaScript: JS values into [`Value`], and console lines.
//!
//! Everything read from the page is untrusted: the walk is bounded in depth, size and
//! string length, a throwing getter reads as missing, and nothing here throws back
//! into the page.

use alloc::string::String;
use alloc::vec::Vec;

use js_sys::{Array, Object, Reflect};
use sitehook_core::Value;
use wasm_bindgen::{JsCast, JsValue};

/// Deepest nesting read; deeper values read as `null`. Above what the core accepts
/// (conditions nest 16 deep, two JS levels each), so its clearer error wins.
const MAX_DEPTH: usize = 48;
/// Most values read from one JS value (a runaway config reads as cut short).
const MAX_NODES: usize = 50_000;
/// Most items read from one array, keys from one object.
const MAX_ITEMS: u32 = 2_000;
/// Longest string read; longer ones read as `null`, so a field reports "is required"
/// or "must be a string" rather than filling storage. Above the outbox's byte bound,
/// so that a stored event (one string) always reads back.
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
    if Array::is_array(value) {
        let array: &Array = value.unchecked_ref();
        let len = array.length().min(MAX_ITEMS);
        return Value::Arr(
            (0..len)
                .map(|i| walk(&array.get(i), depth + 1, budget))
                .collect(),
        );
    }
    if value.is_object() && !value.is_function() {
        let keys = Object::keys(value.unchecked_ref::<Object>());
        let len = keys.length().min(MAX_ITEMS);
        let mut entries = Vec::with_capacity(len as usize);
        for i in 0..len {
            let key = keys.get(i);
            let Some(name) = key.as_string() else {
                continue;
            };
            let item = Reflect::get(value, &key).unwrap_or(JsValue::UNDEFINED);
            entries.push((name, walk(&item, depth + 1, budget)));
        }
        return Value::Obj(entries);
    }
    Value::Null
}

/// Parses JSON text with the browser's `JSON.parse`; `Null` if it is not JSON.
pub fn parse_json(text: &str) -> Value {
    js_sys::JSON::parse(text)
        .map(|v| to_value(&v))
        .unwrap_or(Value::Null)
}

/// `performance.now()`, in milliseconds (0 where there is no Performance API).
pub fn now(window: &web_sys::Window) -> f64 {
    window.performance().map_or(0.0, |p| p.now())
}

/// `console.warn("sitehook: " + parts...)`.
pub fn warn(parts: &[&str]) {
    web_sys::console::warn_1(&line(parts));
}

/// `console.log("sitehook: " + parts...)`.
pub fn log(parts: &[&str]) {
    web_sys::console::log_1(&line(parts));
}

fn line(parts: &[&str]) -> JsValue {
    let mut text = String::from("sitehook: ");
    for part in parts {
        text.push_str(part);
    }
    JsValue::from_str(&text)
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
}

/// The message of a thrown JS value.
pub fn error_text(e: &JsValue) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .and_then(|e| e.message().as_string())
        })
        .unwrap_or_else(|| String::from("unknown error"))
}

/// Whether the browser sends Global Privacy Control or Do Not Track.
pub fn privacy_signal(window: &web_sys::Window) -> bool {
    let nav = Reflect::get(window, &"navigator".into()).unwrap_or_default();
    let gpc = Reflect::get(&nav, &"globalPrivacyControl".into()).unwrap_or_default();
    let dnt = Reflect::get(&nav, &"doNotTrack".into()).unwrap_or_default();
    gpc.as_bool() == Some(true) || dnt.as_string().is_some_and(|d| d == "1")
}
