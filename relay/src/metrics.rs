//! Counters for `GET /metrics`, in the Prometheus text format.
//!
//! Hand-written rather than a metrics crate: a dozen atomics and one histogram, and
//! no label values that come from requests (rejection reasons are a fixed set), so a
//! hostile client cannot grow the series without bound.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// Why an event (or a whole request) was rejected: a fixed set, used as a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// The body is not an event batch (bad JSON, wrong shape, empty, too many).
    BadRequest,
    /// The body is larger than allowed.
    TooLarge,
    /// The request's origin is not allowed.
    Origin,
    /// An event failed validation.
    InvalidEvent,
    /// An event names a webhook the relay does not have.
    UnknownWebhook,
    /// A known profile without a valid identity proof.
    Identity,
    /// Over a rate limit, or the queue is full.
    RateLimited,
}

const REJECTIONS: [(Rejection, &str); 7] = [
    (Rejection::BadRequest, "bad_request"),
    (Rejection::TooLarge, "too_large"),
    (Rejection::Origin, "origin"),
    (Rejection::InvalidEvent, "invalid_event"),
    (Rejection::UnknownWebhook, "unknown_webhook"),
    (Rejection::Identity, "identity"),
    (Rejection::RateLimited, "rate_limited"),
];

/// Upper bounds (seconds) of the delivery latency histogram's buckets.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The relay's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Events stored for delivery.
    pub accepted: AtomicU64,
    /// Events acknowledged as duplicates of stored ones.
    pub duplicates: AtomicU64,
    /// Events stored but held back by a webhook's Stop.
    pub suppressed: AtomicU64,
    rejected: [AtomicU64; 7],
    /// Successful deliveries.
    pub delivered: AtomicU64,
    /// Failed attempts that will be retried.
    pub retries: AtomicU64,
    /// Events that used up their attempts (dead letters).
    pub dead_letters: AtomicU64,
    /// Webhooks disabled by a 410 Gone.
    pub gone: AtomicU64,
    /// Events handled in dry-run mode (not sent).
    pub dry_runs: AtomicU64,
    latency_buckets: [AtomicU64; 11],
    latency_count: AtomicU64,
    latency_sum_us: AtomicU64,
}

impl Metrics {
    /// Counts `n` rejections for `why`.
    pub fn reject(&self, why: Rejection, n: u64) {
        let i = REJECTIONS.iter().position(|(r, _)| *r == why).unwrap_or(0);
        self.rejected[i].fetch_add(n, Ordering::Relaxed);
    }

    /// Records one delivery attempt's duration.
    pub fn observe(&self, seconds: f64) {
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                self.latency_buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_us
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    /// The exposition text; `pending` is the current queue depth.
    pub fn render(&self, pending: u64) -> String {
        let mut out = String::new();
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut counter = |name: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        };
        counter(
            "sitehook_events_accepted_total",
            "Events stored for delivery.",
            get(&self.accepted),
        );
        counter(
            "sitehook_events_duplicate_total",
            "Events acknowledged as duplicates of stored ones.",
            get(&self.duplicates),
        );
        counter(
            "sitehook_events_suppressed_total",
            "Events held back by a webhook's restart_after.",
            get(&self.suppressed),
        );
        counter(
            "sitehook_deliveries_total",
            "Successful webhook deliveries.",
            get(&self.delivered),
        );
        counter(
            "sitehook_delivery_retries_total",
            "Failed attempts that will be retried.",
            get(&self.retries),
        );
        counter(
            "sitehook_delivery_failed_total",
            "Events that used up their attempts (dead letters).",
            get(&self.dead_letters),
        );
        counter(
            "sitehook_webhooks_gone_total",
            "Webhooks disabled by a 410 Gone answer.",
            get(&self.gone),
        );
        counter(
            "sitehook_dry_runs_total",
            "Events handled in dry-run mode, without calling the webhook.",
            get(&self.dry_runs),
        );
        let _ = writeln!(
            out,
            "# HELP sitehook_events_rejected_total Events or requests rejected, by reason."
        );
        let _ = writeln!(out, "# TYPE sitehook_events_rejected_total counter");
        for (i, (_, label)) in REJECTIONS.iter().enumerate() {
            let _ = writeln!(
                out,
                "sitehook_events_rejected_total{{reason=\"{label}\"}} {}",
                get(&self.rejected[i])
            );
        }
        let _ = writeln!(
            out,
            "# HELP sitehook_queue_depth Events waiting for delivery."
        );
        let _ = writeln!(
            out,
            "# TYPE sitehook_queue_depth gauge\nsitehook_queue_depth {pending}"
        );
        let _ = writeln!(
            out,
            "# HELP sitehook_delivery_duration_seconds Time taken by delivery attempts."
        );
        let _ = writeln!(out, "# TYPE sitehook_delivery_duration_seconds histogram");
        for (i, bound) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "sitehook_delivery_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                get(&self.latency_buckets[i])
            );
        }
        let count = get(&self.latency_count);
        let _ = writeln!(
            out,
            "sitehook_delivery_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "sitehook_delivery_duration_seconds_sum {}",
            get(&self.latency_sum_us) as f64 / 1e6
        );
        let _ = writeln!(out, "sitehook_delivery_duration_seconds_count {count}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_labels_and_a_cumulative_histogram() {
        let m = Metrics::default();
        m.accepted.fetch_add(3, Ordering::Relaxed);
        m.reject(Rejection::UnknownWebhook, 2);
        m.observe(0.02);
        m.observe(3.0);
        let text = m.render(7);
        for line in [
            "sitehook_events_accepted_total 3",
            "sitehook_events_rejected_total{reason=\"unknown_webhook\"} 2",
            "sitehook_events_rejected_total{reason=\"origin\"} 0",
            "sitehook_queue_depth 7",
            "sitehook_delivery_duration_seconds_bucket{le=\"0.01\"} 0",
            "sitehook_delivery_duration_seconds_bucket{le=\"0.025\"} 1",
            "sitehook_delivery_duration_seconds_bucket{le=\"5\"} 2",
            "sitehook_delivery_duration_seconds_bucket{le=\"+Inf\"} 2",
            "sitehook_delivery_duration_seconds_count 2",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "no line {line:?} in\n{text}"
            );
        }
    }
}
