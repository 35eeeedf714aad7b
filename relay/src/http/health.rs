//! Operations: `GET /healthz` (liveness), `GET /readyz` (the store answers), and
//! `GET /metrics` (Prometheus).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use std::net::SocketAddr;

use axum::Extension;
use axum::extract::ConnectInfo;
use axum::http::HeaderMap;

use super::{AppState, Snapshot};

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
    Snapshot(config): Snapshot,
    headers: HeaderMap,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Response {
    let peer = super::client_ip(
        &config,
        &headers,
        peer.map(|Extension(ConnectInfo(a))| a.ip()),
    );
    if let Err(why) = super::admin::allowed(&config, &headers, peer) {
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
