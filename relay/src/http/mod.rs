//! The HTTP surface: one router per area, assembled by [`app`].

pub mod admin;
pub mod encoding;
pub mod events;
pub mod health;
pub mod snippet;

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use tokio::sync::Notify;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::Config;
use crate::demo;
use crate::error::Error;
use crate::limit::RateLimiter;
use crate::metrics::Metrics;
use crate::receiver::Receiver;
use crate::reload::Shared;
use crate::store::Store;
use std::net::IpAddr;
use std::sync::atomic::AtomicU64;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The validated config, swapped by a reload. Handlers take the request's
    /// [`Snapshot`] instead of loading it, so that one request sees one config.
    pub config: Arc<Shared<Config>>,
    /// The store.
    pub store: Arc<dyn Store>,
    /// Wakes the delivery worker after events are stored.
    pub wake: Arc<Notify>,
    /// The demo's webhook receiver (only routed in demo mode).
    pub receiver: Receiver,
    /// The counters behind `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Requests per client IP.
    pub ip_limiter: Arc<RateLimiter<IpAddr>>,
    /// Events per profile.
    pub profile_limiter: Arc<RateLimiter<String>>,
    /// Undelivered events, refreshed every second by `run` (0 until then).
    pub queue_depth: Arc<AtomicU64>,
    /// `/sitehook.js` compressed, with the config it was made for: made again on the
    /// first request after a reload, since it starts with the webhooks' field lists.
    pub snippet_js: Arc<snippet::Cache>,
}

impl AppState {
    /// State over a fixed config, a store, and the worker's wake-up handle.
    pub fn new(config: Arc<Config>, store: Arc<dyn Store>, wake: Arc<Notify>) -> Self {
        Self::with_shared(Arc::new(Shared::new(config)), store, wake)
    }

    /// State over a config that a [`crate::reload::Reloader`] may swap.
    pub fn with_shared(
        config: Arc<Shared<Config>>,
        store: Arc<dyn Store>,
        wake: Arc<Notify>,
    ) -> Self {
        AppState {
            // The rates come from the config snapshot of each request, so a reload
            // changes them without forgetting the buckets.
            ip_limiter: Arc::new(RateLimiter::new()),
            profile_limiter: Arc::new(RateLimiter::new()),
            queue_depth: Arc::default(),
            snippet_js: Arc::default(),
            config,
            store,
            wake,
            receiver: Receiver::default(),
            metrics: Arc::default(),
        }
    }
}

/// The relay's whole HTTP app. Tests drive it with `oneshot`; `run` serves it.
pub fn app(state: AppState) -> Router {
    // Browsers send events as `text/plain`, a "simple" request: CORS only decides
    // whether the page may read the answer. Only configured origins may; the relay
    // never echoes an arbitrary origin.
    // The origins come from the request's snapshot, so a reload that adds one
    // applies from the next request on.
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(|origin, parts: &Parts| {
            parts
                .extensions
                .get::<Snapshot>()
                .is_some_and(|c| c.0.allowed_origins.iter().any(|o| o == origin))
        }))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE]);
    let mut router = Router::new()
        .merge(events::router())
        .merge(snippet::router())
        .merge(health::router())
        .merge(admin::router(&state));
    // Routes are built once: `demo` and `base_path` cannot change by a reload.
    let config = state.config.load();
    if config.demo {
        router = router.merge(demo::router(&state.receiver));
    }
    // Mounted under the site's own origin by a proxy, e.g. /sitehook/sitehook.js.
    if !config.base_path.is_empty() {
        router = Router::new().nest(&config.base_path, router);
    }
    // A wrong URL or method gets the same JSON error as every other failure.
    let router = router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    // Outermost: the snapshot is taken before CORS and every handler look at it.
    let snapshot = axum::middleware::from_fn_with_state(state.config.clone(), take_snapshot);
    router.layer(cors).layer(snapshot).with_state(state)
}

async fn not_found(method: Method, uri: axum::http::Uri) -> Error {
    Error::NotFound(format!(
        "no such endpoint: {method} {}; see docs/relay-config.md for the relay's endpoints",
        uri.path()
    ))
}

async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> Error {
    Error::MethodNotAllowed(format!("{} does not take {method}", uri.path()))
}

/// The config one request is served with: taken once, when the request arrives, by
/// [`app`]'s outermost layer, and used by every layer and handler after it. A reload
/// while the request is being served does not change it, so no request can pass a
/// check under one config and act under another (an event accepted for a webhook
/// that is gone by the time it is stored, a CORS answer that contradicts the
/// origin check).
#[derive(Clone)]
pub struct Snapshot(pub Arc<Config>);

async fn take_snapshot(
    State(config): State<Arc<Shared<Config>>>,
    mut request: Request,
    next: Next,
) -> Response {
    request.extensions_mut().insert(Snapshot(config.load()));
    next.run(request).await
}

impl FromRequestParts<AppState> for Snapshot {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Always there under `app`; a handler mounted without it gets the config of now.
        Ok(parts
            .extensions
            .get::<Snapshot>()
            .cloned()
            .unwrap_or_else(|| Snapshot(state.config.load())))
    }
}

/// The client's address: the socket's peer, or, when the peer is a trusted proxy, the
/// address it forwards in `X-Forwarded-For`. The header is read from the right (each
/// proxy appends the address it got the request from), skipping trusted proxies, so
/// a client cannot choose its own address by sending the header itself.
pub fn client_ip(config: &Config, headers: &HeaderMap, peer: Option<IpAddr>) -> Option<IpAddr> {
    let peer = peer?;
    if !config.trusted_proxies.contains(peer) {
        return Some(peer);
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut client = peer;
    for item in forwarded.iter().rev() {
        let Ok(ip) = item.trim().parse::<IpAddr>() else {
            break; // garbage: trust nothing further left
        };
        client = ip;
        if !config.trusted_proxies.contains(ip) {
            break;
        }
    }
    Some(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_is_the_first_untrusted_address_from_the_right() {
        let config =
            Config::from_toml("trusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\"]", &|_| {
                None
            })
            .unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let cases: &[(&str, &[&str], &str)] = &[
            // Not from a proxy: the header is the client's own claim, ignored.
            ("203.0.113.9", &["198.51.100.1"], "203.0.113.9"),
            // From the proxy: the address it forwards.
            ("127.0.0.1", &["198.51.100.1"], "198.51.100.1"),
            // A client's forged entry sits left of what the proxy appended.
            ("127.0.0.1", &["6.6.6.6, 198.51.100.1"], "198.51.100.1"),
            // Two trusted hops, two header lines.
            ("127.0.0.1", &["198.51.100.1", "10.1.2.3"], "198.51.100.1"),
            // The proxy forwarded nothing: the proxy is the client.
            ("127.0.0.1", &[], "127.0.0.1"),
            // Garbage stops the walk at the last good address.
            (
                "127.0.0.1",
                &["198.51.100.1, not-an-ip, 10.0.0.2"],
                "10.0.0.2",
            ),
            ("::ffff:127.0.0.1", &["2001:db8::7"], "2001:db8::7"),
        ];
        for (peer, forwarded, want) in cases {
            let mut headers = HeaderMap::new();
            for f in *forwarded {
                headers.append("x-forwarded-for", f.parse().unwrap());
            }
            assert_eq!(
                client_ip(&config, &headers, Some(ip(peer))),
                Some(ip(want)),
                "{peer} {forwarded:?}"
            );
        }
    }

    #[test]
    fn base_path_is_a_clean_prefix() {
        for (text, want) in [
            ("\"/sitehook\"", Ok("/sitehook")),
            ("\"/\"", Ok("")),
            ("\"/a/b-c\"", Ok("/a/b-c")),
        ] {
            let c = Config::from_toml(&format!("base_path = {text}"), &|_| None);
            assert_eq!(
                c.map(|c| c.base_path).map_err(|_| ()),
                want.map(str::to_owned)
            );
        }
        for bad in ["sitehook", "/sitehook/", "/a//b", "/a/../b", "/a?b"] {
            let e = Config::from_toml(&format!("base_path = {bad:?}"), &|_| None).unwrap_err();
            assert!(e.to_string().contains("base_path"), "{bad}: {e}");
        }
    }
}
