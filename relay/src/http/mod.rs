//! The HTTP surface: one router per area, assembled by [`app`].

pub mod admin;
pub mod events;
pub mod health;
pub mod snippet;

use std::sync::Arc;

use axum::Router;
use axum::http::{Method, header};
use tokio::sync::Notify;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::Config;
use crate::demo;
use crate::limit::RateLimiter;
use crate::metrics::Metrics;
use crate::receiver::Receiver;
use crate::store::Store;
use std::net::IpAddr;
use std::sync::atomic::AtomicU64;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The validated config.
    pub config: Arc<Config>,
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
}

impl AppState {
    /// State over a config, a store, and the worker's wake-up handle.
    pub fn new(config: Arc<Config>, store: Arc<dyn Store>, wake: Arc<Notify>) -> Self {
        let l = config.limits;
        AppState {
            ip_limiter: Arc::new(RateLimiter::new(l.per_ip_per_minute, l.per_ip_burst)),
            profile_limiter: Arc::new(RateLimiter::new(
                l.per_profile_per_minute,
                l.per_profile_burst,
            )),
            queue_depth: Arc::default(),
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
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(state.config.allowed_origins.clone()))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE]);
    let mut router = Router::new()
        .merge(events::router())
        .merge(snippet::router())
        .merge(health::router())
        .merge(admin::router(&state));
    if state.config.demo {
        router = router.merge(demo::router(&state.receiver));
    }
    router.layer(cors).with_state(state)
}
