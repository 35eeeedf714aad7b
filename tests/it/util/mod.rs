//! Shared parts of the end-to-end tests: a relay on a free port, a browser, polling.

pub use sitehook_webdriver as webdriver;
pub use sitehook_webdriver::poll;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sitehook_relay::Config;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// A relay running in this process on `127.0.0.1:<free port>`; stopped on drop.
pub struct TestRelay {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    /// Set when the test is done with the relay: the runtime may then cancel its
    /// tasks mid-way, which is not a failure of the relay.
    stopping: Arc<AtomicBool>,
    _data_dir: tempfile::TempDir,
}

impl TestRelay {
    /// Starts the demo relay; `edit` may change its config first.
    pub async fn demo(api_key: &str, edit: impl FnOnce(&mut Config)) -> TestRelay {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        TestRelay::demo_on(listener, api_key, edit).await
    }

    /// Starts the demo relay on `listener`.
    pub async fn demo_on(
        listener: TcpListener,
        api_key: &str,
        edit: impl FnOnce(&mut Config),
    ) -> TestRelay {
        sitehook_relay::install_crypto_provider();
        let data_dir = tempfile::tempdir().expect("a temp dir");
        let addr = listener.local_addr().unwrap();
        let mut config = sitehook_relay::demo::config(addr, data_dir.path(), api_key)
            .expect("the demo config is valid");
        edit(&mut config);
        let (tx, rx) = oneshot::channel::<()>();
        let stopping = Arc::new(AtomicBool::new(false));
        let stopped = stopping.clone();
        tokio::spawn(async move {
            let shutdown = async {
                let _ = rx.await;
            };
            if let Err(e) = sitehook_relay::run(config, listener, shutdown).await
                && !stopped.load(Ordering::SeqCst)
            {
                panic!("the relay failed: {e:#}");
            }
        });
        TestRelay {
            addr,
            http: reqwest::Client::new(),
            stop: Some(tx),
            stopping,
            _data_dir: data_dir,
        }
    }

    /// The demo relay, taking events from `site`'s pages.
    pub async fn demo_for(site: &Site) -> TestRelay {
        TestRelay::demo_for_all(&[site]).await
    }

    /// The demo relay, taking events from the pages of each of `sites`.
    pub async fn demo_for_all(sites: &[&Site]) -> TestRelay {
        TestRelay::demo("k", |c| {
            for site in sites {
                c.allowed_origins
                    .push(site.origin.parse().expect("an origin"));
            }
        })
        .await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// What the demo receiver has recorded so far.
    pub async fn received(&self) -> Vec<serde_json::Value> {
        let resp = self
            .http
            .get(self.url("/demo/receiver/requests"))
            .send()
            .await
            .expect("the relay answers");
        assert_eq!(resp.status(), 200, "GET /demo/receiver/requests");
        resp.json().await.expect("a JSON list")
    }

    /// Waits until the receiver holds `n` requests, failing with what it holds after
    /// `within`; then checks that no more arrive than expected.
    pub async fn wait_received(&self, n: usize) -> Vec<serde_json::Value> {
        let got = poll(Duration::from_secs(15), || async {
            let got = self.received().await;
            (got.len() >= n).then_some(got)
        })
        .await;
        match got {
            Some(got) => {
                assert_eq!(
                    got.len(),
                    n,
                    "the receiver got more webhooks than expected:\n{got:#?}"
                );
                got
            }
            None => panic!(
                "the receiver did not get {n} webhooks within 15s; it has:\n{:#?}",
                self.received().await
            ),
        }
    }
}

impl Drop for TestRelay {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// The header `name` of a recorded request.
pub fn header<'a>(request: &'a serde_json::Value, name: &str) -> Option<&'a str> {
    request["headers"]
        .as_array()?
        .iter()
        .find(|h| h[0].as_str() == Some(name))
        .and_then(|h| h[1].as_str())
}

/// A web site on its own origin, serving one page: bound first, because the relay
/// must be told the origin before the page (which names the relay) exists.
pub struct Site {
    pub origin: String,
    listener: TcpListener,
}

impl Site {
    pub async fn bind() -> Site {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let origin = format!("http://{}", listener.local_addr().unwrap());
        Site { origin, listener }
    }

    /// Serves `files` (path, content type, body) with a `Content-Security-Policy`
    /// header on every answer, until the test ends.
    pub fn serve_files(self, files: Vec<(&'static str, &'static str, String)>, csp: String) {
        let mut app = axum::Router::new();
        for (path, content_type, body) in files {
            let csp = csp.clone();
            app = app.route(
                path,
                axum::routing::get(move || async move {
                    (
                        [
                            (axum::http::header::CONTENT_TYPE, content_type.to_owned()),
                            (axum::http::header::CONTENT_SECURITY_POLICY, csp),
                        ],
                        body,
                    )
                }),
            );
        }
        tokio::spawn(async move { axum::serve(self.listener, app).await });
    }

    /// Serves `html` at `/` until the test ends; returns the page's URL.
    pub fn serve(self, html: String) -> String {
        let app = axum::Router::new().route(
            "/",
            axum::routing::get(move || async move { axum::response::Html(html) }),
        );
        tokio::spawn(async move { axum::serve(self.listener, app).await });
        format!("{}/", self.origin)
    }

    /// Serves `html` at `/` and opens it in a new headless Chromium: the browser, and
    /// the page's URL (to open it again).
    pub async fn open(self, html: String) -> (webdriver::Browser, String) {
        let url = self.serve(html);
        let browser = webdriver::Browser::start().await;
        browser.goto(&url).await;
        (browser, url)
    }
}
