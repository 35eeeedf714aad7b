//! The relay's one HTTP error type: every failure becomes a status and a JSON body
//! `{"error": "..."}` that says what to fix. Internal details are logged, not returned.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::store::StoreError;

/// An error answered to an HTTP client.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is malformed; the message says how.
    #[error("{0}")]
    BadRequest(String),
    /// The request comes from a page the relay does not serve.
    #[error("{0}")]
    Forbidden(String),
    /// The thing asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The endpoint exists, but not with this method.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The request conflicts with the current state; the message says why.
    #[error("{0}")]
    Conflict(String),
    /// The body is larger than the relay accepts.
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    /// The store failed: nothing was acknowledged, the client should retry.
    #[error("storage failed")]
    Store(#[from] StoreError),
    /// The client sent too much; it may retry after the duration.
    #[error("{0}")]
    TooMany(String, std::time::Duration),
    /// The relay's queue is full; retry later.
    #[error("the relay holds too many undelivered events; retry later")]
    Busy,
    /// Something is not available in this build or mode.
    #[error("{0}")]
    Unavailable(&'static str),
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, message) = match &self {
            Error::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone()),
            Error::Forbidden(m) => (StatusCode::FORBIDDEN, m.clone()),
            Error::NotFound(m) => (StatusCode::NOT_FOUND, m.clone()),
            Error::Conflict(m) => (StatusCode::CONFLICT, m.clone()),
            Error::MethodNotAllowed(m) => (StatusCode::METHOD_NOT_ALLOWED, m.clone()),
            Error::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, self.to_string()),
            Error::Store(e) => {
                tracing::error!(error = %e, "store failure");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the relay could not store the events; nothing was accepted, retry later"
                        .to_owned(),
                )
            }
            Error::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, (*m).to_owned()),
            Error::TooMany(m, after) => {
                let after = after.as_secs().max(1).to_string();
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, after)],
                    Json(json!({ "error": m })),
                )
                    .into_response();
            }
            Error::Busy => {
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(header::RETRY_AFTER, "30")],
                    Json(json!({ "error": self.to_string() })),
                )
                    .into_response();
            }
        };
        (status, Json(json!({ "error": message }))).into_response()
    }
}
