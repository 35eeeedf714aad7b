//! `sitehook-relay test`: one real delivery of a sample event to a webhook, shown in
//! full (the request with secrets masked, the response, the time it took), so a site
//! owner can see a webhook work before any visitor fires it.

use std::time::Instant;

use anyhow::Context as _;
use sitehook_core::{Event, Fields, Page};

use crate::clock::{Clock, SystemClock};
use crate::config::{Config, Webhook};
use crate::delivery;

/// What to send.
#[derive(Debug, Clone, Default)]
pub struct Trial {
    /// The profile to send; a sample built from the webhook's `fields` when `None`.
    pub profile: Option<Fields>,
    /// Trigger data to send along.
    pub data: Fields,
    /// Print the request without sending it.
    pub dry_run: bool,
}

/// The most response body shown.
const SHOWN_BODY: usize = 4096;

/// A sample profile: `profileid` and `email`, and a placeholder for every other field
/// the webhook forwards.
pub fn sample_profile(webhook: &Webhook) -> Fields {
    let mut profile: Fields = [
        ("profileid", "test-profile-1"),
        ("email", "test@example.com"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for field in &webhook.fields {
        if profile.get(field).is_none() {
            profile.insert(field.clone(), format!("sample-{field}"));
        }
    }
    profile
}

/// Reads `--profile`/`--data`: a JSON object of text, numbers or booleans, inline or
/// as `@file`.
pub fn parse_fields(arg: &str, what: &str) -> anyhow::Result<Fields> {
    let text = match arg.strip_prefix('@') {
        Some(path) => {
            std::fs::read_to_string(path).with_context(|| format!("{what}: cannot read {path}"))?
        }
        None => arg.to_owned(),
    };
    let value: serde_json::Value = serde_json::from_str(&text).with_context(|| {
        format!("{what}: not JSON (expected an object such as {{\"email\":\"ann@example.com\"}})")
    })?;
    let serde_json::Value::Object(map) = value else {
        anyhow::bail!("{what}: expected a JSON object such as {{\"email\":\"ann@example.com\"}}");
    };
    map.into_iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                other => anyhow::bail!("{what}.{k}: {other} is not text, a number or true/false"),
            };
            Ok((k, text))
        })
        .collect()
}

/// Sends (or, dry, shows) one sample event to `webhook_id`, printing everything.
/// Returns whether the webhook answered 2xx (a dry run counts as success).
pub async fn run(config: &Config, webhook_id: &str, trial: &Trial) -> anyhow::Result<bool> {
    let webhook = config.webhooks.get(webhook_id).with_context(|| {
        let ids: Vec<&str> = config.webhooks.keys().map(String::as_str).collect();
        format!(
            "no webhook {webhook_id:?} in the config (it has: {})",
            ids.join(", ")
        )
    })?;
    let now = SystemClock.now_ms();
    let event = Event {
        id: format!("test-{now}"),
        trigger: "sitehook-test".into(),
        webhook: webhook_id.to_owned(),
        profile: trial
            .profile
            .clone()
            .unwrap_or_else(|| sample_profile(webhook)),
        identity: None,
        data: trial.data.clone(),
        page: Page {
            url: "https://example.com/sitehook-test".into(),
            ..Page::default()
        },
        at: now,
    };
    let out = delivery::build(webhook, &event, now);
    println!("── webhook {webhook_id}: the request (secret values masked) ──");
    print!("{}", delivery::show(&out));
    if trial.dry_run {
        println!("\n── dry run: nothing was sent ──");
        return Ok(true);
    }
    let client = delivery::client(config)?;
    let started = Instant::now();
    let result = delivery::request(&client, out, webhook.timeout)
        .send()
        .await;
    let took = started.elapsed();
    println!("\n── the response ──");
    let response = match result {
        Ok(r) => r,
        Err(e) => {
            let why = if e.is_timeout() {
                format!(
                    "no answer within the webhook's timeout ({:?})",
                    webhook.timeout
                )
            } else {
                delivery::describe(&e.without_url())
            };
            println!("(none after {} ms)\n\nFAILED: {why}", took.as_millis());
            return Ok(false);
        }
    };
    let status = response.status();
    println!("HTTP {status} in {} ms", took.as_millis());
    for (name, value) in response.headers() {
        println!("{name}: {}", value.to_str().unwrap_or("(not text)"));
    }
    let body = response.bytes().await.unwrap_or_default();
    if !body.is_empty() {
        let shown = String::from_utf8_lossy(&body[..body.len().min(SHOWN_BODY)]);
        println!("\n{shown}");
        if body.len() > SHOWN_BODY {
            println!("… ({} bytes in all)", body.len());
        }
    }
    if status.is_success() {
        println!("\nOK: {webhook_id} answered {status}");
        Ok(true)
    } else {
        let hint = match status.as_u16() {
            300..=399 => " (redirects are not followed: configure the final URL)",
            401 | 403 => " (check the credentials in `headers`)",
            404 | 405 => " (check the URL and `method`)",
            410 => " (a relay pauses a webhook that answers 410 Gone)",
            _ => "",
        };
        println!("\nFAILED: {webhook_id} answered {status}{hint}");
        Ok(false)
    }
}
