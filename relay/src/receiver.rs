//! A local webhook receiver for trying things: it records every request sent to
//! `<base>/hook/...`, answers with a status of your choice, and shows what it got on a
//! page and as JSON.
//!
//! Served on its own by `sitehook-relay receiver`, and inside the demo at
//! `/demo/receiver`. The tests use it as a receiver whose answer they can change.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{any, get, post};
use serde::Serialize;

use crate::clock::{Clock, SystemClock};

/// How many received requests the receiver keeps (the oldest go first).
const KEEP: usize = 500;

/// The page's style, shared with the inspector.
pub const CSS: &str = include_str!("../../web/admin/admin.css");

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
    /// The status it was answered with.
    pub answered: u16,
}

/// The receiver's memory and the status it answers with; clones share both.
#[derive(Debug, Clone)]
pub struct Receiver {
    got: Arc<Mutex<VecDeque<Received>>>,
    answer: Arc<AtomicU16>,
}

impl Default for Receiver {
    fn default() -> Self {
        Receiver::new(StatusCode::OK)
    }
}

impl Receiver {
    /// A receiver that answers every webhook with `answer`.
    pub fn new(answer: StatusCode) -> Self {
        Receiver {
            got: Arc::default(),
            answer: Arc::new(AtomicU16::new(answer.as_u16())),
        }
    }

    /// Answers later webhooks with `answer` (e.g. to let failed deliveries through).
    pub fn set_answer(&self, answer: StatusCode) {
        self.answer.store(answer.as_u16(), Ordering::Relaxed);
    }

    /// What it got, oldest first.
    pub fn requests(&self) -> Vec<Received> {
        self.got
            .lock()
            .map(|q| q.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn push(&self, r: Received) {
        if let Ok(mut q) = self.got.lock() {
            if q.len() >= KEEP {
                q.pop_front();
            }
            q.push_back(r);
        }
    }

    fn clear(&self) {
        if let Ok(mut q) = self.got.lock() {
            q.clear();
        }
    }

    /// The receiver's routes under `base` (`""` for the root): the page at `base`
    /// (or `/`), `base/requests` (JSON), `base/clear` (POST), `base/receiver.css`, and
    /// `base/hook/...`, which records whatever arrives.
    pub fn router<S: Clone + Send + Sync + 'static>(&self, base: &'static str) -> Router<S> {
        let page = if base.is_empty() { "/" } else { base };
        Router::new()
            .route(page, get(page_html))
            .route(&format!("{base}/requests"), get(requests))
            .route(&format!("{base}/clear"), post(clear))
            .route(
                &format!("{base}/receiver.css"),
                get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS) }),
            )
            .route(&format!("{base}/hook"), any(record))
            .route(&format!("{base}/hook/{{*rest}}"), any(record))
            .with_state(Mounted {
                receiver: self.clone(),
                base,
            })
    }
}

#[derive(Clone)]
struct Mounted {
    receiver: Receiver,
    base: &'static str,
}

async fn record(
    State(m): State<Mounted>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let answer =
        StatusCode::from_u16(m.receiver.answer.load(Ordering::Relaxed)).unwrap_or(StatusCode::OK);
    let headers = headers
        .iter()
        .map(|(n, v)| {
            (
                n.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    tracing::info!(%method, %uri, status = answer.as_u16(), "receiver: webhook received");
    m.receiver.push(Received {
        at: SystemClock.now_ms(),
        method: method.to_string(),
        uri: uri.to_string(),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        answered: answer.as_u16(),
    });
    answer
}

async fn requests(State(m): State<Mounted>) -> axum::Json<Vec<Received>> {
    axum::Json(m.receiver.requests())
}

async fn clear(State(m): State<Mounted>) -> Redirect {
    m.receiver.clear();
    Redirect::to(if m.base.is_empty() { "/" } else { m.base })
}

async fn page_html(State(m): State<Mounted>) -> Response {
    let received = m.receiver.requests();
    let base = m.base;
    let answer = m.receiver.answer.load(Ordering::Relaxed);
    let mut html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"3\"><link rel=\"icon\" href=\"data:,\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Webhook receiver · sitehook</title><link rel=\"stylesheet\" href=\"{base}/receiver.css\"></head><body>\
         <header><span class=\"brand\">Webhook receiver</span>\
         <form method=\"post\" action=\"{base}/clear\" class=\"right\"><button type=\"submit\">Clear</button></form></header><main>\
         <section class=\"card\"><h1>Received webhooks ({n})</h1><p class=\"hint\">Point a webhook at \
         <code>{base}/hook/&lt;anything&gt;</code> on this address; every request is recorded here, newest first, \
         and answered <strong>{answer}</strong>. This page refreshes every 3 seconds; \
         <a href=\"{base}/requests\">as JSON</a>.</p></section>",
        n = received.len(),
    );
    for r in received.iter().rev() {
        html.push_str(&format!(
            "<section class=\"card\"><h2><code>{}</code></h2><p class=\"hint\">{} · answered {}</p><table>",
            escape(&format!("{} {}", r.method, r.uri)),
            escape(&httpdate::fmt_http_date(
                std::time::UNIX_EPOCH + std::time::Duration::from_millis(r.at)
            )),
            r.answered
        ));
        for (name, value) in &r.headers {
            html.push_str(&format!(
                "<tr><th>{}</th><td><code>{}</code></td></tr>",
                escape(name),
                escape(value)
            ));
        }
        html.push_str("</table>");
        if !r.body.is_empty() {
            html.push_str(&format!("<pre>{}</pre>", escape(&r.body)));
        }
        html.push_str("</section>");
    }
    html.push_str("</main></body></html>");
    Html(html).into_response()
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
    use tower::ServiceExt as _;

    #[test]
    fn escape_covers_markup() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[tokio::test]
    async fn records_what_arrives_and_answers_the_chosen_status() {
        let receiver = Receiver::new(StatusCode::SERVICE_UNAVAILABLE);
        let app: Router = receiver.router("");
        let send = |uri: &str| {
            axum::http::Request::post(uri)
                .header("x-api-key", "k")
                .body(axum::body::Body::from("{\"a\":\"<b>\"}"))
                .unwrap()
        };
        let resp = app.clone().oneshot(send("/hook/crm")).await.unwrap();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        receiver.set_answer(StatusCode::OK);
        let resp = app.clone().oneshot(send("/hook?x=1")).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);

        let got = receiver.requests();
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].uri.as_str(), got[0].answered), ("/hook/crm", 503));
        assert_eq!((got[1].uri.as_str(), got[1].answered), ("/hook?x=1", 200));
        assert!(got[0].headers.contains(&("x-api-key".into(), "k".into())));

        let page = app
            .oneshot(
                axum::http::Request::get("/")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let body = axum::body::to_bytes(page.into_body(), 1 << 20)
            .await
            .unwrap();
        let body = String::from_utf8_lossy(&body);
        assert!(body.contains("Received webhooks (2)"), "{body}");
        // Bodies are shown escaped, never as markup.
        assert!(
            body.contains("&lt;b&gt;") && !body.contains("<b>"),
            "{body}"
        );
    }
}
