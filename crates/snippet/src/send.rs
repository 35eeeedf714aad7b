//! Sends matched events to the relay.

use sitehook_core::{Event, EventBatch};
use wasm_bindgen::JsValue;

/// Posts the events as one batch. `text/plain` keeps it a CORS "simple" request (no
/// preflight), and `keepalive` lets it finish when the visitor navigates away.
pub async fn events(url: &str, events: &[Event]) -> Result<(), String> {
    let batch = EventBatch {
        events: events.to_vec(),
    };
    let body = js_sys::JSON::stringify(&crate::storage::to_js(&batch))
        .map_err(|_| String::from("the events could not be encoded"))?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&body);
    // web-sys has no setter for `keepalive` yet; it is a plain dictionary member.
    let _ = js_sys::Reflect::set(&init, &JsValue::from_str("keepalive"), &JsValue::TRUE);
    let request = web_sys::Request::new_with_str_and_init(url, &init).map_err(js_error)?;
    let _ = request
        .headers()
        .set("content-type", "text/plain;charset=UTF-8");
    let response = gloo_net::http::Request::from(request)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if response.ok() {
        Ok(())
    } else {
        let mut why = String::from("the relay answered ");
        why.push_str(&response.status().to_string());
        if let Ok(text) = response.text().await {
            why.push_str(": ");
            why.push_str(&text);
        }
        Err(why)
    }
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
        .or_else(|| js_sys::Error::from(e).message().as_string())
        .unwrap_or_else(|| String::from("request failed"))
}
