//! Delivering stored events to their webhooks.
//!
//! [`build`] turns an event and its webhook into the exact outbound request (pure, so
//! it is tested without a network and reused to show a request). The [`Worker`] takes
//! due events from the store, sends them, and records each attempt; it runs apart from
//! the HTTP handlers, which only store.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::{HeaderName, HeaderValue};
use sitehook_core::Event;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use crate::clock::Clock;
use crate::config::{Config, Method, Webhook};
use crate::store::{Attempt, Job, Store};

/// How long after each failed attempt the next one is made: after the first
/// (immediate) attempt, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h, as Svix does.
/// After the last, the event is a dead letter.
pub const RETRY_SCHEDULE_MS: [u64; 7] = [
    5_000,
    5 * 60_000,
    30 * 60_000,
    2 * 3_600_000,
    5 * 3_600_000,
    10 * 3_600_000,
    10 * 3_600_000,
];

/// How many events the worker takes from the store at once; they are sent
/// concurrently.
const BATCH: usize = 64;

/// The request the relay sends for one event.
#[derive(Debug, Clone)]
pub struct Outbound {
    /// POST or GET.
    pub method: Method,
    /// The URL, with the fields as query parameters for GET.
    pub url: Url,
    /// Headers in the order they are set; `true` marks a secret value.
    pub headers: Vec<(HeaderName, HeaderValue, bool)>,
    /// The JSON body for POST.
    pub body: Option<String>,
}

/// The fields forwarded for `event`: the webhook's allowlisted `fields`, taken from
/// the profile or else from the trigger's data, then the webhook's static `data`,
/// which wins. Nothing else the browser sent leaves the relay.
pub fn payload(webhook: &Webhook, event: &Event) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for field in &webhook.fields {
        if let Some(value) = event.profile.get(field).or_else(|| event.data.get(field)) {
            out.insert(field.clone(), value.clone());
        }
    }
    for (key, value) in &webhook.data {
        out.insert(key.clone(), value.clone());
    }
    out
}

/// Builds the outbound request for `event`, stamped with `now_ms`.
pub fn build(webhook: &Webhook, event: &Event, now_ms: u64) -> Outbound {
    let fields = payload(webhook, event);
    let mut url = webhook.url.clone();
    let mut headers = Vec::new();
    let mut body = None;
    let header =
        |v: &str| HeaderValue::from_str(v).unwrap_or_else(|_| HeaderValue::from_static("invalid"));
    match webhook.method {
        Method::Post => {
            headers.push((
                reqwest::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
                false,
            ));
            // A map of strings always serialises.
            body = Some(serde_json::to_string(&fields).expect("a string map serialises"));
        }
        Method::Get => {
            if !fields.is_empty() {
                url.query_pairs_mut().extend_pairs(&fields);
            }
        }
    }
    // A configured User-Agent replaces ours rather than being sent twice.
    if !webhook
        .headers
        .iter()
        .any(|(name, _)| name == reqwest::header::USER_AGENT)
    {
        headers.push((
            reqwest::header::USER_AGENT,
            HeaderValue::from_static(concat!("sitehook-relay/", env!("CARGO_PKG_VERSION"))),
            false,
        ));
    }
    // Standard Webhooks: a stable id per event, so receivers can drop our retries.
    // Event ids are validated to be header-safe when they are accepted.
    headers.push((
        HeaderName::from_static("webhook-id"),
        header(&event.id),
        false,
    ));
    headers.push((
        HeaderName::from_static("webhook-timestamp"),
        header(&(now_ms / 1000).to_string()),
        false,
    ));
    // Configured headers last: config validation keeps them off the names above.
    for (name, secret) in &webhook.headers {
        headers.push((name.clone(), secret.expose().clone(), true));
    }
    Outbound {
        method: webhook.method,
        url,
        headers,
        body,
    }
}

/// Delivers stored events until told to stop.
pub struct Worker {
    config: Arc<Config>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    client: reqwest::Client,
    wake: Arc<Notify>,
}

impl Worker {
    /// A worker over `store`, sending with its own HTTP client.
    pub fn new(
        config: Arc<Config>,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            // A redirect would send the secret headers to a URL nobody configured.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .build()?;
        Ok(Worker {
            config,
            store,
            clock,
            client,
            wake: Arc::new(Notify::new()),
        })
    }

    /// A handle that wakes the worker when new events are stored.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Runs until `stop` turns true; the attempts under way then are finished first.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let this = Arc::new(self);
        loop {
            if *stop.borrow() {
                return;
            }
            let store = this.store.clone();
            let jobs = match tokio::task::spawn_blocking(move || store.claim(BATCH)).await {
                Ok(Ok(jobs)) => jobs,
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "cannot read the outbox; retrying in 1s");
                    Vec::new()
                }
                Err(e) => {
                    tracing::error!(error = %e, "the outbox reader panicked");
                    Vec::new()
                }
            };
            if jobs.is_empty() {
                let wait = this.idle_wait().await;
                tokio::select! {
                    _ = this.wake.notified() => {}
                    _ = tokio::time::sleep(wait) => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
            let mut attempts = JoinSet::new();
            for job in jobs {
                let this = this.clone();
                attempts.spawn(async move { this.deliver(job).await });
            }
            while attempts.join_next().await.is_some() {}
        }
    }

    /// How long to sleep with nothing due: until the next retry, at most a second (a
    /// wake-up covers new events; the cap covers anything else).
    async fn idle_wait(&self) -> Duration {
        let store = self.store.clone();
        let next = tokio::task::spawn_blocking(move || store.next_due())
            .await
            .ok()
            .and_then(Result::ok)
            .flatten();
        let now = self.clock.now_ms();
        let ms = next.map_or(1_000, |at| at.saturating_sub(now).min(1_000));
        Duration::from_millis(ms.max(10))
    }

    async fn deliver(&self, job: Job) {
        let event = &job.event;
        let attempt = match self.config.webhooks.get(&event.webhook) {
            None => self.failed(
                &job,
                None,
                "the webhook is no longer in the relay's config".into(),
            ),
            Some(webhook) => self.send(webhook, &job).await,
        };
        match &attempt {
            Attempt::Delivered(status) => {
                tracing::info!(event = %event.id, webhook = %event.webhook, trigger = %event.trigger, status, "delivered");
            }
            Attempt::Failed {
                status,
                error,
                next_at,
            } => {
                tracing::warn!(event = %event.id, webhook = %event.webhook, ?status, %error, retry_at = ?next_at, "delivery failed");
            }
        }
        let store = self.store.clone();
        let id = event.id.clone();
        match tokio::task::spawn_blocking(move || store.record(&id, &attempt)).await {
            Ok(Ok(())) => {}
            // The attempt stays claimed in memory only: after a restart it is made
            // again, which receivers de-duplicate by `webhook-id`.
            Ok(Err(e)) => {
                tracing::error!(event = %event.id, error = %e, "cannot record the attempt")
            }
            Err(e) => {
                tracing::error!(event = %event.id, error = %e, "recording the attempt panicked")
            }
        }
    }

    async fn send(&self, webhook: &Webhook, job: &Job) -> Attempt {
        let out = build(webhook, &job.event, self.clock.now_ms());
        let mut request = match out.method {
            Method::Post => self.client.post(out.url),
            Method::Get => self.client.get(out.url),
        };
        for (name, value, _) in out.headers {
            request = request.header(name, value);
        }
        if let Some(body) = out.body {
            request = request.body(body);
        }
        match request.timeout(webhook.timeout).send().await {
            Ok(response) if response.status().is_success() => {
                Attempt::Delivered(response.status().as_u16())
            }
            Ok(response) => {
                let status = response.status();
                self.failed(
                    job,
                    Some(status.as_u16()),
                    format!("the webhook answered {status}"),
                )
            }
            // Without the URL: it is in the config already, and may carry a token.
            Err(e) => self.failed(job, None, describe(&e.without_url())),
        }
    }

    fn failed(&self, job: &Job, status: Option<u16>, error: String) -> Attempt {
        let delay = RETRY_SCHEDULE_MS.get(job.attempts as usize).copied();
        Attempt::Failed {
            status,
            error,
            next_at: delay.map(|d| self.clock.now_ms() + d),
        }
    }
}

/// An error with its causes, e.g. "error sending request: connection refused".
fn describe(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn webhook(method: &str) -> Webhook {
        let toml = format!(
            r#"
[webhooks.crm]
url = "https://crm.example.com/hook?source=sitehook"
method = "{method}"
fields = ["profileid", "email", "automationid"]
data = {{ automationid = "A-17", source = "site" }}
headers = {{ "X-Api-Key" = {{ env = "KEY" }} }}
"#
        );
        let config = Config::from_toml(&toml, &|_| Some("k3y".into())).unwrap();
        config.webhooks["crm"].clone()
    }

    fn event() -> Event {
        serde_json::from_str(
            r#"{"id":"ev-1","trigger":"pricing","webhook":"crm",
                "profile":{"profileid":"p-123","email":"ann@example.com","gender":"f","x-api-key":"forged"},
                "data":{"automationid":"FORGED","campaign":"c1"},
                "page":{"url":"https://shop.example.com/pricing"},"at":1}"#,
        )
        .unwrap()
    }

    #[test]
    fn post_sends_only_allowlisted_fields_and_static_data_wins() {
        let out = build(&webhook("POST"), &event(), 1_700_000_000_123);
        let body: serde_json::Value = serde_json::from_str(out.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"profileid":"p-123","email":"ann@example.com","automationid":"A-17","source":"site"})
        );
        let headers: Vec<(String, String)> = out
            .headers
            .iter()
            .map(|(n, v, _)| (n.to_string(), v.to_str().unwrap().to_owned()))
            .collect();
        let get = |name: &str| {
            headers
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(get("webhook-id"), ["ev-1"]);
        assert_eq!(get("webhook-timestamp"), ["1700000000"]);
        assert_eq!(
            get("x-api-key"),
            ["k3y"],
            "the configured secret, once, not the browser's"
        );
        assert_eq!(get("content-type"), ["application/json"]);
        assert!(
            out.headers
                .iter()
                .any(|(n, _, secret)| n == "x-api-key" && *secret)
        );
    }

    #[test]
    fn get_sends_fields_as_query_parameters() {
        let out = build(&webhook("GET"), &event(), 0);
        assert!(out.body.is_none());
        assert_eq!(
            out.url.as_str(),
            "https://crm.example.com/hook?source=sitehook&automationid=A-17&email=ann%40example.com&profileid=p-123&source=site"
        );
    }
}
