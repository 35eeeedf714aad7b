//! Event ids, and reading the relay's answer. The request itself is the loader's
//! (`fetch` with `keepalive`, or `sendBeacon` when the page is hidden): a `text/plain`
//! body keeps it a CORS "simple" request, with no preflight.

use alloc::string::String;
use alloc::vec::Vec;

use sitehook_core::Value;

/// The ids the relay accepted, from its `202` answer; each rejected event is
/// reported on the console with the relay's reason.
pub fn read_answer(text: &str) -> Vec<String> {
    let answer = crate::js::parse_json(text);
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
    accepted
}

/// A random (version 4) UUID from the browser's CSPRNG. `crypto.randomUUID` would be
/// shorter, but it exists only in secure contexts, and sites still serve pages on http.
pub fn event_id(window: &crate::web::Window) -> String {
    let mut bytes = [0u8; 16];
    if let Some(crypto) = window.crypto() {
        let _ = crypto.get_random_values(&mut bytes);
    }
    if bytes == [0; 16] {
        // No CSPRNG: Math.random is enough for de-duplication ids.
        for b in &mut bytes {
            *b = (crate::web::random() * 256.0) as u8;
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
