//! Event ids. Sending is the loader's (web/loader.js): it keeps the outbox and sends
//! it with `fetch` and `keepalive`, or `sendBeacon` when the page is hidden; a
//! `text/plain` body keeps it a CORS "simple" request, with no preflight.

use alloc::string::String;

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
