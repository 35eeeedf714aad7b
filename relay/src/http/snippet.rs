//! The snippet, served first-party: `GET /sitehook.js`, `GET /sitehook_bg.wasm` (the
//! visitor build), `GET /sitehook-debug.wasm` (the explaining build, which the script
//! fetches instead when the page's config has a problem or debugging is on), and the
//! trace panel `GET /sitehook-debug.js`.
//!
//! All are embedded in the binary at build time (see `build.rs`), the wasm with its
//! gzip and brotli forms made by `cargo xtask dist`, and served compressed as the
//! browser accepts (see [`super::encoding`]). The script is
//! prefixed with which profile fields each webhook takes, so the snippet sends only
//! those (and `profileid`): profile data a webhook does not need never leaves the
//! browser, although the relay would drop it anyway.

use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::encoding::Encoded;
use super::{AppState, Snapshot};
use crate::config::Config;
use crate::error::Error;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/snippet.rs"));
}

const NOT_BUILT: &str =
    "the snippet is not built into this relay: run `cargo xtask dist`, then rebuild the relay";

/// The compressed `/sitehook.js` and the config it was made for.
pub type Cache = Mutex<Option<(Arc<Config>, Encoded)>>;

/// The snippet routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sitehook.js", get(js))
        .route("/sitehook_bg.wasm", get(wasm))
        .route("/sitehook-debug.wasm", get(debug_wasm))
        .route("/sitehook-debug.js", get(debug))
}

/// Whether this build carries the snippet.
pub fn is_built() -> bool {
    embedded::JS.is_some() && embedded::WASM.is_some() && embedded::DEBUG_WASM.is_some()
}

async fn js(
    State(state): State<AppState>,
    Snapshot(config): Snapshot,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let js = embedded::JS.ok_or(Error::Unavailable(NOT_BUILT))?;
    let encoded = {
        // Compressed under the lock: after a reload, one request compresses and the
        // others wait for it rather than all compressing the same bytes.
        let mut cache = state
            .snippet_js
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match &*cache {
            Some((made_for, encoded)) if Arc::ptr_eq(made_for, &config) => encoded.clone(),
            _ => {
                let encoded = snippet_for(&config, js);
                *cache = Some((config, encoded.clone()));
                encoded
            }
        }
    };
    Ok(cached(&headers, &encoded, "text/javascript; charset=utf-8"))
}

/// The script for `config`, compressed. Unchanged field lists give the same bytes and
/// so the same `ETag` after a reload.
fn snippet_for(config: &Config, js: &[u8]) -> Encoded {
    Encoded::compress(script(config, js).into())
}

/// The script as served for `config`: its field lists, then the snippet.
fn script(config: &Config, js: &[u8]) -> Vec<u8> {
    let fields: serde_json::Map<String, serde_json::Value> = config
        .webhooks
        .iter()
        .map(|(id, w)| (id.clone(), serde_json::json!(w.fields)))
        .collect();
    let mut body = format!(
        "self.__sitehookFields={};\n",
        serde_json::Value::Object(fields)
    )
    .into_bytes();
    body.extend_from_slice(js);
    body
}

/// The Subresource Integrity value (`sha384-...`) of `/sitehook.js` as this relay
/// serves it with `config`, for sites that pin the script with `integrity="..."`.
/// The script loads the wasm with the wasm's own hash, so pinning the script pins
/// both. It depends on the webhooks' field lists: a config change there changes it.
/// `None` when the snippet is not built into this relay.
pub fn integrity(config: &Config) -> Option<String> {
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = sha2::Sha384::digest(script(config, embedded::JS?));
    Some(format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    ))
}

/// The trace panel, fetched by the snippet only when debugging is on.
async fn debug(headers: HeaderMap) -> Result<Response, Error> {
    static DEBUG: OnceLock<Encoded> = OnceLock::new();
    let encoded = DEBUG.get_or_init(|| {
        Encoded::compress(Bytes::from_static(include_bytes!("../../../web/debug.js")))
    });
    Ok(cached(&headers, encoded, "text/javascript; charset=utf-8"))
}

async fn wasm(headers: HeaderMap) -> Result<Response, Error> {
    static WASM: OnceLock<Option<Encoded>> = OnceLock::new();
    let encoded =
        WASM.get_or_init(|| precompressed(embedded::WASM, embedded::WASM_GZ, embedded::WASM_BR));
    wasm_response(&headers, encoded.as_ref())
}

async fn debug_wasm(headers: HeaderMap) -> Result<Response, Error> {
    static WASM: OnceLock<Option<Encoded>> = OnceLock::new();
    let encoded = WASM.get_or_init(|| {
        precompressed(
            embedded::DEBUG_WASM,
            embedded::DEBUG_WASM_GZ,
            embedded::DEBUG_WASM_BR,
        )
    });
    wasm_response(&headers, encoded.as_ref())
}

fn precompressed(
    identity: Option<&'static [u8]>,
    gz: Option<&'static [u8]>,
    br: Option<&'static [u8]>,
) -> Option<Encoded> {
    Some(Encoded::precompressed(
        Bytes::from_static(identity?),
        gz.map(Bytes::from_static),
        br.map(Bytes::from_static),
    ))
}

fn wasm_response(headers: &HeaderMap, encoded: Option<&Encoded>) -> Result<Response, Error> {
    let encoded = encoded.ok_or(Error::Unavailable(NOT_BUILT))?;
    Ok(cached(headers, encoded, "application/wasm"))
}

/// The file in the coding the browser prefers, with its `ETag`, or `304 Not Modified`
/// when the browser already holds it. The names are not content-hashed, so caches
/// keep a file for 5 minutes and then revalidate: a new relay version reaches visitors
/// soon after a deploy, and an unchanged file costs a 304, not a download.
fn cached(request: &HeaderMap, file: &Encoded, content_type: &'static str) -> Response {
    let (coding, file) = file.for_request(request);
    let fresh = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| {
            let tag = tag.trim();
            tag == "*" || tag.trim_start_matches("W/") == file.etag
        });
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    // Caches must keep one copy per coding.
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Some(value) = coding.header_value() {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(value));
    }
    headers.insert(header::ETAG, file.etag.clone());
    if fresh {
        (StatusCode::NOT_MODIFIED, headers).into_response()
    } else {
        (headers, file.bytes.clone()).into_response()
    }
}
