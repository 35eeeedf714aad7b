//! The snippet, served first-party: `GET /sitehook.js`, `GET /sitehook_bg.wasm`, and the
//! trace panel `GET /sitehook-debug.js`.
//!
//! Both are embedded in the binary at build time (see `build.rs`). The script is
//! prefixed with which profile fields each webhook takes, so the snippet sends only
//! those (and `profileid`): profile data a webhook does not need never leaves the
//! browser, although the relay would drop it anyway.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;
use crate::error::Error;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/snippet.rs"));
}

const NOT_BUILT: &str =
    "the snippet is not built into this relay: run `cargo xtask dist`, then rebuild the relay";

/// The snippet routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sitehook.js", get(js))
        .route("/sitehook_bg.wasm", get(wasm))
        .route("/sitehook-debug.js", get(debug))
}

/// Whether this build carries the snippet.
pub fn is_built() -> bool {
    embedded::JS.is_some() && embedded::WASM.is_some()
}

async fn js(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, Error> {
    let js = embedded::JS.ok_or(Error::Unavailable(NOT_BUILT))?;
    let fields: serde_json::Map<String, serde_json::Value> = state
        .config
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
    Ok(cached(
        &headers,
        body.into(),
        "text/javascript; charset=utf-8",
    ))
}

/// The trace panel, fetched by the snippet only when debugging is on.
async fn debug(headers: HeaderMap) -> Result<Response, Error> {
    Ok(cached(
        &headers,
        Bytes::from_static(include_bytes!("../../../web/debug.js")),
        "text/javascript; charset=utf-8",
    ))
}

async fn wasm(headers: HeaderMap) -> Result<Response, Error> {
    let wasm = embedded::WASM.ok_or(Error::Unavailable(NOT_BUILT))?;
    Ok(cached(
        &headers,
        Bytes::from_static(wasm),
        "application/wasm",
    ))
}

/// The file with an `ETag` (a hash of its bytes), or `304 Not Modified` when the
/// browser already holds it. The names are not content-hashed, so caches keep a file
/// for 5 minutes and then revalidate: a new relay version reaches visitors soon after
/// a deploy, and an unchanged file costs a 304, not a download.
fn cached(request: &HeaderMap, body: Bytes, content_type: &'static str) -> Response {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(&body);
    let etag = format!(
        "\"{}\"",
        digest[..12]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let fresh = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| {
            let tag = tag.trim();
            tag == "*" || tag.trim_start_matches("W/") == etag
        });
    let headers = [
        (header::CONTENT_TYPE, content_type.to_owned()),
        (header::CACHE_CONTROL, "public, max-age=300".to_owned()),
        (header::ETAG, etag),
    ];
    if fresh {
        (StatusCode::NOT_MODIFIED, headers).into_response()
    } else {
        (headers, body).into_response()
    }
}
