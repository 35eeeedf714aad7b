//! The relay's integration tests: the `app()` router driven without a socket, and the
//! whole path API → store → worker → HTTP → a local receiver.

mod admin;
mod process;
mod reload;
mod retries;
mod trial;
mod util;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use sitehook_relay::clock::ManualClock;
use sitehook_relay::config::Config;
use sitehook_relay::http::{AppState, app};
use sitehook_relay::store::{SqliteStore, Status, Store};
use tokio::sync::{Notify, oneshot};
use tower::ServiceExt as _;
use util::Receiver;

fn config(url: &str, data_dir: &std::path::Path) -> Config {
    let text = format!(
        r#"
data_dir = {data_dir:?}
dangerously_allow_targets = ["127.0.0.1"]
[webhooks.crm-lead]
url = "{url}"
fields = ["profileid", "email"]
data = {{ automationid = "A-17" }}
headers = {{ "X-Api-Key" = {{ env = "CRM_API_KEY" }} }}

[webhooks.lookup]
url = "{url}"
method = "GET"
fields = ["profileid"]
triggers = ["pricing-interest"]
"#
    );
    Config::from_toml(&text, &|name| {
        (name == "CRM_API_KEY").then(|| "the-secret".to_owned())
    })
    .unwrap()
}

fn event(id: &str, webhook: &str) -> Value {
    json!({
        "id": id, "trigger": "pricing-interest", "webhook": webhook,
        "profile": {"profileid": "p-123", "email": "ann@example.com", "gender": "f"},
        "data": {"automationid": "FORGED"},
        "page": {"url": "https://shop.example.com/pricing", "title": "Pricing", "referrer": ""},
        "at": 1_700_000_000_000u64
    })
}

async fn call(state: &AppState, body: impl Into<Body>) -> (StatusCode, Value) {
    let request = Request::post("/v1/events")
        .header("content-type", "text/plain;charset=UTF-8")
        .body(body.into())
        .unwrap();
    let response = app(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
        panic!(
            "a JSON body, got {status}: {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (status, body)
}

#[tokio::test]
async fn events_endpoint_answers_every_input_with_a_status_and_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let config = Arc::new(config("http://127.0.0.1:9/hook", dir.path()));
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(dir.path(), Arc::new(ManualClock::new(1))).unwrap());
    let state = AppState::new(config, store.clone(), Arc::new(Notify::new()));

    let good = event("ev-1", "crm-lead");
    let mut bad_type = event("ev-4", "crm-lead");
    bad_type["at"] = json!("yesterday");
    let mut no_webhook = event("ev-3", "crm-lead");
    no_webhook.as_object_mut().unwrap().remove("webhook");
    let huge = format!(r#"{{"events":[{{"id":"{}"}}]}}"#, "x".repeat(70 * 1024));

    // (body, status, a piece of `error`, rejected reasons in order)
    let cases: Vec<(String, StatusCode, &str, Vec<&str>)> = vec![
        (
            "not json".into(),
            StatusCode::BAD_REQUEST,
            "the body is not an event batch",
            vec![],
        ),
        (
            "[]".into(),
            StatusCode::BAD_REQUEST,
            "the body is not an event batch: invalid length 0, expected an object {\"events\": [...]}",
            vec![],
        ),
        (
            r#"{"evnts":[]}"#.into(),
            StatusCode::BAD_REQUEST,
            "unknown field `evnts`",
            vec![],
        ),
        (
            r#"{"events":[]}"#.into(),
            StatusCode::BAD_REQUEST,
            "events: the list is empty",
            vec![],
        ),
        (
            huge,
            StatusCode::PAYLOAD_TOO_LARGE,
            "larger than 65536 bytes",
            vec![],
        ),
        (
            json!({"events": [good, event("ev-2", "nope"), no_webhook, bad_type]}).to_string(),
            StatusCode::ACCEPTED,
            "",
            vec![
                "webhook: \"nope\" is not configured on this relay",
                "missing field `webhook`",
                "invalid type: string \"yesterday\"",
            ],
        ),
        (
            json!({"events": [event("bad id!", "crm-lead")]}).to_string(),
            StatusCode::BAD_REQUEST,
            "no event was accepted",
            vec!["id: only letters, digits and - _ . : are allowed"],
        ),
    ];
    for (body, want_status, want_error, want_reasons) in cases {
        let shown = body.chars().take(120).collect::<String>();
        let (status, answer) = call(&state, body).await;
        assert_eq!(status, want_status, "for {shown}: {answer}");
        let error = answer["error"].as_str().unwrap_or("");
        assert!(
            error.contains(want_error),
            "for {shown}: error {error:?} lacks {want_error:?}"
        );
        let reasons: Vec<&str> = answer["rejected"].as_array().map_or(vec![], |r| {
            r.iter().map(|r| r["reason"].as_str().unwrap()).collect()
        });
        assert_eq!(reasons.len(), want_reasons.len(), "for {shown}: {answer}");
        for (got, want) in reasons.iter().zip(&want_reasons) {
            assert!(
                got.contains(want),
                "for {shown}: reason {got:?} lacks {want:?}"
            );
        }
    }

    // The good event of the mixed batch was stored once; sending it again is
    // acknowledged (a browser retry) but not stored twice.
    let (status, answer) = call(
        &state,
        json!({"events": [event("ev-1", "crm-lead")]}).to_string(),
    )
    .await;
    assert_eq!(
        (status, &answer["accepted"]),
        (StatusCode::ACCEPTED, &json!(["ev-1"]))
    );
    let stored: Vec<String> = store
        .list(&sitehook_relay::store::Filter::default())
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(stored, ["ev-1"]);
}

#[tokio::test]
async fn events_from_other_origins_are_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config("http://127.0.0.1:9/hook", dir.path());
    config
        .allowed_origins
        .push("https://shop.example.com".parse().unwrap());
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(dir.path(), Arc::new(ManualClock::new(1))).unwrap());
    let state = AppState::new(Arc::new(config), store, Arc::new(Notify::new()));
    let cases = [
        (Some("https://shop.example.com"), StatusCode::ACCEPTED),
        (Some("http://relay.example.com:8080"), StatusCode::ACCEPTED), // its own origin
        (None, StatusCode::ACCEPTED),                                  // not a browser
        (Some("https://evil.example.com"), StatusCode::FORBIDDEN),
        (Some("null"), StatusCode::FORBIDDEN),
        (
            Some("https://shop.example.com.evil.example"),
            StatusCode::FORBIDDEN,
        ),
    ];
    for (i, (origin, want)) in cases.into_iter().enumerate() {
        let mut request = Request::post("/v1/events").header("host", "relay.example.com:8080");
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        let body = json!({"events": [event(&format!("o-{i}"), "crm-lead")]}).to_string();
        let response = app(state.clone())
            .oneshot(request.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let cors = response
            .headers()
            .get("access-control-allow-origin")
            .cloned();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(
            status,
            want,
            "origin {origin:?}: {}",
            String::from_utf8_lossy(&bytes)
        );
        if want == StatusCode::FORBIDDEN {
            assert!(String::from_utf8_lossy(&bytes).contains("allowed_origins"));
        }
        if origin == Some("https://shop.example.com") {
            assert_eq!(
                cors.as_ref().and_then(|v| v.to_str().ok()),
                origin,
                "CORS lets the allowed page read the answer"
            );
        } else {
            assert!(
                cors.is_none(),
                "origin {origin:?} must not be echoed: {cors:?}"
            );
        }
    }
}

#[tokio::test]
async fn with_identity_secret_known_profiles_must_prove_their_id() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "data_dir = {:?}\ndangerously_allow_targets = [\"127.0.0.1\"]\nidentity_secret = {{ env = \"IDENTITY_SECRET\" }}\n[webhooks.crm-lead]\nurl = \"http://127.0.0.1:9/hook\"\n",
        dir.path()
    );
    let config = Config::from_toml(&text, &|name| {
        (name == "IDENTITY_SECRET").then(|| "s3cret".to_owned())
    })
    .unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(dir.path(), Arc::new(ManualClock::new(1))).unwrap());
    let state = AppState::new(Arc::new(config), store, Arc::new(Notify::new()));
    // hex HMAC-SHA256("s3cret", "p-123"), as the site's backend computes it.
    let proof = "ec7f79b79b6bc9058ccf11464defe3d0bc854203ffad81879db6efad00cd7683";
    let mut proven = event("id-ok", "crm-lead");
    proven["identity"] = json!(proof);
    let mut forged = event("id-forged", "crm-lead");
    forged["profile"]["profileid"] = json!("p-999");
    forged["identity"] = json!(proof);
    let missing = event("id-missing", "crm-lead");
    let mut anonymous = event("id-anon", "crm-lead");
    anonymous["profile"] = json!({});
    let (status, answer) = call(
        &state,
        json!({"events": [proven, forged, missing, anonymous]}).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["accepted"], json!(["id-ok", "id-anon"]), "{answer}");
    let rejected: Vec<(u64, &str)> = answer["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["index"].as_u64().unwrap(), r["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(rejected.len(), 2, "{answer}");
    for (index, reason) in rejected {
        assert!(
            [1, 2].contains(&index) && reason.starts_with("identity: missing or wrong"),
            "{answer}"
        );
    }
}

#[tokio::test]
async fn limits_answer_429_with_retry_after_and_503_when_the_queue_is_full() {
    use axum::extract::ConnectInfo;
    let dir = tempfile::tempdir().unwrap();
    let mut config = config("http://127.0.0.1:9/hook", dir.path());
    config.limits.per_ip_burst = 2;
    config.limits.per_profile_burst = 1;
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(dir.path(), Arc::new(ManualClock::new(1))).unwrap());
    let state = AppState::new(
        Arc::new(config.clone()),
        store.clone(),
        Arc::new(Notify::new()),
    );
    let send = |state: AppState, ip: [u8; 4], body: Value| async move {
        let mut request = Request::post("/v1/events")
            .body(Body::from(body.to_string()))
            .unwrap();
        request
            .extensions_mut()
            .insert(ConnectInfo(std::net::SocketAddr::from((ip, 40000))));
        let response = app(state).oneshot(request).await.unwrap();
        let status = response.status();
        let retry = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, retry, String::from_utf8_lossy(&bytes).into_owned())
    };
    // Per profile: the second event for p-123 within the burst is held back.
    let (status, _, body) = send(
        state.clone(),
        [10, 0, 0, 1],
        json!({"events": [event("l-1", "crm-lead"), event("l-2", "crm-lead")]}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert!(
        body.contains("rate limit: too many events for profile") && body.contains("p-123"),
        "{body}"
    );
    // Per IP: the burst of 2 is used up; the third request from the same address waits.
    let (status, retry, body) = send(
        state.clone(),
        [10, 0, 0, 1],
        json!({"events": [event("l-3", "crm-lead")]}),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "the profile is over its limit: {body}"
    );
    assert!(retry.is_some_and(|r| r.parse::<u64>().unwrap() >= 1));
    let (status, retry, body) = send(
        state.clone(),
        [10, 0, 0, 1],
        json!({"events": [event("l-4", "lookup")]}),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(
        body.contains("too many requests from 10.0.0.1") && retry.is_some(),
        "{body}"
    );
    // Another address is not affected.
    let mut other = event("l-5", "crm-lead");
    other["profile"]["profileid"] = json!("p-5");
    let (status, _, body) = send(state.clone(), [10, 0, 0, 2], json!({"events": [other]})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    // A full queue: 503 with Retry-After, and nothing stored.
    config.limits.max_queue_depth = 0;
    let full = AppState::new(Arc::new(config), store.clone(), Arc::new(Notify::new()));
    let (status, retry, body) = send(
        full,
        [10, 0, 0, 3],
        json!({"events": [event("l-6", "lookup")]}),
    )
    .await;
    assert_eq!(
        (status, retry.as_deref()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("30")),
        "{body}"
    );
    assert!(
        !store
            .list(&sitehook_relay::store::Filter::default())
            .unwrap()
            .iter()
            .any(|r| r.id == "l-6")
    );
}

#[tokio::test]
async fn webhooks_take_only_their_triggers_and_bodies_only_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let config = Arc::new(config("http://127.0.0.1:9/hook", dir.path()));
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(dir.path(), Arc::new(ManualClock::new(1))).unwrap());
    let state = AppState::new(config, store, Arc::new(Notify::new()));
    let mut other = event("tr-2", "lookup");
    other["trigger"] = json!("newsletter");
    let (status, answer) = call(
        &state,
        json!({"events": [event("tr-1", "lookup"), other]}).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["accepted"], json!(["tr-1"]));
    assert_eq!(
        answer["rejected"][0]["reason"],
        "trigger: \"newsletter\" may not use webhook \"lookup\" (see its `triggers` in the relay's config)"
    );

    let form = Request::post("/v1/events")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from("events=1"))
        .unwrap();
    let response = app(state.clone()).oneshot(form).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    assert!(
        String::from_utf8_lossy(&bytes)
            .contains("send the JSON batch as text/plain or application/json")
    );
}

#[tokio::test]
async fn metrics_are_for_loopback_or_the_admin_token() {
    use axum::extract::ConnectInfo;
    let dir = tempfile::tempdir().unwrap();
    let mut config = config("http://127.0.0.1:9/hook", dir.path());
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(dir.path(), Arc::new(ManualClock::new(1))).unwrap());
    let get = |state: AppState, ip: [u8; 4], token: Option<&'static str>| async move {
        let mut request = Request::get("/metrics");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let mut request = request.body(Body::empty()).unwrap();
        request
            .extensions_mut()
            .insert(ConnectInfo(std::net::SocketAddr::from((ip, 40000))));
        app(state).oneshot(request).await.unwrap().status()
    };
    let open = AppState::new(
        Arc::new(config.clone()),
        store.clone(),
        Arc::new(Notify::new()),
    );
    assert_eq!(
        get(open.clone(), [127, 0, 0, 1], None).await,
        StatusCode::OK
    );
    assert_eq!(
        get(open, [203, 0, 113, 7], None).await,
        StatusCode::FORBIDDEN
    );
    let with_token = Config::from_toml(
        &format!(
            "data_dir = {:?}\nadmin_token = {{ env = \"ADMIN\" }}\n",
            dir.path()
        ),
        &|n| (n == "ADMIN").then(|| "t0ken".to_owned()),
    )
    .unwrap();
    config.admin_token = with_token.admin_token;
    let guarded = AppState::new(Arc::new(config), store, Arc::new(Notify::new()));
    assert_eq!(
        get(guarded.clone(), [127, 0, 0, 1], None).await,
        StatusCode::FORBIDDEN,
        "a token, once set, is always needed"
    );
    assert_eq!(
        get(guarded.clone(), [203, 0, 113, 7], Some("wrong")).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(guarded, [203, 0, 113, 7], Some("t0ken")).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_snippet_files_are_served_with_their_types() {
    let dir = tempfile::tempdir().unwrap();
    let config = Arc::new(config("http://127.0.0.1:9/hook", dir.path()));
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(dir.path(), Arc::new(ManualClock::new(1))).unwrap());
    let state = AppState::new(config, store, Arc::new(Notify::new()));
    for (path, want) in [
        ("/sitehook.js", "text/javascript; charset=utf-8"),
        ("/sitehook_bg.wasm", "application/wasm"),
        ("/sitehook-debug.wasm", "application/wasm"),
        ("/sitehook-debug.js", "text/javascript; charset=utf-8"),
    ] {
        let response = app(state.clone())
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        if sitehook_relay::http::snippet::is_built() || path == "/sitehook-debug.js" {
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            assert_eq!(response.headers()["content-type"], want, "{path}");
            // Revalidation: the ETag comes back as a 304 without a body.
            let etag = response.headers()["etag"].clone();
            let again = app(state.clone())
                .oneshot(
                    Request::get(path)
                        .header("if-none-match", etag.clone())
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
            assert_eq!(again.headers()["etag"], etag, "{path}");
            let body = axum::body::to_bytes(again.into_body(), usize::MAX)
                .await
                .unwrap();
            assert!(body.is_empty(), "{path}");
            let plain = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            assert!(!plain.is_empty(), "{path}");

            // Compressed as the browser accepts, each coding decoding to the same file
            // with its own ETag, and `Vary` telling caches to keep them apart.
            for (accept, coding) in [
                ("gzip, deflate, br, zstd", "br"),
                ("gzip, deflate", "gzip"),
                ("br;q=0, gzip", "gzip"),
            ] {
                let response = app(state.clone())
                    .oneshot(
                        Request::get(path)
                            .header("accept-encoding", accept)
                            .body(Body::empty())
                            .unwrap(),
                    )
                    .await
                    .unwrap();
                assert_eq!(response.status(), StatusCode::OK, "{path} {accept}");
                let h = response.headers().clone();
                assert_eq!(h["content-encoding"], coding, "{path} {accept}");
                assert_eq!(h["content-type"], want, "{path} {accept}");
                assert!(
                    h.get_all("vary")
                        .iter()
                        .any(|v| v.to_str().unwrap().contains("accept-encoding")),
                    "{path} {accept}: {h:?}"
                );
                assert_ne!(h["etag"], etag, "{path} {accept}: one ETag per coding");
                let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                    .await
                    .unwrap();
                assert!(body.len() < plain.len(), "{path} {accept}: not smaller");
                let mut decoded = Vec::new();
                if coding == "br" {
                    brotli::BrotliDecompress(&mut &body[..], &mut decoded).unwrap();
                } else {
                    std::io::Read::read_to_end(
                        &mut flate2::read::GzDecoder::new(&body[..]),
                        &mut decoded,
                    )
                    .unwrap();
                }
                assert_eq!(decoded, plain, "{path} {accept}: decodes to the file");
            }
        } else {
            // Built without `cargo xtask dist`: the answer says how to fix it.
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
        }
    }
}

/// `sitehook-relay integrity` prints the hash of the script exactly as served, and
/// the script carries the hash of the wasm exactly as served: pinning one pins both.
#[tokio::test]
async fn the_integrity_hashes_match_the_served_files() {
    use base64::Engine as _;
    use sha2::Digest as _;
    if !sitehook_relay::http::snippet::is_built() {
        return;
    }
    let sri = |bytes: &[u8]| {
        format!(
            "sha384-{}",
            base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(bytes))
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let config = Arc::new(config("http://127.0.0.1:9/hook", dir.path()));
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(dir.path(), Arc::new(ManualClock::new(1))).unwrap());
    let state = AppState::new(config.clone(), store, Arc::new(Notify::new()));
    let mut served = Vec::new();
    for path in ["/sitehook.js", "/sitehook_bg.wasm", "/sitehook-debug.wasm"] {
        let response = app(state.clone())
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        served.push(
            axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap(),
        );
    }
    assert_eq!(
        sitehook_relay::http::snippet::integrity(&config),
        Some(sri(&served[0]))
    );
    let script = String::from_utf8_lossy(&served[0]);
    for wasm in &served[1..] {
        let wasm_hash = sri(wasm);
        assert!(
            script.contains(&format!("\"{wasm_hash}\"")),
            "the script names each wasm's hash {wasm_hash}"
        );
    }
}

/// The whole path through a real relay: accepted → stored → delivered to a real
/// receiver with the secret header; a 500 is retried on schedule with the same
/// `webhook-id`, moved along by the test's clock rather than by waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivers_with_the_secret_header_and_retries_a_failure() {
    sitehook_relay::install_crypto_provider();
    let receiver = Receiver::start(&[500]).await;
    let dir = tempfile::tempdir().unwrap();
    let config = config(&receiver.url("/hook"), dir.path());
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let relay = tokio::spawn(sitehook_relay::run_with_clock(
        config,
        listener,
        async {
            let _ = stopped.await;
        },
        clock.clone(),
    ));

    let http = reqwest::Client::new();
    let batch = json!({"events": [event("ev-1", "crm-lead"), event("ev-2", "lookup")]});
    let response = http
        .post(format!("http://{addr}/v1/events"))
        .body(batch.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202, "{:?}", response.text().await);

    let got = receiver.wait_for(2).await;
    let post = got
        .iter()
        .find(|g| g.method == "POST")
        .expect("the POST webhook");
    assert_eq!(post.header("x-api-key"), Some("the-secret"));
    assert_eq!(post.header("content-type"), Some("application/json"));
    let body: Value = serde_json::from_str(&post.body).unwrap();
    assert_eq!(
        body,
        json!({"profileid": "p-123", "email": "ann@example.com", "automationid": "A-17"})
    );
    let get = got
        .iter()
        .find(|g| g.method == "GET")
        .expect("the GET webhook");
    assert_eq!(get.uri.to_string(), "/hook?profileid=p-123");
    assert_eq!(get.header("webhook-id"), Some("ev-2"));

    // The first delivery got a 500: the retry is due 5 s later on the relay's clock.
    let first = &got[0];
    // 5 s with at most 10% jitter.
    clock.advance(5_600);
    let got = receiver.wait_for(3).await;
    assert_eq!(
        got[2].header("webhook-id"),
        first.header("webhook-id"),
        "a retry carries the same webhook-id"
    );
    assert_eq!(got[2].body, first.body);

    let _ = stop.send(());
    relay.await.unwrap().unwrap();
    // What the store says after shutdown, read from the same SQLite file.
    let store = SqliteStore::open(dir.path(), clock.clone()).unwrap();
    let records: Vec<(String, Status, u32)> = store
        .list(&sitehook_relay::store::Filter::default())
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.status, r.attempts))
        .collect();
    let failed_id = first.header("webhook-id").unwrap().to_owned();
    for (id, status, attempts) in &records {
        let want = if *id == failed_id { 2 } else { 1 };
        assert_eq!(
            (*status, *attempts),
            (Status::Delivered, want),
            "{id}: {records:?}"
        );
    }
    assert_eq!(
        receiver.got().len(),
        3,
        "nothing is delivered twice once delivered"
    );
}

/// A wrong URL or method gets a JSON reason like every other error, not an empty body.
#[tokio::test]
async fn unknown_endpoints_and_methods_answer_with_a_json_reason() {
    let dir = tempfile::tempdir().unwrap();
    let config = Arc::new(config("http://127.0.0.1:9/hook", dir.path()));
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(dir.path(), Arc::new(ManualClock::new(1))).unwrap());
    let state = AppState::new(config, store, Arc::new(Notify::new()));
    for (method, path, status, want) in [
        (
            "GET",
            "/v1/evnets",
            StatusCode::NOT_FOUND,
            "no such endpoint: GET /v1/evnets",
        ),
        (
            "GET",
            "/v1/events",
            StatusCode::METHOD_NOT_ALLOWED,
            "/v1/events does not take GET",
        ),
    ] {
        let response = app(state.clone())
            .oneshot(
                Request::builder()
                    .method(method)
                    .uri(path)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{method} {path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/json",
            "{method} {path}"
        );
        let body: serde_json::Value = serde_json::from_slice(
            &axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap(),
        )
        .unwrap();
        let error = body["error"].as_str().unwrap_or_default();
        assert!(error.starts_with(want), "{method} {path}: {body}");
    }
}
