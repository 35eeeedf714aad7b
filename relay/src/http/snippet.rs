//! The snippet, served first-party: `GET /sitehook.js`, `GET /sitehook_bg.wasm`, and the
//! trace panel `GET /sitehook-debug.js`.
//!
//! Both are embedded in the binary at build time (see `build.rs`). The script is
//! prefixed with which profile fields each webhook takes, so the snippet sends only
//! those (and `profileid`): profile data a webhook does not need never leaves the
//! browser, although the relay would drop it anyway.

use axum::Router;
use axum::extract::State;
use axum::http::header;
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

async fn js(State(state): State<AppState>) -> Result<Response, Error> {
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
    Ok((
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response())
}

/// The trace panel, fetched by the snippet only when debugging is on.
async fn debug() -> Result<Response, Error> {
    serve(
        Some(include_bytes!("../../../web/debug.js")),
        "text/javascript; charset=utf-8",
    )
}

async fn wasm() -> Result<Response, Error> {
    serve(embedded::WASM, "application/wasm")
}

fn serve(bytes: Option<&'static [u8]>, content_type: &'static str) -> Result<Response, Error> {
    let bytes = bytes.ok_or(Error::Unavailable(NOT_BUILT))?;
    // The names are not content-hashed yet, so caches must revalidate soon after a
    // new relay version is deployed.
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        bytes,
    )
        .into_response())
}
