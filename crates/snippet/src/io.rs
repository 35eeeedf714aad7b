//! The boundary to the page: the functions the loader (`web/loader.js`) gives the
//! snippet, under the name `io` in the loader's own scope.
//!
//! The loader and wasm-bindgen's glue are one script, so the glue's calls of
//! `io.get(...)` and the like reach an object of the loader's, not a global. Each
//! function does one thing in the page (read storage, test a `RegExp`, print a line),
//! never throws (the loader catches what the browser throws), and takes and gives
//! only strings, numbers and booleans: no JS object crosses into the wasm, so the
//! glue needs no object handles, and the wasm reads what it needs as JSON text
//! instead of walking JS objects one call at a time. Together with the JSON reader
//! in the core, that is what keeps the download small.

use alloc::string::String;

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `localStorage.getItem(key)`; `None` when missing. Where storage is blocked or
    /// unreadable, or refused the key's last write, what this page last wrote.
    #[wasm_bindgen(js_namespace = io, js_name = get)]
    pub fn get(key: &str) -> Option<String>;
    /// `localStorage.setItem(key, value)`; where storage refuses it (blocked, a full
    /// quota), the page keeps the value for [`get`].
    #[wasm_bindgen(js_namespace = io, js_name = set)]
    pub fn set(key: &str, value: &str);
    /// `localStorage.removeItem(key)`, if the browser lets it.
    #[wasm_bindgen(js_namespace = io, js_name = del)]
    pub fn del(key: &str);
    /// Removes every `sitehook:` key from `localStorage` (consent withdrawn), and the
    /// loader's outbox with them.
    #[wasm_bindgen(js_namespace = io, js_name = wipe)]
    pub fn wipe();
    /// Compiles a `RegExp` (flag `i` when `ignore_case`): its id for [`test`], or -1
    /// when the browser refuses the pattern (the reason is then [`why`]).
    #[wasm_bindgen(js_namespace = io, js_name = re)]
    pub fn re(pattern: &str, ignore_case: bool) -> i32;
    /// Why the last pattern was refused (the browser's message).
    #[wasm_bindgen(js_namespace = io, js_name = why)]
    pub fn why() -> String;
    /// Whether `text` matches the compiled pattern `id`.
    #[wasm_bindgen(js_namespace = io, js_name = test)]
    pub fn test(id: i32, text: &str) -> bool;
    /// `new URLSearchParams(query).get(name)`: the browser decodes the query as the
    /// address bar does, and the snippet carries no decoder.
    #[wasm_bindgen(js_namespace = io, js_name = q)]
    pub fn query(query: &str, name: &str) -> Option<String>;
    /// Takes what happened in a call (see `Snippet::out`).
    #[wasm_bindgen(js_namespace = io, js_name = out)]
    pub fn out(text: &str);
    /// `console.warn(text)`.
    #[wasm_bindgen(js_namespace = io, js_name = warn)]
    pub fn warn_line(text: &str);
    /// `console.log(text)`.
    #[wasm_bindgen(js_namespace = io, js_name = log)]
    pub fn log_line(text: &str);
    /// `performance.now()` (0 where there is none), for the trace's timings.
    #[wasm_bindgen(js_namespace = io, js_name = now)]
    pub fn now() -> f64;
    /// `Date.now()`: milliseconds since the Unix epoch.
    #[wasm_bindgen(js_namespace = io, js_name = ms)]
    fn date_now() -> f64;
    /// Whether the browser sends Global Privacy Control or Do Not Track.
    #[wasm_bindgen(js_namespace = io, js_name = gpc)]
    pub fn privacy_signal() -> bool;
}

/// The time, in whole milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    date_now() as u64
}

/// `console.warn("sitehook: " + parts...)`.
pub fn warn(parts: &[&str]) {
    warn_line(&line(parts));
}

/// `console.log("sitehook: " + parts...)`.
pub fn log(parts: &[&str]) {
    log_line(&line(parts));
}

fn line(parts: &[&str]) -> String {
    let mut text = String::from("sitehook: ");
    for part in parts {
        text.push_str(part);
    }
    text
}

/// Regular expressions for the core: the browser's `RegExp`, compiled once per
/// condition by the loader and kept for the page's life.
pub struct Patterns;

impl sitehook_core::Patterns for Patterns {
    fn compile(&self, pattern: &str, ignore_case: bool) -> Result<u32, String> {
        let id = re(pattern, ignore_case);
        if id >= 0 {
            return Ok(id as u32);
        }
        let mut m = String::new();
        if cfg!(feature = "explain") {
            m.push_str("is not a valid regular expression: ");
            m.push_str(&why());
        }
        Err(m)
    }

    fn test(&self, id: u32, text: &str) -> bool {
        test(id as i32, text)
    }

    fn query_param(&self, q: &str, name: &str) -> Option<String> {
        query(q, name)
    }
}
