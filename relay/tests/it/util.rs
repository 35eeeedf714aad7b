//! A local webhook receiver whose answers the test controls, and polling.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Got {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: String,
}

impl Got {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// One scripted answer.
#[derive(Debug, Clone, Copy)]
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<&'static str>,
    /// Wait this long before answering.
    pub delay_ms: u64,
}

impl From<u16> for Answer {
    fn from(status: u16) -> Self {
        Answer {
            status,
            retry_after: None,
            delay_ms: 0,
        }
    }
}

#[derive(Default)]
struct Inner {
    got: Vec<Got>,
    /// Answers to give, in order; 200 once they run out.
    answers: VecDeque<Answer>,
}

/// A webhook receiver on loopback that records every request.
#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

impl Receiver {
    /// Starts a receiver on a free port that answers `answers` in turn, then 200.
    pub async fn start(answers: &[u16]) -> Receiver {
        let answers: Vec<Answer> = answers.iter().map(|s| Answer::from(*s)).collect();
        Receiver::start_on(0, &answers).await
    }

    /// Starts a receiver on `port` (0: any free one) with scripted answers.
    pub async fn start_on(port: u16, answers: &[Answer]) -> Receiver {
        let inner = Arc::new(Mutex::new(Inner {
            got: Vec::new(),
            answers: answers.iter().copied().collect(),
        }));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .route("/{*path}", any(record))
            .with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { addr, inner }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn got(&self) -> Vec<Got> {
        self.inner.lock().unwrap().got.clone()
    }

    /// Waits (at most 10 s) until `n` requests have arrived, and returns them.
    pub async fn wait_for(&self, n: usize) -> Vec<Got> {
        self.wait_for_within(n, Duration::from_secs(10)).await
    }

    /// Waits (at most `within`) until `n` requests have arrived, and returns them.
    pub async fn wait_for_within(&self, n: usize, within: Duration) -> Vec<Got> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.got();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "the receiver got {} of {n} requests within {within:?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn record(
    State(inner): State<Arc<Mutex<Inner>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let answer = {
        let mut inner = inner.lock().unwrap();
        inner.got.push(Got {
            method,
            uri,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        inner.answers.pop_front().unwrap_or(Answer::from(200))
    };
    if answer.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(answer.delay_ms)).await;
    }
    let status = StatusCode::from_u16(answer.status).unwrap();
    match answer.retry_after {
        Some(after) => (status, [("retry-after", after)]).into_response(),
        None => status.into_response(),
    }
}

/// A port that was free a moment ago (for a process that must be told its port).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The body of `GET url`, as text.
pub async fn get_text(http: &reqwest::Client, url: &str) -> String {
    http.get(url).send().await.unwrap().text().await.unwrap()
}

/// Waits until the relay at `base` answers `/readyz` with 200, failing after `within`.
pub async fn wait_ready(http: &reqwest::Client, base: &str, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
            && r.status() == 200
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the relay at {base} did not become ready within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
