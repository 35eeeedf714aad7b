//! The browser APIs the snippet calls, declared here rather than taken from web-sys
//! and js-sys.
//!
//! Those crates carry machinery the snippet never uses (js-sys's global-object
//! lookup, futures and closure support) that still ends up in the download, and
//! their getters are declared as throwing, which costs an error-catching wrapper in
//! the glue for every one. Here each import is declared as what it is: a getter that
//! cannot throw is a plain getter; only storage access, which a browser may refuse,
//! is caught. The names follow web-sys, so the code reads the same.

use alloc::string::String;

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// The page's global object (`window`).
    #[derive(Clone)]
    pub type Window;
    #[wasm_bindgen(thread_local_v2, js_name = globalThis)]
    static GLOBAL: Window;
    #[wasm_bindgen(method, getter)]
    pub fn location(this: &Window) -> Location;
    #[wasm_bindgen(method, getter)]
    pub fn document(this: &Window) -> Document;
    #[wasm_bindgen(method, getter)]
    pub fn navigator(this: &Window) -> JsValue;
    /// `undefined` in the rare browser without the Performance API.
    #[wasm_bindgen(method, getter)]
    pub fn performance(this: &Window) -> Option<Performance>;
    #[wasm_bindgen(method, getter)]
    pub fn crypto(this: &Window) -> Option<Crypto>;
    /// Throws where storage is blocked (cookies off, some sandboxed frames).
    #[wasm_bindgen(method, getter, catch, js_name = localStorage)]
    pub fn local_storage(this: &Window) -> Result<Option<Storage>, JsValue>;
    #[wasm_bindgen(method, getter, catch, js_name = sessionStorage)]
    pub fn session_storage(this: &Window) -> Result<Option<Storage>, JsValue>;

    /// `window.location`.
    pub type Location;
    #[wasm_bindgen(method, getter)]
    pub fn href(this: &Location) -> String;
    #[wasm_bindgen(method, getter)]
    pub fn pathname(this: &Location) -> String;
    #[wasm_bindgen(method, getter)]
    pub fn search(this: &Location) -> String;
    #[wasm_bindgen(method, getter)]
    pub fn hash(this: &Location) -> String;
    #[wasm_bindgen(method, getter)]
    pub fn hostname(this: &Location) -> String;

    /// `window.document`.
    pub type Document;
    #[wasm_bindgen(method, getter)]
    pub fn title(this: &Document) -> String;
    #[wasm_bindgen(method, getter)]
    pub fn referrer(this: &Document) -> String;

    /// `localStorage` or `sessionStorage`. Reading and removing may throw too (a
    /// browser's storage file corrupt or busy): read as missing.
    pub type Storage;
    #[wasm_bindgen(method, catch, js_name = getItem)]
    fn try_get_item(this: &Storage, key: &str) -> Result<Option<String>, JsValue>;
    /// Throws when the quota is full.
    #[wasm_bindgen(method, catch, js_name = setItem)]
    pub fn set_item(this: &Storage, key: &str, value: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = removeItem)]
    fn try_remove_item(this: &Storage, key: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method)]
    pub fn key(this: &Storage, index: u32) -> Option<String>;
    #[wasm_bindgen(method, getter)]
    pub fn length(this: &Storage) -> u32;

    /// `window.performance`.
    pub type Performance;
    #[wasm_bindgen(method)]
    pub fn now(this: &Performance) -> f64;

    /// `window.crypto`.
    pub type Crypto;
    #[wasm_bindgen(method, catch, js_name = getRandomValues)]
    pub fn get_random_values(this: &Crypto, bytes: &mut [u8]) -> Result<JsValue, JsValue>;

    /// A JS array.
    pub type Array;
    #[wasm_bindgen(method, getter)]
    pub fn length(this: &Array) -> u32;
    #[wasm_bindgen(method, indexing_getter)]
    pub fn get(this: &Array, index: u32) -> JsValue;
    #[wasm_bindgen(js_namespace = Array, js_name = isArray)]
    pub fn is_array(value: &JsValue) -> bool;

    /// `URLSearchParams`, for query parameters: the browser's decoding is the
    /// address bar's own, and the snippet then carries none.
    pub type SearchParams;
    #[wasm_bindgen(constructor, js_class = URLSearchParams)]
    pub fn new(query: &str) -> SearchParams;
    #[wasm_bindgen(method, js_class = URLSearchParams, js_name = get)]
    pub fn first(this: &SearchParams, name: &str) -> Option<String>;

    /// `Object.keys(object)`.
    #[wasm_bindgen(js_namespace = Object)]
    pub fn keys(object: &JsValue) -> Array;
    /// `Reflect.get(target, key)`: throws for a target that is not an object, and
    /// for a getter that throws.
    #[wasm_bindgen(js_namespace = Reflect, catch)]
    pub fn get(target: &JsValue, key: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_namespace = JSON, catch)]
    pub fn parse(text: &str) -> Result<JsValue, JsValue>;
    /// `Date.now()`: milliseconds since the Unix epoch.
    #[wasm_bindgen(js_namespace = Date, js_name = now)]
    pub fn date_now() -> f64;
    #[wasm_bindgen(js_namespace = Math)]
    pub fn random() -> f64;
    #[wasm_bindgen(js_namespace = console)]
    pub fn warn(text: &str);
    #[wasm_bindgen(js_namespace = console)]
    pub fn log(text: &str);
}

/// The page's `window`.
pub fn window() -> Window {
    GLOBAL.with(|w| w.clone())
}

/// The time, in whole milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    date_now() as u64
}

impl Storage {
    /// The stored text at `key`; `None` when missing or unreadable.
    pub fn get_item(&self, key: &str) -> Option<String> {
        self.try_get_item(key).ok().flatten()
    }

    /// Removes `key`, if the browser lets it.
    pub fn remove_item(&self, key: &str) {
        let _ = self.try_remove_item(key);
    }
}

impl Window {
    /// The value of `window[key]` (`undefined` when missing, or when a getter throws).
    pub fn get(&self, key: &str) -> JsValue {
        get(self, key).unwrap_or(JsValue::UNDEFINED)
    }
}
