//! The baselines and helpers: a bare axum ingest handler, a counting receiver, the
//! bare reqwest → axum loop, and filling a relay's outbox directly.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use sitehook_core::{Event, Page};
use sitehook_relay::clock::SystemClock;
use sitehook_relay::store::{Incoming, SqliteStore, Store};

/// The ingest baseline: reads the body and answers 202, nothing else.
pub async fn bare_ingest(listen: &str) -> anyhow::Result<()> {
    let app = Router::new()
        .route(
            "/v1/events",
            post(|_body: Bytes| async {
                (StatusCode::ACCEPTED, r#"{"accepted":[],"rejected":[]}"#)
            }),
        )
        .route("/healthz", get(|| async { "ok" }));
    axum::serve(tokio::net::TcpListener::bind(listen).await?, app).await?;
    Ok(())
}

/// A webhook receiver that answers 200 and counts; `GET /count`, `POST /reset`.
pub async fn receiver(listen: &str) -> anyhow::Result<()> {
    let count = Arc::new(AtomicU64::new(0));
    let app =
        Router::new()
            .route(
                "/hook",
                post(|State(c): State<Arc<AtomicU64>>, _body: Bytes| async move {
                    c.fetch_add(1, Ordering::Relaxed);
                    StatusCode::OK
                }),
            )
            .route(
                "/count",
                get(|State(c): State<Arc<AtomicU64>>| async move {
                    c.load(Ordering::Relaxed).to_string()
                }),
            )
            .route(
                "/reset",
                post(|State(c): State<Arc<AtomicU64>>| async move {
                    c.store(0, Ordering::Relaxed);
                    StatusCode::OK
                }),
            )
            .with_state(count);
    axum::serve(tokio::net::TcpListener::bind(listen).await?, app).await?;
    Ok(())
}

/// Zeroes the receiver's count.
pub async fn reset_count(base: &str) -> anyhow::Result<()> {
    reqwest::Client::new()
        .post(format!("{base}/reset"))
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

/// Waits until the receiver has counted `n`.
pub async fn wait_count(base: &str, n: u64, within: Duration) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + within;
    loop {
        let got: u64 = client
            .get(format!("{base}/count"))
            .send()
            .await?
            .text()
            .await?
            .trim()
            .parse()?;
        if got >= n {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the receiver counted {got} of {n} within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The delivery baseline: `n` POSTs of a webhook-sized JSON body with `concurrency`
/// in flight, from a bare reqwest client. Returns requests per second.
pub async fn reqwest_loop(url: &str, n: u64, concurrency: u64) -> anyhow::Result<f64> {
    let client = reqwest::Client::new();
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, next, url) = (client.clone(), next.clone(), url.to_owned());
        tasks.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < n {
                let body =
                    r#"{"automationid":"A-17","email":"ann@example.com","profileid":"p-123"}"#;
                let r = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await?;
                r.error_for_status()?;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// Puts `n` events for webhook `hook` straight into a relay's store.
pub async fn fill(data_dir: &Path, n: u64) -> anyhow::Result<()> {
    let store = SqliteStore::open(data_dir, Arc::new(SystemClock))?;
    let mut i = 0;
    while i < n {
        let batch = (i..(i + 1000).min(n))
            .map(|k| Incoming {
                event: Event {
                    id: format!("fill-{k}"),
                    trigger: "bench".into(),
                    webhook: "hook".into(),
                    profile: [
                        ("profileid".to_owned(), format!("p-{k}")),
                        ("email".to_owned(), "ann@example.com".to_owned()),
                    ]
                    .into_iter()
                    .collect(),
                    identity: None,
                    data: Default::default(),
                    page: Page {
                        url: "https://shop.example.com/pricing".into(),
                        ..Page::default()
                    },
                    at: 1_700_000_000_000,
                },
                restart_after: None,
            })
            .collect();
        store.accept(batch).await?;
        i += 1000;
    }
    Ok(())
}

/// Today's date (UTC), from the `date` command.
pub fn today() -> String {
    command_line(&["date", "-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_else(|| "unknown date".into())
}

/// The CPU model, core count and memory.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    format!("{cpu}, {cores} cores, {mem:.0} GiB")
}

fn command_line(args: &[&str]) -> Option<String> {
    let out = std::process::Command::new(args[0])
        .args(&args[1..])
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}
