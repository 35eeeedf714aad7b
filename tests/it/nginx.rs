//! The relay behind real nginx, mounted first-party under the site's own origin at
//! `/sitehook/` (`base_path`): headless Chromium loads a page nginx serves, the snippet
//! and its wasm come through the proxy, the event goes to `/sitehook/v1/events` on the
//! same origin, and the webhook arrives. The per-IP limit sees the client address
//! nginx forwards (`trusted_proxies`), not nginx's.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;
use sitehook_relay::Config;
use sitehook_relay::receiver::Receiver;
use tokio::net::TcpListener;

use crate::util::poll;
use crate::util::webdriver::Browser;

/// nginx as the test's child process; stopped on drop.
struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn nginx_binary() -> PathBuf {
    let path = std::env::var_os("SITEHOOK_NGINX")
        .map_or_else(|| PathBuf::from("/usr/sbin/nginx"), PathBuf::from);
    assert!(
        path.is_file(),
        "the reverse-proxy test needs nginx ({}); `cargo xtask test` installs it, or set SITEHOOK_NGINX",
        path.display()
    );
    path
}

/// The nginx config of docs/deploy.md, made runnable as an unprivileged foreground
/// process in `dir`: the site's files at `/`, the relay at `/sitehook/`.
fn nginx_conf(dir: &std::path::Path, port: u16, relay: std::net::SocketAddr) -> String {
    let d = dir.display();
    format!(
        r#"daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {d}/tmp-body;
  proxy_temp_path {d}/tmp-proxy;
  fastcgi_temp_path {d}/tmp-fastcgi;
  uwsgi_temp_path {d}/tmp-uwsgi;
  scgi_temp_path {d}/tmp-scgi;
  types {{ text/html html; text/javascript js; }}
  server {{
    listen 127.0.0.1:{port};
    root {d}/site;

    # The relay, first-party: same origin as the pages, no CORS.
    location /sitehook/ {{
      proxy_pass http://{relay};
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      client_max_body_size 64k;
    }}
  }}
}}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_behind_nginx_under_a_path_prefix_serves_the_snippet_and_delivers() {
    sitehook_relay::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();

    // The webhook's receiver.
    let receiver = Receiver::default();
    let hook_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook/crm", hook_listener.local_addr().unwrap());
    let app: axum::Router = receiver.router("");
    tokio::spawn(async move { axum::serve(hook_listener, app).await });

    // The relay, under /sitehook, believing nginx's X-Forwarded-For.
    let relay_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let relay_addr = relay_listener.local_addr().unwrap();
    let config = Config::from_toml(
        &format!(
            r#"
data_dir = {data:?}
base_path = "/sitehook"
trusted_proxies = ["127.0.0.1", "::1"]
dangerously_allow_targets = ["127.0.0.1"]
[limits]
per_ip_per_minute = 1
per_ip_burst = 2
[webhooks.crm]
url = "{hook}"
fields = ["profileid", "email"]
headers = {{ "X-Api-Key" = {{ env = "CRM_KEY" }} }}
"#,
            data = dir.path().join("data")
        ),
        &|n| (n == "CRM_KEY").then(|| "behind-nginx-secret".to_owned()),
    )
    .expect("a valid config");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        sitehook_relay::run(config, relay_listener, shutdown).await
    });

    // The site's own files, and nginx in front of everything.
    let site = dir.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(
        site.join("index.html"),
        "<!doctype html><html><head><title>Shop behind nginx</title>\
         <script src=\"/config.js\"></script><script async src=\"/sitehook/sitehook.js\"></script>\
         </head><body><p>shop</p></body></html>",
    )
    .unwrap();
    std::fs::write(
        site.join("config.js"),
        r#"window.sitehookConfig = {
  profile: { profileid: "p-42", email: "dee@example.com", phone: "555" },
  triggers: [{ id: "home", if: { path: { equals: "/" } }, webhook: "crm" }]
};"#,
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let conf = dir.path().join("nginx.conf");
    std::fs::write(&conf, nginx_conf(dir.path(), port, relay_addr)).unwrap();
    let _nginx = Nginx(
        Command::new(nginx_binary())
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("nginx starts"),
    );
    let origin = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let up = poll(Duration::from_secs(10), || async {
        http.get(format!("{origin}/sitehook/healthz"))
            .send()
            .await
            .ok()
            .filter(|r| r.status() == 200)
    })
    .await;
    assert!(
        up.is_some(),
        "nginx did not proxy /sitehook/healthz; its log:\n{}",
        std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default()
    );
    let wasm = http
        .get(format!("{origin}/sitehook/sitehook_bg.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(wasm.headers()["content-type"], "application/wasm");

    // A visitor: the page, the snippet, the event, all on the site's origin.
    let browser = Browser::start().await;
    browser.goto(&format!("{origin}/")).await;
    let trace = browser.trace().await;
    assert_eq!(trace["triggers"][0]["result"], "fired", "{trace}");
    assert_eq!(
        trace["sent"].as_array().map(Vec::len),
        Some(1),
        "the event reached the relay through nginx: {trace}"
    );
    let got = poll(Duration::from_secs(15), || async {
        let got = receiver.requests();
        (!got.is_empty()).then_some(got)
    })
    .await
    .expect("the webhook arrives");
    assert_eq!(got.len(), 1);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&got[0].body).unwrap(),
        json!({"profileid": "p-42", "email": "dee@example.com"})
    );
    assert!(
        got[0]
            .headers
            .contains(&("x-api-key".into(), "behind-nginx-secret".into()))
    );

    // The per-IP limit counts the forwarded client, not nginx: one client runs out,
    // another is still served.
    let post = |client: &'static str| {
        http.post(format!("{origin}/sitehook/v1/events"))
            .header("content-type", "text/plain")
            .header("x-forwarded-for", client)
            .body("{}")
            .send()
    };
    assert_eq!(post("198.51.100.1").await.unwrap().status(), 400);
    assert_eq!(post("198.51.100.1").await.unwrap().status(), 400);
    let limited = post("198.51.100.1").await.unwrap();
    assert_eq!(limited.status(), 429);
    let why = limited.text().await.unwrap();
    assert!(why.contains("198.51.100.1"), "{why}");
    assert_eq!(post("198.51.100.2").await.unwrap().status(), 400);
    let _ = stop.send(());
}
