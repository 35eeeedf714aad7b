//! Sends matched events to the relay.

use alloc::string::String;
use alloc::vec::Vec;

use sitehook_core::value::push_u64;
use sitehook_core::{Event, EventBatch, Value};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Posts the events as one batch and returns the ids the relay accepted.
///
/// `text/plain` keeps it a CORS "simple" request (no preflight), and `keepalive` lets
/// it finish when the visitor navigates away. A plain `fetch` through web-sys, rather
/// than gloo-net, keeps the download smaller.
pub async fn events(
    window: &web_sys::Window,
    url: &str,
    events: &[Event],
) -> Result<Vec<String>, String> {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(&EventBatch::to_json(events)));
    // web-sys has no setter for `keepalive` yet; it is a plain dictionary member.
    let _ = js_sys::Reflect::set(&init, &"keepalive".into(), &JsValue::TRUE);
    let request = web_sys::Request::new_with_str_and_init(url, &init).map_err(js_error)?;
    let _ = request
        .headers()
        .set("content-type", "text/plain;charset=UTF-8");
    let response: web_sys::Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(js_error)?
        .unchecked_into();
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|t| t.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    if !response.ok() {
        let mut why = String::from("the relay answered ");
        push_u64(&mut why, u64::from(response.status()));
        why.push_str(": ");
        why.push_str(&text);
        return Err(why);
    }
    // The answer lists what was accepted; anything else was rejected with a reason.
    let answer = crate::js::parse_json(&text);
    let accepted = match answer.get("accepted") {
        Some(Value::Arr(ids)) => ids
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    };
    if let Some(Value::Arr(rejected)) = answer.get("rejected") {
        for r in rejected {
            let id = r.get("id").and_then(Value::as_str).unwrap_or("?");
            let reason = r.get("reason").and_then(Value::as_str).unwrap_or("");
            crate::js::warn(&["the relay rejected event ", id, ": ", reason]);
        }
    }
    Ok(accepted)
}

/// A random (version 4) UUID from the browser's CSPRNG. `crypto.randomUUID` would be
/// shorter, but it exists only in secure contexts, and sites still serve pages on http.
pub fn event_id(window: &web_sys::Window) -> String {
    let mut bytes = [0u8; 16];
    if let Ok(crypto) = window.crypto() {
        let _ = crypto.get_random_values_with_u8_array(&mut bytes);
    }
    if bytes == [0; 16] {
        // No CSPRNG: Math.random is enough for de-duplication ids.
        for b in &mut bytes {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut id = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            id.push('-');
        }
        id.push(HEX[(b >> 4) as usize] as char);
        id.push(HEX[(b & 0x0f) as usize] as char);
    }
    id
}

fn js_error(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .and_then(|e| e.message().as_string())
        })
        .unwrap_or_else(|| String::from("the request failed"))
}
