//! An HTTP load generator for `POST /v1/events`: every request carries new event ids
//! (so the relay stores each one rather than answering duplicates), `concurrency`
//! requests are kept in flight, optionally paced to a total rate.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

/// What one run measured.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    /// Successful requests per second.
    pub rps: f64,
    /// Median latency.
    pub p50_ms: f64,
    /// 99th percentile latency.
    pub p99_ms: f64,
}

/// A batch of `batch` events with ids unique to `prefix`, `task` and `n`.
fn body(prefix: &str, task: usize, n: u64, batch: usize) -> String {
    let events: Vec<_> = (0..batch)
        .map(|i| {
            json!({"id": format!("{prefix}-{task}-{n}-{i}"), "trigger": "bench", "webhook": "hook",
                   "profile": {"profileid": format!("p-{task}-{n}-{i}"), "email": "ann@example.com"},
                   "page": {"url": "https://shop.example.com/pricing", "title": "Pricing", "referrer": ""},
                   "at": 1_700_000_000_000u64})
        })
        .collect();
    json!({ "events": events }).to_string()
}

/// Runs for `duration` against `base`/v1/events.
pub async fn run(
    base: &str,
    concurrency: usize,
    duration: Duration,
    rate: Option<f64>,
    batch: usize,
    prefix: &str,
) -> anyhow::Result<Load> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let url = format!("{base}/v1/events");
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    // With a rate, each task sends on its own schedule: one request every
    // `concurrency / rate` seconds.
    let interval = rate.map(|r| Duration::from_secs_f64(concurrency as f64 / r));
    let mut tasks = Vec::new();
    for task in 0..concurrency {
        let (client, url, errors, prefix) = (
            client.clone(),
            url.clone(),
            errors.clone(),
            prefix.to_owned(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = 0u64;
            let mut next = Instant::now()
                + interval.map_or(Duration::ZERO, |i| {
                    i.mul_f64(task as f64 / concurrency as f64)
                });
            while Instant::now() < deadline {
                if let Some(i) = interval {
                    tokio::time::sleep_until(next.into()).await;
                    next += i;
                }
                let t = Instant::now();
                let ok = client
                    .post(&url)
                    .header("content-type", "text/plain;charset=UTF-8")
                    .body(body(&prefix, task, n, batch))
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 202);
                n += 1;
                if ok {
                    latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                } else {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await?);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let errors = errors.load(Ordering::Relaxed);
    anyhow::ensure!(
        !all.is_empty(),
        "no request to {url} succeeded ({errors} failed)"
    );
    if errors > 0 {
        eprintln!("bench: {errors} requests to {url} failed");
    }
    all.sort_by(f64::total_cmp);
    let pct = |p: f64| all[((all.len() - 1) as f64 * p).round() as usize];
    Ok(Load {
        rps: all.len() as f64 / elapsed,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    })
}
