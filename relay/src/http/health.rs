//! Operations: `GET /healthz` (liveness), `GET /readyz` (the store answers), and
//! `GET /metrics` (Prometheus).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use std::net::{IpAddr, SocketAddr};

use axum::Extension;
use axum::extract::ConnectInfo;
use axum::http::HeaderMap;

use super::AppState;

/// Admin endpoints are for operators: with `admin_token` set, a request must carry it
/// (`Authorization: Bearer ...`, compared in constant time); without it, only
/// loopback peers are served. A request that did not come over a socket (the tests'
/// `oneshot`) has no peer and is served.
fn admin_allowed(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<IpAddr>,
) -> Result<(), &'static str> {
    match &state.config.admin_token {
        Some(token) => {
            let given = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or("");
            let want = token.expose().as_bytes();
            // Constant time over the token's length: no early exit on the first
            // differing byte.
            let same = given.len() == want.len()
                && given.bytes().zip(want).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0;
            if same {
                Ok(())
            } else {
                Err("this endpoint needs Authorization: Bearer <admin_token>")
            }
        }
        None if peer.is_none_or(|ip| ip.is_loopback() || ip.to_canonical().is_loopback()) => Ok(()),
        None => Err(
            "this endpoint is served to loopback only; set admin_token in the relay's config to read it remotely",
        ),
    }
}

/// The operations routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/healthz",
            get(|| async { Json(json!({ "status": "ok" })) }),
        )
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

async fn readyz(State(state): State<AppState>) -> Response {
    let store = state.store.clone();
    match tokio::task::spawn_blocking(move || store.ping()).await {
        Ok(Ok(())) => Json(json!({ "status": "ready" })).into_response(),
        other => {
            tracing::error!(?other, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "error": "the store does not answer" })),
            )
                .into_response()
        }
    }
}

async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Response {
    if let Err(why) = admin_allowed(
        &state,
        &headers,
        peer.map(|Extension(ConnectInfo(a))| a.ip()),
    ) {
        return (StatusCode::FORBIDDEN, Json(json!({ "error": why }))).into_response();
    }
    let store = state.store.clone();
    let pending = tokio::task::spawn_blocking(move || store.pending())
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or(0);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(pending),
    )
        .into_response()
}
