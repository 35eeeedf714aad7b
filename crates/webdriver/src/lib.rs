//! A minimal W3C WebDriver client for chromedriver and headless Chromium: just what
//! sitehook's browser tests and benchmarks use (navigate, run a script, click),
//! without a browser download.
//!
//! # Layout
//!
//! One module: [`Browser`] (a session with its own chromedriver process) and [`poll`].

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use std::future::Future;
use std::time::Instant;

/// Calls `f` every 50 ms until it returns `Some`, for at most `within`.
pub async fn poll<T, F, Fut>(within: Duration, mut f: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = f().await {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Installs rustls' ring provider (reqwest is built without a default one).
fn crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A headless Chromium session driven through its own chromedriver; both are ended
/// on drop.
pub struct Browser {
    http: reqwest::Client,
    base: String,
    driver: Child,
    _profile: tempfile::TempDir,
}

/// Where Chromium and chromedriver are: set by `cargo xtask test`, or Debian's paths.
fn binaries() -> (PathBuf, PathBuf) {
    let chrome = std::env::var_os("SITEHOOK_CHROME")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    let driver = std::env::var_os("SITEHOOK_CHROMEDRIVER")
        .map_or_else(|| PathBuf::from("/usr/bin/chromedriver"), PathBuf::from);
    assert!(
        chrome.is_file() && driver.is_file(),
        "the browser tests need Chromium and chromedriver ({} and {}); `cargo xtask test` installs them, \
         or set SITEHOOK_CHROME and SITEHOOK_CHROMEDRIVER",
        chrome.display(),
        driver.display()
    );
    (chrome, driver)
}

impl Browser {
    /// Starts chromedriver on a free port and a headless Chromium session.
    pub async fn start() -> Browser {
        crypto();
        let (chrome, driver) = binaries();
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").expect("a free port");
            l.local_addr().unwrap().port()
        };
        let driver = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let ready = poll(Duration::from_secs(20), || async {
            let r = http.get(format!("{base}/status")).send().await.ok()?;
            let v: Value = r.json().await.ok()?;
            v["value"]["ready"].as_bool().filter(|r| *r)
        })
        .await;
        assert!(
            ready.is_some(),
            "chromedriver did not become ready on port {port}"
        );

        let profile = tempfile::tempdir().expect("a temp dir");
        let mut browser = Browser {
            http,
            base,
            driver,
            _profile: profile,
        };
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--no-first-run",
            "--window-size=1280,1000",
            &format!("--user-data-dir={}", browser._profile.path().display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chrome, "args": args }
        }}});
        let session = browser.call("POST", "/session", caps).await;
        let id = session["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session id in {session}"))
            .to_owned();
        browser.base = format!("{}/session/{id}", browser.base);
        browser
    }

    async fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.base);
        let req = match method {
            "POST" => self.http.post(&url).json(&body),
            "DELETE" => self.http.delete(&url),
            _ => self.http.get(&url),
        };
        let resp = req
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = resp.status();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        assert!(
            status.is_success(),
            "WebDriver {method} {path} answered {status}: {v}"
        );
        v["value"].clone()
    }

    /// Loads `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) {
        self.call("POST", "/url", json!({ "url": url })).await;
    }

    /// Runs `script` (a function body; `arguments` are `args`) and returns its result.
    pub async fn eval(&self, script: &str, args: Value) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            json!({ "script": script, "args": args }),
        )
        .await
    }

    /// Clicks the element matching a CSS selector, as a user would.
    pub async fn click(&self, css: &str) {
        let found = self
            .call(
                "POST",
                "/element",
                json!({ "using": "css selector", "value": css }),
            )
            .await;
        let id = found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_owned();
        self.call("POST", &format!("/element/{id}/click"), json!({}))
            .await;
    }

    /// A PNG of the viewport, as the user would see it.
    pub async fn screenshot(&self) -> Vec<u8> {
        use base64::Engine as _;
        let png = self.call("GET", "/screenshot", Value::Null).await;
        base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap_or_default())
            .expect("WebDriver sends the screenshot as base64")
    }

    /// Waits for the snippet's trace of this page (`window.sitehook.last`).
    pub async fn trace(&self) -> Value {
        let got = poll(Duration::from_secs(15), || async {
            let v = self
                .eval(
                    "return window.sitehook && window.sitehook.last || null;",
                    json!([]),
                )
                .await;
            (!v.is_null()).then_some(v)
        })
        .await;
        match got {
            Some(v) => v,
            None => {
                let url = self.eval("return location.href", json!([])).await;
                panic!("the snippet published no trace on {url} within 15s")
            }
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ending the session closes Chromium; killing the driver is the fallback.
        let url = self.base.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                crypto();
                let _ = rt.block_on(async {
                    reqwest::Client::new()
                        .delete(url)
                        .timeout(Duration::from_secs(10))
                        .send()
                        .await
                });
            }
        })
        .join();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
