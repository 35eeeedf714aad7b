//! Delivering stored events to their webhooks.
//!
//! [`build`] turns an event and its webhook into the exact outbound request (pure, so
//! it is tested without a network and reused to show a request). [`classify`] decides
//! what an answer means (delivered, retry when, dead letter, webhook gone). The
//! [`Worker`] takes due events from the store, sends them, and records each attempt;
//! it runs apart from the HTTP handlers, which only store.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use reqwest::Url;
use reqwest::header::{HeaderName, HeaderValue};
use sha2::Sha256;
use sitehook_core::Event;
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;

use crate::clock::Clock;
use crate::config::{Config, Method, SigningKey, Webhook};
use crate::egress::Allowlist;
use crate::metrics::Metrics;
use crate::reload::Shared;
use crate::store::{Attempt, Job, Next, Store};

/// The most deliveries under way at once, over all webhooks (each webhook also has its
/// own `max_in_flight`).
const MAX_IN_FLIGHT: usize = 256;
/// The longest `Retry-After` honoured; longer ones are cut to this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);
/// How often old records are pruned.
const PRUNE_EVERY_MS: u64 = 10 * 60_000;

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

/// The Standard Webhooks signature header value: `v1,<base64 HMAC-SHA256 of
/// "id.timestamp.body">` for each key, space-separated (several during rotation).
pub fn sign(keys: &[SigningKey], id: &str, timestamp: u64, body: &[u8]) -> String {
    let mut out = String::new();
    for key in keys {
        // HMAC takes keys of any length.
        let mut mac = Hmac::<Sha256>::new_from_slice(&key.0).expect("HMAC accepts any key length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str("v1,");
        out.push_str(
            &base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()),
        );
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
    let timestamp = now_ms / 1000;
    headers.push((
        HeaderName::from_static("webhook-id"),
        header(&event.id),
        false,
    ));
    headers.push((
        HeaderName::from_static("webhook-timestamp"),
        header(&timestamp.to_string()),
        false,
    ));
    if !webhook.signing_keys.is_empty() {
        // The signed content is the body; a GET has none, so its query string (the
        // part after `?`) is signed instead, or the fields would go unprotected.
        let content = match &body {
            Some(body) => body.as_str(),
            None => url.query().unwrap_or(""),
        };
        let signed = sign(
            &webhook.signing_keys,
            &event.id,
            timestamp,
            content.as_bytes(),
        );
        headers.push((
            HeaderName::from_static("webhook-signature"),
            header(&signed),
            false,
        ));
    }
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

/// What one attempt's answer means. `attempts` counts the attempts before this one;
/// `jitter` is a factor near 1 applied to the scheduled wait.
pub fn classify(
    webhook: &Webhook,
    attempts: u32,
    status: Option<u16>,
    retry_after: Option<Duration>,
    now_ms: u64,
    jitter: f64,
) -> Next {
    match status {
        Some(s) if (200..300).contains(&s) => return Next::Delivered,
        Some(410) => return Next::WebhookGone,
        _ => {}
    }
    let Some(wait) = webhook.retry_schedule.get(attempts as usize) else {
        return Next::DeadLetter;
    };
    let wait = match (status, retry_after) {
        (Some(429 | 503), Some(asked)) => asked.min(MAX_RETRY_AFTER),
        _ => wait.mul_f64(jitter),
    };
    Next::RetryAt(now_ms + wait.as_millis() as u64)
}

/// Reads `Retry-After`: seconds, or an HTTP date.
pub fn retry_after(value: &str, now_ms: u64) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let at_ms = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as u64;
    Some(Duration::from_millis(at_ms.saturating_sub(now_ms)))
}

/// Delivers stored events until told to stop.
///
/// The config is read once per attempt (a snapshot), so an attempt under way when the
/// config is reloaded finishes as it began, and the next attempt uses the new config.
pub struct Worker {
    config: Arc<Shared<Config>>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    /// The HTTP client and the `dangerously_allow_targets` its resolver checks
    /// against: built again only when a reload changes those, so connections to the
    /// webhooks are otherwise kept across reloads.
    client: Mutex<(Allowlist, reqwest::Client)>,
    wake: Arc<Notify>,
    /// Each webhook's `max_in_flight` permits, by webhook id, with the limit they were
    /// made for. A reload that changes a limit gets a new semaphore; attempts holding
    /// permits of the old one finish, so for a moment both limits may be in use.
    limits: Mutex<BTreeMap<String, (usize, Arc<Semaphore>)>>,
}

/// How many more due events webhook `w` may be handed, out of `room`: for a webhook
/// that sends, up to four times its `max_in_flight` waiting or sending, so that
/// attempts wait ready for each request that ends (with twice, delivery measured
/// 0.91 of the worker that handed out all 256 places; with four times, 0.99 to 1.02,
/// `sitehook-bench compare-delivery`), while a slow webhook with a backlog cannot fill
/// the room and hold back the others. Each takes its permit, the config and its
/// `webhook-timestamp` only when its turn comes (see `deliver`).
fn cap(w: &Webhook, outstanding: &BTreeMap<String, usize>, room: usize) -> usize {
    if w.dry_run {
        return room;
    }
    let under_way = outstanding.get(&w.id).copied().unwrap_or(0);
    (4 * w.max_in_flight).saturating_sub(under_way).min(room)
}

/// One attempt under way, counted for its webhook until it is dropped (when its
/// request has an answer, or the task panics or is aborted at shutdown).
struct UnderWay {
    counts: Arc<Mutex<BTreeMap<String, usize>>>,
    webhook: String,
}

impl UnderWay {
    fn new(counts: &Arc<Mutex<BTreeMap<String, usize>>>, webhook: &str) -> UnderWay {
        *lock(counts).entry(webhook.to_owned()).or_default() += 1;
        UnderWay {
            counts: counts.clone(),
            webhook: webhook.to_owned(),
        }
    }
}

impl Drop for UnderWay {
    fn drop(&mut self) {
        let mut counts = lock(&self.counts);
        if let Some(n) = counts.get_mut(&self.webhook) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.webhook);
            }
        }
    }
}

/// The value behind `m`. A poisoned lock still holds a whole value: each change made
/// under these locks (a count, a cached client, a semaphore) is one step.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Worker {
    /// A worker over `store`, sending with its own HTTP client.
    pub fn new(
        config: Arc<Shared<Config>>,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Self> {
        let first = config.load();
        let client = client(&first)?;
        Ok(Worker {
            client: Mutex::new((first.allow_targets.clone(), client)),
            config,
            store,
            clock,
            metrics,
            wake: Arc::new(Notify::new()),
            limits: Mutex::default(),
        })
    }

    /// The client for `config`'s allowed targets.
    fn client_for(&self, config: &Config) -> reqwest::Client {
        let mut cached = lock(&self.client);
        if cached.0 != config.allow_targets {
            match client(config) {
                Ok(fresh) => *cached = (config.allow_targets.clone(), fresh),
                // Building a client only fails when TLS cannot initialise, which it
                // did at start; keep the old client rather than stop delivering.
                Err(e) => {
                    tracing::error!(error = %e, "cannot build the HTTP client for the reloaded config")
                }
            }
        }
        cached.1.clone()
    }

    /// The permits of `webhook`'s `max_in_flight`.
    fn limit_for(&self, webhook: &Webhook) -> Arc<Semaphore> {
        let mut limits = lock(&self.limits);
        match limits.get(&webhook.id) {
            Some((max, semaphore)) if *max == webhook.max_in_flight => semaphore.clone(),
            _ => {
                let semaphore = Arc::new(Semaphore::new(webhook.max_in_flight));
                limits.insert(
                    webhook.id.clone(),
                    (webhook.max_in_flight, semaphore.clone()),
                );
                semaphore
            }
        }
    }

    /// A handle that wakes the worker when new events are stored.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Runs until `stop` turns true; the deliveries under way then get
    /// `shutdown_grace` to finish. An attempt cut short stays claimed in the store and
    /// is made again after the next start.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let this = Arc::new(self);
        let mut in_flight = JoinSet::new();
        let mut last_prune = 0u64;
        let mut turn = 0usize;
        // Attempts per webhook waiting for a permit or sending, counted down by each
        // task's `UnderWay` once its request has an answer (or the task ends anyhow).
        let outstanding: Arc<Mutex<BTreeMap<String, usize>>> = Arc::default();
        // The config last seen, and whether events of webhooks it does not have may
        // be waiting: at start, and after each reload, until a claim finds no more.
        let mut seen: Option<Arc<Config>> = None;
        let mut orphans = true;
        loop {
            if *stop.borrow() {
                break;
            }
            while in_flight.try_join_next().is_some() {}
            let room = MAX_IN_FLIGHT.saturating_sub(in_flight.len());
            let config = this.config.load();
            if !seen.as_ref().is_some_and(|s| Arc::ptr_eq(s, &config)) {
                seen = Some(config.clone());
                orphans = true;
            }
            let mut jobs = if room == 0 {
                Vec::new()
            } else {
                let counts = lock(&outstanding).clone();
                let mut caps: Vec<(String, usize)> = config
                    .webhooks
                    .values()
                    .map(|w| (w.id.clone(), cap(w, &counts, room)))
                    .collect();
                let n = caps.len();
                if n > 0 {
                    caps.rotate_left(turn % n);
                }
                turn = turn.wrapping_add(1);
                if caps.iter().all(|(_, cap)| *cap == 0) {
                    Vec::new()
                } else {
                    this.pending(this.store.claim_by_webhook(caps, room))
                        .await
                        .unwrap_or_default()
                }
            };
            let left = room.saturating_sub(jobs.len());
            if orphans && left > 0 {
                let listed = config.webhooks.keys().cloned().collect();
                if let Some(found) = this.pending(this.store.claim_orphans(listed, left)).await {
                    orphans = found.len() == left;
                    jobs.extend(found);
                }
            }
            let claimed = !jobs.is_empty();
            for job in jobs {
                let under_way = UnderWay::new(&outstanding, &job.event.webhook);
                let this = this.clone();
                in_flight.spawn(async move { this.deliver(job, under_way).await });
            }
            let now = this.clock.now_ms();
            if now.saturating_sub(last_prune) >= PRUNE_EVERY_MS {
                last_prune = now;
                let retention = this.config.load().retention;
                let before = now.saturating_sub(retention.as_millis() as u64);
                if let Some(n) = this
                    .blocking(move |s| s.prune(before))
                    .await
                    .filter(|n| *n > 0)
                {
                    tracing::info!(pruned = n, "old delivered events pruned");
                }
            }
            if claimed && room > 0 {
                continue;
            }
            // Webhooks with no room left: their due events wait for one of theirs to
            // end (`join_next` below), not for a time.
            let counts = lock(&outstanding).clone();
            let busy: Vec<String> = config
                .webhooks
                .values()
                .filter(|w| cap(w, &counts, 1) == 0)
                .map(|w| w.id.clone())
                .collect();
            let wait = if busy.len() == config.webhooks.len() && !orphans {
                // Nothing but an attempt ending (or a wake-up) can hand out more.
                Duration::from_secs(1)
            } else {
                this.idle_wait(busy).await
            };
            tokio::select! {
                _ = this.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
                Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
            }
        }
        let grace = this.config.load().shutdown_grace;
        let drain = async { while in_flight.join_next().await.is_some() {} };
        if tokio::time::timeout(grace, drain).await.is_err() {
            tracing::warn!(
                ?grace,
                "deliveries still under way after the grace period; they resume after restart"
            );
            in_flight.abort_all();
        }
    }

    /// Runs a store call on the blocking pool, logging failures.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Store) -> Result<T, crate::store::StoreError> + Send + 'static,
    ) -> Option<T> {
        let store = self.store.clone();
        match tokio::task::spawn_blocking(move || f(store.as_ref())).await {
            Ok(Ok(v)) => Some(v),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "store call failed");
                None
            }
            Err(e) => {
                tracing::error!(error = %e, "store call panicked");
                None
            }
        }
    }

    /// Awaits a store answer, logging failures.
    async fn pending<T>(&self, answer: crate::store::Pending<T>) -> Option<T> {
        match answer.await {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::error!(error = %e, "store call failed");
                None
            }
        }
    }

    /// How long to sleep with nothing to do: until the next retry, at most a second (a
    /// wake-up covers new events; the cap covers replays made by the CLI).
    async fn idle_wait(&self, busy: Vec<String>) -> Duration {
        let next = self.blocking(|s| s.next_due_except(busy)).await.flatten();
        let now = self.clock.now_ms();
        let ms = next.map_or(1_000, |at| at.saturating_sub(now).min(1_000));
        Duration::from_millis(ms.max(5))
    }

    async fn deliver(&self, job: Job, under_way: UnderWay) {
        let event = &job.event;
        let mut config = self.config.load();
        let mut permit = None;
        if let Some(webhook) = config.webhooks.get(&event.webhook).filter(|w| !w.dry_run) {
            permit = self.limit_for(webhook).acquire_owned().await.ok();
            // After the wait, the config as it is when the request goes: one config
            // for the whole attempt, however long it takes.
            config = self.config.load();
        }
        let webhook = config.webhooks.get(&event.webhook);
        let started = self.clock.now_ms();
        let timer = Instant::now();
        let (status, error, retry_after_value) = match webhook {
            // Retrying would not help: the event cannot be sent until an operator puts
            // the webhook back. It is kept as a dead letter, listed with this reason,
            // and replayable (`sitehook-relay replay`) once the webhook is back.
            None => (
                None,
                Some(format!(
                    "webhook {:?} is not in the relay's config (removed by a reload or a restart?): \
                     add it back, reload, then replay this event",
                    event.webhook
                )),
                None,
            ),
            Some(webhook) if webhook.dry_run => (None, None, None),
            Some(webhook) => {
                let client = self.client_for(&config);
                self.send(&client, webhook, event, started).await
            }
        };
        // Free for the webhook's next request while this one's result is recorded
        // (recording waits for a disk flush: counted against the webhook, attempts
        // recording would leave it fewer ready to send).
        drop(permit);
        drop(under_way);
        let duration = timer.elapsed();
        let now = self.clock.now_ms();
        let next = match webhook {
            Some(webhook) if webhook.dry_run => Next::DryRun,
            Some(webhook) => {
                let asked = retry_after_value
                    .as_deref()
                    .and_then(|v| retry_after(v, now));
                classify(
                    webhook,
                    job.attempts,
                    status,
                    asked,
                    now,
                    0.9 + fastrand::f64() * 0.2,
                )
            }
            None => Next::DeadLetter,
        };
        self.metrics.observe(duration.as_secs_f64());
        match next {
            Next::Delivered => {
                self.metrics
                    .delivered
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::info!(event = %event.id, webhook = %event.webhook, trigger = %event.trigger, ?status, "delivered");
            }
            Next::RetryAt(at) => {
                self.metrics
                    .retries
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::warn!(event = %event.id, webhook = %event.webhook, ?status, error = ?error, retry_in_ms = at.saturating_sub(now), "delivery failed; will retry");
            }
            Next::DeadLetter => {
                self.metrics
                    .dead_letters
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::error!(event = %event.id, webhook = %event.webhook, ?status, error = ?error, "delivery failed for good: kept as a dead letter");
            }
            Next::DryRun => {
                self.metrics
                    .dry_runs
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::info!(event = %event.id, webhook = %event.webhook, trigger = %event.trigger, "dry run: the webhook was not called");
            }
            Next::WebhookGone => {
                self.metrics
                    .gone
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::error!(webhook = %event.webhook, "the webhook answered 410 Gone: deliveries to it are paused until `sitehook-relay enable`");
            }
        }
        let attempt = Attempt {
            at: started,
            duration_ms: duration.as_millis() as u64,
            status,
            error,
            next,
        };
        let id = event.id.clone();
        // Until it is recorded the event stays claimed, so that nothing else attempts
        // it: a store that fails for a while (a full disk) is asked again, less and
        // less often, rather than leave the event waiting for the next start. (Cut
        // off by a shutdown, it is attempted again after the restart, which receivers
        // de-duplicate by `webhook-id`.)
        let mut pause = Duration::from_millis(100);
        while self
            .pending(self.store.record(&id, &attempt))
            .await
            .is_none()
        {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(10));
        }
    }

    /// Sends one request: the status (if any answer), an error text, and Retry-After.
    async fn send(
        &self,
        client: &reqwest::Client,
        webhook: &Webhook,
        event: &Event,
        now_ms: u64,
    ) -> (Option<u16>, Option<String>, Option<String>) {
        let out = build(webhook, event, now_ms);
        match request(client, out, webhook.timeout).send().await {
            Ok(response) => {
                let status = response.status();
                let retry = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let error =
                    (!status.is_success()).then(|| format!("the webhook answered {status}"));
                (Some(status.as_u16()), error, retry)
            }
            // Without the URL: it is in the config already, and may carry a token.
            Err(e) => (None, Some(describe(&e.without_url())), None),
        }
    }
}

/// The HTTP client deliveries use (and `sitehook-relay test`, so a test sends exactly
/// what a delivery would).
pub fn client(config: &Config) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        // A redirect would send the secret headers to a URL nobody configured; a 3xx
        // is a failed attempt.
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        // Resolved addresses are checked where they are connected to.
        .dns_resolver(Arc::new(crate::egress::GuardedResolver::new(
            config.allow_targets.clone(),
        )))
        .build()?)
}

/// The request for `out`, ready to send.
pub fn request(
    client: &reqwest::Client,
    out: Outbound,
    timeout: Duration,
) -> reqwest::RequestBuilder {
    let mut request = match out.method {
        Method::Post => client.post(out.url),
        Method::Get => client.get(out.url),
    };
    for (name, value, _) in out.headers {
        request = request.header(name, value);
    }
    if let Some(body) = out.body {
        request = request.body(body);
    }
    request.timeout(timeout)
}

/// The request as text, as `sitehook-relay test` prints it: secret header values
/// masked.
pub fn show(out: &Outbound) -> String {
    let method = match out.method {
        Method::Post => "POST",
        Method::Get => "GET",
    };
    let mut text = format!("{method} {}\n", out.url);
    for (name, value, secret) in &out.headers {
        let shown = if *secret {
            format!("*** ({} bytes, masked)", value.len())
        } else {
            value.to_str().unwrap_or("(not text)").to_owned()
        };
        text.push_str(&format!("{name}: {shown}\n"));
    }
    if let Some(body) = &out.body {
        text.push('\n');
        text.push_str(body);
        text.push('\n');
    }
    text
}

/// An error with its causes, e.g. "error sending request: connection refused".
pub fn describe(e: &dyn std::error::Error) -> String {
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
    use crate::config::{Config, SigningKey};

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
    fn signatures_match_the_standard_webhooks_test_vector() {
        use base64::Engine as _;
        let key = base64::engine::general_purpose::STANDARD
            .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .unwrap();
        let got = sign(
            &[SigningKey(key.clone())],
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(got, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        let two = sign(
            &[SigningKey(key), SigningKey(vec![7; 32])],
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert!(
            two.starts_with("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1,"),
            "{two}"
        );
    }

    #[test]
    fn answers_are_classified() {
        let w = webhook("POST");
        let now = 1_000_000;
        let s = |n: u64| Duration::from_secs(n).as_millis() as u64;
        let cases = [
            (0, Some(200), None, Next::Delivered),
            (0, Some(204), None, Next::Delivered),
            (0, Some(410), None, Next::WebhookGone),
            (0, Some(500), None, Next::RetryAt(now + s(5))),
            (0, Some(302), None, Next::RetryAt(now + s(5))),
            (0, None, None, Next::RetryAt(now + s(5))),
            (1, Some(500), None, Next::RetryAt(now + s(300))),
            (
                0,
                Some(429),
                Some(Duration::from_secs(120)),
                Next::RetryAt(now + s(120)),
            ),
            (
                0,
                Some(503),
                Some(Duration::from_secs(90 * 3600)),
                Next::RetryAt(now + s(24 * 3600)),
            ),
            (
                0,
                Some(500),
                Some(Duration::from_secs(120)),
                Next::RetryAt(now + s(5)),
            ),
            (6, Some(500), None, Next::RetryAt(now + s(36_000))),
            (7, Some(500), None, Next::DeadLetter),
            (7, Some(429), Some(Duration::from_secs(1)), Next::DeadLetter),
        ];
        for (attempts, status, retry, want) in cases {
            assert_eq!(
                classify(&w, attempts, status, retry, now, 1.0),
                want,
                "attempts={attempts} status={status:?} retry={retry:?}"
            );
        }
        assert_eq!(retry_after("120", 0), Some(Duration::from_secs(120)));
        assert_eq!(
            retry_after("Thu, 01 Jan 1970 00:01:40 GMT", 40_000),
            Some(Duration::from_secs(60))
        );
        assert_eq!(retry_after("soon", 0), None);
    }

    #[test]
    fn a_signed_request_carries_the_signature_of_its_body() {
        let mut w = webhook("POST");
        w.signing_keys = vec![SigningKey(vec![1; 32])];
        let out = build(&w, &event(), 1_700_000_000_000);
        let sig = out
            .headers
            .iter()
            .find(|(n, _, _)| n == "webhook-signature")
            .map(|(_, v, _)| v.to_str().unwrap().to_owned());
        assert_eq!(
            sig,
            Some(sign(
                &w.signing_keys,
                "ev-1",
                1_700_000_000,
                out.body.as_deref().unwrap().as_bytes()
            ))
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
