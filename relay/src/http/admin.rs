//! The admin surface: the inspector (`/admin`), a page listing recent events and their
//! deliveries with replay, and the JSON API behind it (`/admin/api/...`).
//!
//! Who may use it is decided by [`allowed`], shared with `/metrics`.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{AppState, Snapshot};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::delivery;
use crate::error::Error;
use crate::store::{Attempt, Filter, Next as Then, Record, Status};

const PAGE: &str = include_str!("../../../web/admin/index.html");
const SCRIPT: &str = include_str!("../../../web/admin/inspector.js");
const CSS: &str = include_str!("../../../web/admin/admin.css");

/// The most events one listing returns.
const MAX_LIST: usize = 500;

/// Admin endpoints are for operators: with `admin_token` set, a request must carry it
/// (`Authorization: Bearer ...`, compared in constant time); without it, only
/// loopback peers are served, and only under a loopback name (`Host: 127.0.0.1`,
/// `localhost`, `[::1]`), so that a reverse proxy on the same machine or a DNS
/// rebinding page cannot pass for an operator. A request that did not come over a
/// socket (the tests' `oneshot`) has no peer and is served.
pub(crate) fn allowed(
    config: &Config,
    headers: &HeaderMap,
    peer: Option<IpAddr>,
) -> Result<(), &'static str> {
    match &config.admin_token {
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
        None if peer.is_some_and(|ip| !ip.to_canonical().is_loopback()) => Err(
            "this endpoint is served to loopback only; set admin_token in the relay's config to reach it remotely",
        ),
        None if !headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .is_none_or(loopback_host) =>
        {
            Err(
                "without admin_token this endpoint only answers requests to a loopback name (127.0.0.1, [::1], localhost); \
                 set admin_token to reach it through a proxy or another name",
            )
        }
        None => Ok(()),
    }
}

/// `127.0.0.1:8080`, `[::1]`, `localhost:8080`, `x.localhost`: names that can only
/// mean this machine.
fn loopback_host(host: &str) -> bool {
    if let Ok(addr) = host.parse::<SocketAddr>() {
        return addr.ip().to_canonical().is_loopback();
    }
    let name = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = name.parse::<IpAddr>() {
        return ip.to_canonical().is_loopback();
    }
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

/// A browser's cross-site form or script must not press the inspector's buttons: a
/// state-changing request that carries an `Origin` must come from the relay's own.
fn same_origin(headers: &HeaderMap) -> Result<(), &'static str> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(()); // not a browser (curl, scripts): nothing to forge
    };
    let host = headers.get(header::HOST).map(HeaderValue::as_bytes);
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, rest)| rest.as_bytes());
    if host.is_some() && origin_host == host {
        Ok(())
    } else {
        Err("this request comes from another site's page; use the inspector on the relay itself")
    }
}

/// Refuses what [`allowed`] refuses, with a JSON reason; adds the headers every admin
/// answer carries.
async fn guard(
    Snapshot(config): Snapshot,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    request: axum::extract::Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let peer = super::client_ip(
        &config,
        headers,
        peer.map(|Extension(ConnectInfo(a))| a.ip()),
    );
    // The page, its script and style hold no data: with a token configured they are
    // served to anyone, so a browser can load them and then send the token.
    let shell = request.method() == axum::http::Method::GET
        && !request.uri().path().starts_with("/admin/api/");
    let check = if shell && config.admin_token.is_some() {
        Ok(())
    } else {
        allowed(&config, headers, peer)
    }
    .and_then(|()| {
        if request.method() == axum::http::Method::GET {
            Ok(())
        } else {
            same_origin(headers)
        }
    });
    let mut response = match check {
        Ok(()) => next.run(request).await,
        Err(why) => (StatusCode::FORBIDDEN, Json(json!({ "error": why }))).into_response(),
    };
    let h = response.headers_mut();
    // Scripts and styles from the relay only (no inline code), never framed (the
    // replay button must not be clickjacked), no caching of operator data. Images
    // also as `data:`, for the page's empty icon (no `/favicon.ico` request).
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
             frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// The admin routes.
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route(
            // The page refers to its script, style and API relatively, so that it
            // works under a base_path too: it is read from `.../admin/`.
            "/admin",
            get(|| async { axum::response::Redirect::permanent("admin/") }),
        )
        .route(
            "/admin/",
            get(|| async { file("text/html; charset=utf-8", PAGE) }),
        )
        .route(
            "/admin/inspector.js",
            get(|| async { file("text/javascript; charset=utf-8", SCRIPT) }),
        )
        .route(
            "/admin/admin.css",
            get(|| async { file("text/css; charset=utf-8", CSS) }),
        )
        .route("/admin/api/events", get(list))
        .route("/admin/api/events/{id}", get(one))
        .route("/admin/api/events/{id}/replay", post(replay))
        .route("/admin/api/webhooks/{id}/enable", post(enable))
        .route_layer(middleware::from_fn_with_state(state.clone(), guard))
}

fn file(content_type: &'static str, text: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], text).into_response()
}

/// The listing's filters, as query parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    status: Option<String>,
    webhook: Option<String>,
    profile: Option<String>,
    limit: Option<usize>,
}

fn record_json(r: &Record) -> Value {
    json!({
        "id": r.id,
        "webhook": r.webhook,
        "trigger": r.trigger,
        "profileid": r.profileid,
        "status": r.status.as_str(),
        "attempts": r.attempts,
        "lastStatus": r.last_status,
        "lastError": r.last_error,
        "receivedAt": r.received_at,
        "nextAt": (r.status == Status::Pending).then_some(r.next_at),
    })
}

fn attempt_json(a: &Attempt) -> Value {
    let then = match a.next {
        Then::Delivered => "delivered",
        Then::RetryAt(_) => "retry",
        Then::DeadLetter => "dead letter",
        Then::DryRun => "dry run",
        Then::WebhookGone => "webhook gone",
    };
    json!({
        "at": a.at,
        "durationMs": a.duration_ms,
        "status": a.status,
        "error": a.error,
        "then": then,
    })
}

/// Runs a store read off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, crate::store::StoreError> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| Error::Unavailable("the store read was cancelled; retry"))?
        .map_err(Error::from)
}

async fn list(
    State(state): State<AppState>,
    Snapshot(config): Snapshot,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, Error> {
    let Query(q) = query.map_err(|e| {
        Error::BadRequest(format!(
            "{}; the filters are status, webhook, profile and limit",
            e.body_text()
        ))
    })?;
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(Status::parse(s).ok_or_else(|| {
            Error::BadRequest(format!(
                "status {s:?}: use pending, delivered, failed, suppressed or dry-run"
            ))
        })?),
    };
    let filter = Filter {
        status,
        webhook: q.webhook.filter(|s| !s.is_empty()),
        profileid: q.profile.filter(|s| !s.is_empty()),
        limit: q.limit.unwrap_or(100).clamp(1, MAX_LIST),
    };
    let store = state.store.clone();
    let (records, paused) = blocking(move || Ok((store.list(&filter)?, store.disabled()?))).await?;
    Ok(Json(json!({
        "events": records.iter().map(record_json).collect::<Vec<_>>(),
        "webhooks": config.webhooks.keys().collect::<Vec<_>>(),
        "paused": paused
            .iter()
            .map(|(webhook, reason)| json!({ "webhook": webhook, "reason": reason }))
            .collect::<Vec<_>>(),
    })))
}

async fn one(
    State(state): State<AppState>,
    Snapshot(config): Snapshot,
    Path(id): Path<String>,
) -> Result<Json<Value>, Error> {
    let store = state.store.clone();
    let key = id.clone();
    let (found, attempts) =
        blocking(move || Ok((store.event(&key)?, store.attempts(&key)?))).await?;
    let Some((record, event)) = found else {
        return Err(Error::NotFound(format!("no event {id} in the store")));
    };
    // The request is rebuilt from the stored event and today's config, as the next
    // attempt would send it: secrets masked, the timestamp and signature of now.
    let (request, note) = match config.webhooks.get(&record.webhook) {
        Some(webhook) => {
            let out = delivery::build(webhook, &event, SystemClock.now_ms());
            let note = if webhook.dry_run {
                "dry run: the relay does not send this request"
            } else {
                "as the next attempt would send it (secret values masked; timestamp and signature are made per attempt)"
            };
            (Some(delivery::show(&out)), note)
        }
        None => (
            None,
            "this webhook is not in the relay's config (removed by a reload or a restart?): the event cannot be delivered; \
             add the webhook back, reload the relay, then replay the event",
        ),
    };
    Ok(Json(json!({
        "event": record_json(&record),
        "page": event.page,
        "at": event.at,
        "attempts": attempts.iter().map(attempt_json).collect::<Vec<_>>(),
        "request": request,
        "requestNote": note,
    })))
}

async fn replay(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Error> {
    let store = state.store.clone();
    let key = id.clone();
    let (replayed, found) = blocking(move || {
        let n = store.replay(std::slice::from_ref(&key), None)?;
        Ok((n, store.event(&key)?))
    })
    .await?;
    match found {
        None => Err(Error::NotFound(format!("no event {id} in the store"))),
        Some(_) if replayed > 0 => {
            state.wake.notify_one();
            tracing::info!(event = %id, "replayed from the inspector");
            Ok(Json(json!({ "replayed": id })))
        }
        Some((record, _)) => Err(Error::Conflict(format!(
            "event {id} is {}: only failed events (dead letters) can be replayed",
            record.status.as_str()
        ))),
    }
}

async fn enable(
    State(state): State<AppState>,
    Path(webhook): Path<String>,
) -> Result<Json<Value>, Error> {
    let store = state.store.clone();
    let key = webhook.clone();
    let resumed = blocking(move || store.enable(&key)).await?;
    if resumed {
        state.wake.notify_one();
    }
    Ok(Json(json!({ "webhook": webhook, "resumed": resumed })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names() {
        for yes in [
            "127.0.0.1",
            "127.0.0.1:8080",
            "[::1]",
            "[::1]:8080",
            "localhost",
            "LOCALHOST:80",
            "admin.localhost:9",
            "localhost.",
        ] {
            assert!(loopback_host(yes), "{yes}");
        }
        for no in [
            "shop.example.com",
            "10.0.0.1:8080",
            "localhost.example.com",
            "127.0.0.1.nip.io",
            "[::2]",
            "",
        ] {
            assert!(!loopback_host(no), "{no}");
        }
    }

    #[test]
    fn only_same_origin_browsers_may_press_buttons() {
        let mut h = HeaderMap::new();
        assert!(same_origin(&h).is_ok(), "curl sends no Origin");
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080"),
        );
        assert!(same_origin(&h).is_ok());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(same_origin(&h).is_err());
        h.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(same_origin(&h).is_err());
    }
}
