//! The demo: a small shop that includes the snippet, the relay config it fires, and a
//! local webhook receiver that records and shows what arrives, so the whole loop runs
//! on one machine with no outside service.
//!
//! Only mounted by `sitehook-relay demo` (`Config::demo`).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{any, get, post};
use serde::Serialize;

use crate::clock::{Clock, SystemClock};
use crate::config::{Config, ConfigError};
use crate::http::AppState;

/// The demo's relay config; `{addr}` is replaced by the listening address.
pub const RELAY_TOML: &str = include_str!("../../web/demo/relay.toml");
/// The environment variable holding the demo webhooks' secret header value.
pub const API_KEY_ENV: &str = "SITEHOOK_DEMO_API_KEY";
/// The secret used when that variable is not set. It is a demo: it protects nothing.
pub const DEFAULT_API_KEY: &str = "demo-secret-from-env";

const LAYOUT: &str = include_str!("../../web/demo/layout.html");
const CONFIG_JS: &str = include_str!("../../web/demo/config.js");
const DEMO_JS: &str = include_str!("../../web/demo/demo.js");
const DEMO_CSS: &str = include_str!("../../web/demo/demo.css");
const PAGES: &[(&str, &str, &str)] = &[
    ("/", "Home", include_str!("../../web/demo/pages/home.html")),
    (
        "/products/red-shoes",
        "Red shoes",
        include_str!("../../web/demo/pages/product.html"),
    ),
    (
        "/pricing",
        "Pricing",
        include_str!("../../web/demo/pages/pricing.html"),
    ),
];

/// How many received requests the receiver keeps (the oldest go first).
const KEEP: usize = 500;

/// The demo config for a relay listening on `addr`, storing in `data_dir`, whose
/// webhooks send `api_key` as their secret header.
pub fn config(addr: SocketAddr, data_dir: &Path, api_key: &str) -> Result<Config, ConfigError> {
    let text = RELAY_TOML.replace("{addr}", &addr.to_string());
    let mut config = Config::from_toml(&text, &|name| {
        (name == API_KEY_ENV).then(|| api_key.to_owned())
    })?;
    config.listen = addr;
    config.data_dir = data_dir.to_owned();
    config.demo = true;
    Ok(config)
}

/// One request the receiver got.
#[derive(Debug, Clone, Serialize)]
pub struct Received {
    /// When, in ms since the epoch.
    pub at: u64,
    /// The HTTP method.
    pub method: String,
    /// Path and query.
    pub uri: String,
    /// The headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body as text.
    pub body: String,
}

/// The demo's webhook receiver: records every request to `/demo/receiver/hook/...`.
#[derive(Debug, Clone, Default)]
pub struct Receiver(Arc<Mutex<VecDeque<Received>>>);

impl Receiver {
    /// What it got, oldest first.
    pub fn requests(&self) -> Vec<Received> {
        self.0
            .lock()
            .map(|q| q.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn push(&self, r: Received) {
        if let Ok(mut q) = self.0.lock() {
            if q.len() >= KEEP {
                q.pop_front();
            }
            q.push_back(r);
        }
    }

    fn clear(&self) {
        if let Ok(mut q) = self.0.lock() {
            q.clear();
        }
    }
}

/// The demo routes: the shop, its scripts, and the receiver.
pub fn router() -> Router<AppState> {
    let mut router = Router::new();
    for (path, title, body) in PAGES {
        let html = LAYOUT.replace("{title}", title).replace("{body}", body);
        router = router.route(path, get(move || async move { Html(html) }));
    }
    router
        .route("/demo/config.js", get(|| async { script(CONFIG_JS) }))
        .route("/demo/demo.js", get(|| async { script(DEMO_JS) }))
        .route(
            "/demo/demo.css",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
                    DEMO_CSS,
                )
            }),
        )
        .route("/demo/receiver", get(receiver_page))
        .route("/demo/receiver/requests", get(requests))
        .route("/demo/receiver/clear", post(clear))
        .route("/demo/receiver/hook/{*rest}", any(record))
}

fn script(text: &'static str) -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        text,
    )
        .into_response()
}

async fn record(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let headers = headers
        .iter()
        .map(|(n, v)| {
            (
                n.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    state.receiver.push(Received {
        at: SystemClock.now_ms(),
        method: method.to_string(),
        uri: uri.to_string(),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    StatusCode::OK
}

async fn requests(State(state): State<AppState>) -> axum::Json<Vec<Received>> {
    axum::Json(state.receiver.requests())
}

async fn clear(State(state): State<AppState>) -> Redirect {
    state.receiver.clear();
    Redirect::to("/demo/receiver")
}

async fn receiver_page(State(state): State<AppState>) -> Html<String> {
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"3\">\
         <title>Webhook receiver · sitehook demo</title><link rel=\"stylesheet\" href=\"/demo/demo.css\"></head><body>\
         <header><span class=\"brand\">Webhook receiver</span><nav><a href=\"/\">Back to the shop</a></nav>\
         <form method=\"post\" action=\"/demo/receiver/clear\" class=\"who\"><button type=\"submit\">Clear</button></form></header><main>",
    );
    let received = state.receiver.requests();
    html.push_str(&format!(
        "<div class=\"card\"><h1>Received webhooks ({})</h1><p class=\"hint\">What the relay sent to this local \
         receiver, newest first. This page refreshes every 3 seconds.</p></div>",
        received.len()
    ));
    for r in received.iter().rev() {
        html.push_str("<div class=\"card\"><strong>");
        html.push_str(&escape(&format!("{} {}", r.method, r.uri)));
        html.push_str("</strong><table>");
        for (name, value) in &r.headers {
            html.push_str(&format!(
                "<tr><th>{}</th><td>{}</td></tr>",
                escape(name),
                escape(value)
            ));
        }
        html.push_str("</table>");
        if !r.body.is_empty() {
            html.push_str(&format!("<pre>{}</pre>", escape(&r.body)));
        }
        html.push_str("</div>");
    }
    let store = state.store.clone();
    let recent = tokio::task::spawn_blocking(move || {
        store.list(&crate::store::Filter {
            limit: 20,
            ..Default::default()
        })
    })
    .await
    .ok()
    .and_then(Result::ok)
    .unwrap_or_default();
    html.push_str(
        "<div class=\"card\"><h2>The relay's outbox</h2><p class=\"hint\">Every event the relay accepted, and what \
         became of it. <em>suppressed</em>: the webhook's <code>restart_after</code> Stop held it back.</p>\
         <table><tr><th>Event</th><th>Trigger</th><th>Webhook</th><th>Profile</th><th>Status</th><th>Attempts</th><th>Last error</th></tr>",
    );
    for r in recent {
        html.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td class=\"status-{}\">{}</td><td>{}</td><td>{}</td></tr>",
            escape(&r.id),
            escape(&r.trigger),
            escape(&r.webhook),
            escape(&r.profileid),
            r.status.as_str(),
            r.status.as_str(),
            r.attempts,
            escape(r.last_error.as_deref().unwrap_or("")),
        ));
    }
    html.push_str("</table></div></main></body></html>");
    Html(html)
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_config_is_valid_and_keeps_secrets_out_of_it() {
        let addr: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let c = config(addr, Path::new("/tmp/demo"), "k").unwrap();
        assert!(c.demo);
        assert_eq!(
            c.webhooks["crm-lead"].url.as_str(),
            "http://127.0.0.1:8080/demo/receiver/hook/crm-lead"
        );
        assert_eq!(c.webhooks["crm-lead"].headers[0].1.expose(), "k");
        assert!(!RELAY_TOML.contains(DEFAULT_API_KEY));
    }

    #[test]
    fn escape_covers_markup() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
