//! `POST /v1/events`: the browser's matched events.
//!
//! Each event is checked on its own, so one bad event does not cost the good ones in
//! its batch. The answer comes only after the accepted events are committed to the
//! store: a `202` is a promise to deliver.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::Extension;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use sitehook_core::event::PROFILE_ID;
use sitehook_core::{Event, IngestResponse, Rejected};

use super::{AppState, Snapshot};
use crate::config::Config;
use crate::error::Error;
use crate::limit::Rate;
use crate::metrics::Rejection;
use crate::store::{Incoming, Outcome};

/// The largest body accepted. Far above what a page sends (a handful of events).
pub const MAX_BODY: usize = 64 * 1024;
/// The most events in one request.
pub const MAX_EVENTS: usize = 100;

/// The events routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/events", post(ingest))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

/// The batch with its events still raw, so each can fail on its own. Each event is
/// a slice of the body (`RawValue` borrows it), parsed once, straight into an
/// [`Event`]: no tree of `serde_json::Value`s in between, which cost as much as the
/// parse itself.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "an object {\"events\": [...]}")]
struct RawBatch<'a> {
    #[serde(borrow)]
    events: Vec<&'a serde_json::value::RawValue>,
}

async fn ingest(
    State(state): State<AppState>,
    Snapshot(config): Snapshot,
    uri: Uri,
    headers: HeaderMap,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Error> {
    // One config for the whole request: a reload in the middle must not make a
    // webhook that was checked disappear before its event is stored.
    let peer = super::client_ip(
        &config,
        &headers,
        peer.map(|Extension(ConnectInfo(addr))| addr.ip()),
    );
    let result = ingest_checked(&state, &config, &headers, &uri, peer, body).await;
    if let Err(e) = &result {
        let why = match e {
            Error::Forbidden(_) => Rejection::Origin,
            Error::TooLarge(_) => Rejection::TooLarge,
            Error::TooMany(..) | Error::Busy => Rejection::RateLimited,
            _ => Rejection::BadRequest,
        };
        state.metrics.reject(why, 1);
    }
    result
}

async fn ingest_checked(
    state: &AppState,
    config: &Config,
    headers: &HeaderMap,
    uri: &Uri,
    peer: Option<IpAddr>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Error> {
    check_origin(config, headers, uri.authority().map(|a| a.as_str()))?;
    check_content_type(headers)?;
    let now = Instant::now();
    // The client's address: behind a reverse proxy listed in `trusted_proxies`, the
    // one it forwards; otherwise the connection's.
    let l = config.limits;
    if let Some(ip) = peer {
        let rate = Rate::new(l.per_ip_per_minute, l.per_ip_burst);
        state.ip_limiter.take(rate, &ip, 1, now).map_err(|after| {
            Error::TooMany(format!("too many requests from {ip}; retry later"), after)
        })?;
    }
    if state.queue_depth.load(Ordering::Relaxed) >= l.max_queue_depth {
        return Err(Error::Busy);
    }
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => Error::TooLarge(MAX_BODY),
        _ => Error::BadRequest(e.body_text()),
    })?;
    // Any content type is read as JSON: browsers send `text/plain` to skip preflights.
    let batch: RawBatch = serde_json::from_slice(&body)
        .map_err(|e| Error::BadRequest(format!("the body is not an event batch: {e}")))?;
    if batch.events.is_empty() {
        return Err(Error::BadRequest("events: the list is empty".into()));
    }
    if batch.events.len() > MAX_EVENTS {
        return Err(Error::BadRequest(format!(
            "events: more than {MAX_EVENTS} in one request"
        )));
    }

    let mut response = IngestResponse::default();
    let mut good: Vec<Event> = Vec::new();
    let mut limited: Option<std::time::Duration> = None;
    for (index, raw) in batch.events.into_iter().enumerate() {
        let checked = check(config, raw).and_then(|event| {
            let Some(profileid) = event.profile.get(PROFILE_ID).filter(|_| event.is_known()) else {
                return Ok(event);
            };
            let rate = Rate::new(l.per_profile_per_minute, l.per_profile_burst);
            match state.profile_limiter.take(rate, profileid, 1, now) {
                Ok(()) => Ok(event),
                Err(after) => {
                    limited = Some(limited.map_or(after, |l| l.max(after)));
                    Err((
                        Rejection::RateLimited,
                        format!(
                            "rate limit: too many events for profile {profileid:?}; retry in {}s",
                            after.as_secs().max(1)
                        ),
                    ))
                }
            }
        });
        match checked {
            Ok(event) => good.push(event),
            Err((why, reason)) => {
                // Only a rejected event's id is needed on its own: read it again here,
                // off the path of the good ones.
                let id = serde_json::from_str::<serde_json::Value>(raw.get())
                    .ok()
                    .and_then(|v| v.get("id").and_then(|v| v.as_str()).map(str::to_owned));
                state.metrics.reject(why, 1);
                tracing::info!(index, ?id, %reason, "event rejected");
                response.rejected.push(Rejected { index, id, reason });
            }
        }
    }

    if !good.is_empty() {
        let store = state.store.clone();
        let ids: Vec<String> = good.iter().map(|e| e.id.clone()).collect();
        let incoming: Vec<Incoming> = good
            .into_iter()
            .map(|event| {
                // `check` made sure the webhook exists in this same snapshot.
                let restart_after = config.webhooks[&event.webhook].restart_after;
                Incoming {
                    event,
                    restart_after,
                }
            })
            .collect();
        // Awaited, not blocked on: the store's writer thread answers when the group
        // this request joined is committed.
        let outcomes = store.accept(incoming).await?;
        for (id, outcome) in ids.into_iter().zip(outcomes) {
            let counter = match outcome {
                Outcome::Queued => {
                    tracing::info!(event = %id, "event accepted");
                    &state.metrics.accepted
                }
                Outcome::Duplicate => {
                    tracing::info!(event = %id, "duplicate event acknowledged");
                    &state.metrics.duplicates
                }
                Outcome::Suppressed => {
                    tracing::info!(event = %id, "event suppressed by the webhook's restart_after");
                    &state.metrics.suppressed
                }
            };
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            response.accepted.push(id);
        }
        state.wake.notify_one();
    }

    if let (true, Some(after)) = (response.accepted.is_empty(), limited) {
        let why = response
            .rejected
            .iter()
            .map(|r| r.reason.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        return Err(Error::TooMany(why, after));
    }
    let status = if response.accepted.is_empty() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::ACCEPTED
    };
    if response.accepted.is_empty() {
        let mut body = serde_json::to_value(&response).expect("a response serialises");
        body["error"] = "no event was accepted: see `rejected`".into();
        return Ok((status, Json(body)).into_response());
    }
    // Written straight to bytes: the common answer needs no `Value` tree.
    Ok((status, Json(response)).into_response())
}

/// The body is JSON; browsers send it as `text/plain` (no CORS preflight), other
/// clients as `application/json`. A form or a file upload is a mistake worth naming.
fn check_content_type(headers: &HeaderMap) -> Result<(), Error> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let essence = value
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if matches!(essence.as_str(), "" | "text/plain" | "application/json") {
        return Ok(());
    }
    Err(Error::BadRequest(format!(
        "content-type {essence:?} is not accepted: send the JSON batch as text/plain or application/json"
    )))
}

/// Browsers name the page's origin on every POST; events are taken only from the
/// relay's own origin and from `allowed_origins`. Requests without an `Origin` (curl, a
/// server) are not from a browser page and pass: CORS protects visitors, not the
/// relay, and a forged `Origin` is possible outside a browser anyway.
fn check_origin(
    config: &Config,
    headers: &HeaderMap,
    authority: Option<&str>,
) -> Result<(), Error> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    if config.allowed_origins.iter().any(|o| o == origin) {
        return Ok(());
    }
    let text = origin.to_str().unwrap_or("");
    let host = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"));
    // HTTP/1.1 names the host in `Host`; HTTP/2 in the request's authority.
    let own = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or(authority);
    let same = host.is_some() && host == own;
    if same {
        return Ok(());
    }
    Err(Error::Forbidden(format!(
        "origin {text:?} may not send events: add it to allowed_origins in the relay's config"
    )))
}

/// Parses and checks one event; the error is the reason shown to the client.
fn check(config: &Config, raw: &serde_json::value::RawValue) -> Result<Event, (Rejection, String)> {
    let invalid = |e: String| (Rejection::InvalidEvent, e);
    let event: Event = serde_json::from_str(raw.get()).map_err(|_| {
        // The reason as `from_value` words it, without the position in the event's
        // text ("at line 1 column 57") that means nothing to the client. Off the hot
        // path: only for events that failed.
        let reason = serde_json::from_str::<serde_json::Value>(raw.get())
            .and_then(serde_json::from_value::<Event>)
            .err()
            .map_or_else(|| "the event is not valid".to_owned(), |e| e.to_string());
        invalid(reason)
    })?;
    event.validate().map_err(invalid)?;
    if !config.webhooks.contains_key(&event.webhook) {
        return Err((
            Rejection::UnknownWebhook,
            format!(
                "webhook: {:?} is not configured on this relay",
                event.webhook
            ),
        ));
    }
    // `check` above made sure the webhook exists.
    let webhook = &config.webhooks[&event.webhook];
    if webhook
        .triggers
        .as_ref()
        .is_some_and(|t| !t.contains(&event.trigger))
    {
        return Err((
            Rejection::UnknownWebhook,
            format!(
                "trigger: {:?} may not use webhook {:?} (see its `triggers` in the relay's config)",
                event.trigger, event.webhook
            ),
        ));
    }
    if let (Some(key), true) = (&config.identity_secret, event.is_known()) {
        let profileid = event.profile.get(PROFILE_ID).map_or("", String::as_str);
        if !identity_matches(&key.0, profileid, event.identity.as_deref().unwrap_or("")) {
            return Err((
                Rejection::Identity,
                "identity: missing or wrong; this relay requires identity = hex HMAC-SHA256(identity_secret, profileid), \
                 made by the site's backend"
                    .to_owned(),
            ));
        }
    }
    Ok(event)
}

/// Whether `identity` is the hex HMAC-SHA256 of `profileid` under `key`, compared in
/// constant time (so a forger learns nothing from how fast a wrong guess fails).
pub fn identity_matches(key: &[u8], profileid: &str, identity: &str) -> bool {
    use hmac::Mac as _;
    let Some(given) = decode_hex(identity.trim()) else {
        return false;
    };
    // HMAC takes keys of any length.
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(profileid.as_bytes());
    mac.verify_slice(&given).is_ok()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_is_the_hex_hmac_of_the_profile_id() {
        // The same value as `echo -n p-123 | openssl dgst -sha256 -hmac s3cret` and
        // Python's `hmac.new(b"s3cret", b"p-123", hashlib.sha256).hexdigest()`.
        let computed = "ec7f79b79b6bc9058ccf11464defe3d0bc854203ffad81879db6efad00cd7683";
        assert!(identity_matches(b"s3cret", "p-123", computed));
        assert!(
            identity_matches(b"s3cret", "p-123", &computed.to_uppercase()),
            "hex case does not matter"
        );
        assert!(
            !identity_matches(b"s3cret", "p-124", computed),
            "another profile's proof"
        );
        assert!(
            !identity_matches(b"other", "p-123", computed),
            "another secret"
        );
        assert!(
            !identity_matches(b"s3cret", "p-123", &"0".repeat(64)),
            "a made-up value"
        );
        assert!(!identity_matches(b"s3cret", "p-123", ""));
        assert!(!identity_matches(b"s3cret", "p-123", &computed[..63]));
    }
}
