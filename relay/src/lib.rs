//! The sitehook relay: receives matched events from the snippet, stores them durably,
//! and delivers them to the configured webhooks with the secret headers only it knows.
//!
//! # Layout
//!
//! - [`config`]: the TOML config, validated at start (and at each reload), secrets
//!   resolved from the environment or files and masked wherever they are shown.
//! - [`http`]: the `app()` router factory and one router per area: events, the snippet
//!   files, health and metrics, the admin inspector.
//! - [`schema`]: the SQLite store's versioned schema and its migrations.
//! - [`store`]: the storage trait (the outbox, delivery attempts, de-duplication and
//!   server-side Stop timers) and its embedded SQLite backend.
//! - [`delivery`]: building the outbound request (pure) and the worker that delivers
//!   from the store, separate from the HTTP handlers.
//! - [`metrics`]: the counters behind `GET /metrics`.
//! - [`limit`]: rate limits per client IP and per profile.
//! - [`egress`]: which addresses deliveries may connect to (SSRF protection).
//! - [`trial`]: `sitehook-relay test`, one sample delivery shown in full.
//! - [`reload`]: the config as a swappable snapshot, and reloading it on `SIGHUP`.
//! - [`clock`]: time as a dependency, so tests control it.
//! - [`demo`]: the demo shop and its config.
//! - [`receiver`]: a local webhook receiver that records and shows what arrives (the
//!   `receiver` command, the demo's, the tests').
//! - [`error`]: the one HTTP error type.
//!
//! [`run`] is the entry point shared by `main` and the tests; [`run_shared`] is the
//! same over a config that a [`reload::Reloader`] can swap.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod clock;
pub mod config;
pub mod delivery;
pub mod demo;
pub mod egress;
pub mod error;
pub mod http;
pub mod limit;
pub mod metrics;
pub mod receiver;
pub mod reload;
pub mod schema;
pub mod store;
pub mod trial;

use std::future::Future;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use config::Config;
use reload::Shared;

/// Runs the relay on `listener` until `shutdown` completes: serves HTTP, and delivers
/// from the store in the background. On shutdown it stops accepting requests, lets
/// in-flight requests and deliveries finish, and returns.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    run_with_clock(config, listener, shutdown, Arc::new(clock::SystemClock)).await
}

/// [`run`] with a given clock: tests pass a [`clock::ManualClock`] to move retries
/// forward without waiting for them.
pub async fn run_with_clock(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    clock: Arc<dyn clock::Clock>,
) -> anyhow::Result<()> {
    run_shared(Arc::new(Shared::new(config)), listener, shutdown, clock).await
}

/// [`run_with_clock`] over a shared config: what a [`reload::Reloader`] built on the
/// same `config` swaps is used from the next request and the next delivery attempt
/// on. `listen`, `data_dir` and `base_path` are read once, here.
pub async fn run_shared(
    config: Arc<Shared<Config>>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    clock: Arc<dyn clock::Clock>,
) -> anyhow::Result<()> {
    install_crypto_provider();
    let first = config.load();
    let store = store::SqliteStore::open(&first.data_dir, clock.clone())
        .with_context(|| format!("opening the store in {}", first.data_dir.display()))?;
    let store: Arc<dyn store::Store> = Arc::new(store);
    // Events a killed process had taken are handed out again.
    store.recover().context("recovering the outbox")?;
    let metrics = Arc::new(metrics::Metrics::default());

    let (stop_tx, stop_rx) = watch::channel(false);
    let worker = delivery::Worker::new(
        config.clone(),
        store.clone(),
        clock.clone(),
        metrics.clone(),
    )?;
    let wake = worker.waker();
    let worker = tokio::spawn(worker.run(stop_rx));

    let mut state = http::AppState::with_shared(config.clone(), store.clone(), wake);
    state.metrics = metrics;
    // The queue bound is checked against a depth refreshed every second, not counted
    // on every request.
    let depth = state.queue_depth.clone();
    let depth_task = tokio::spawn(async move {
        loop {
            let store = store.clone();
            if let Ok(Ok(n)) = tokio::task::spawn_blocking(move || store.pending()).await {
                depth.store(n, std::sync::atomic::Ordering::Relaxed);
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    });
    let addr = listener.local_addr()?;
    tracing::info!(%addr, webhooks = first.webhooks.len(), "relay listening");
    if first.webhooks.is_empty() {
        tracing::warn!("{}", config::NO_WEBHOOKS);
    }
    drop(first);
    let app = http::app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving HTTP")?;

    depth_task.abort();
    tracing::info!("shutting down: finishing in-flight deliveries");
    let _ = stop_tx.send(true);
    worker.await.context("the delivery worker panicked")?;
    Ok(())
}

/// Installs the TLS crypto provider that outbound HTTPS uses. Call it before building
/// any `reqwest::Client`; calling it again is harmless.
///
/// reqwest is built without a default provider so that we pick one: ring, which is
/// small and needs no C toolchain beyond `cc`.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Completes on Ctrl-C or SIGTERM: the shutdown signal for `main`.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
