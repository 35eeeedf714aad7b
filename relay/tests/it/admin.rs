//! The admin API behind the inspector, driven through `app()` over a real SQLite
//! store: listing with filters, one event in full with its secret masked, replay of a
//! dead letter, and who may call it.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use sitehook_relay::clock::ManualClock;
use sitehook_relay::http::{AppState, app};
use sitehook_relay::store::{Attempt, Next, SqliteStore, Status, Store};
use tokio::sync::Notify;
use tower::ServiceExt as _;

use crate::{call, config, event};

async fn admin(state: &AppState, request: Request<Body>) -> (StatusCode, Value) {
    let response = app(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let csp = response
        .headers()
        .get("content-security-policy")
        .map(|v| v.to_str().unwrap().to_owned());
    assert!(
        csp.is_some_and(|c| c.contains("script-src 'self'") && c.contains("frame-ancestors 'none'")),
        "admin answers carry a strict CSP"
    );
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, body)
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn post(uri: &str) -> Request<Body> {
    Request::post(uri).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn the_admin_api_lists_filters_shows_and_replays() {
    let dir = tempfile::tempdir().unwrap();
    let config = Arc::new(config("http://127.0.0.1:9/hook", dir.path()));
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(dir.path(), Arc::new(ManualClock::new(1_000))).unwrap());
    let state = AppState::new(config, store.clone(), Arc::new(Notify::new()));

    let mut other = event("ev-2", "lookup");
    other["profile"]["profileid"] = json!("p-9");
    let (status, _) = call(
        &state,
        json!({ "events": [event("ev-1", "crm-lead"), other] }).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    // ev-1 failed for good: a dead letter.
    store
        .record(
            "ev-1",
            &Attempt {
                at: 1_000,
                duration_ms: 12,
                status: Some(500),
                error: Some("HTTP 500 Internal Server Error".into()),
                next: Next::DeadLetter,
            },
        )
        .await
        .unwrap();

    let (status, all) = admin(&state, get("/admin/api/events")).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let ids: Vec<&str> = all["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(all["webhooks"], json!(["crm-lead", "lookup"]));

    let (_, failed) = admin(&state, get("/admin/api/events?status=failed")).await;
    assert_eq!(failed["events"].as_array().unwrap().len(), 1);
    assert_eq!(failed["events"][0]["id"], "ev-1");
    assert_eq!(failed["events"][0]["lastStatus"], 500);
    let (_, by_profile) = admin(&state, get("/admin/api/events?profile=p-9")).await;
    assert_eq!(by_profile["events"][0]["id"], "ev-2");
    assert_eq!(by_profile["events"].as_array().unwrap().len(), 1);
    let (_, by_webhook) = admin(&state, get("/admin/api/events?webhook=lookup&status=")).await;
    assert_eq!(by_webhook["events"].as_array().unwrap().len(), 1);

    let (status, bad) = admin(&state, get("/admin/api/events?status=lost")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        bad["error"].as_str().unwrap().contains("status \"lost\""),
        "{bad}"
    );
    let (status, bad) = admin(&state, get("/admin/api/events?stauts=failed")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(bad["error"].as_str().unwrap().contains("stauts"), "{bad}");

    // One event in full: its attempts and the request with the secret masked.
    let (status, one) = admin(&state, get("/admin/api/events/ev-1")).await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(one["attempts"][0]["status"], 500);
    assert_eq!(one["attempts"][0]["then"], "dead letter");
    let request = one["request"].as_str().unwrap();
    assert!(
        request.starts_with("POST http://127.0.0.1:9/hook\n"),
        "{request}"
    );
    assert!(
        request.contains("x-api-key: *** (10 bytes, masked)"),
        "{request}"
    );
    assert!(!request.contains("the-secret"), "{request}");
    assert!(request.contains(r#""automationid":"A-17""#), "{request}");
    assert!(!request.contains("gender"), "{request}");
    assert_eq!(one["page"]["title"], "Pricing");
    let (status, _) = admin(&state, get("/admin/api/events/nope")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Replay: only dead letters, once each.
    let (status, body) = admin(&state, post("/admin/api/events/ev-1/replay")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, one) = admin(&state, get("/admin/api/events/ev-1")).await;
    assert_eq!(one["event"]["status"], "pending");
    let (status, body) = admin(&state, post("/admin/api/events/ev-1/replay")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body["error"].as_str().unwrap().contains("is pending"),
        "{body}"
    );
    let (status, _) = admin(&state, post("/admin/api/events/nope/replay")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        store.list(&Default::default()).unwrap()[1].status,
        Status::Pending
    );
}

#[tokio::test]
async fn the_admin_surface_refuses_strangers_other_names_and_other_sites() {
    let dir = tempfile::tempdir().unwrap();
    let config = Arc::new(config("http://127.0.0.1:9/hook", dir.path()));
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(dir.path(), Arc::new(ManualClock::new(1))).unwrap());
    let state = AppState::new(config, store, Arc::new(Notify::new()));
    let from = |mut r: Request<Body>, ip: [u8; 4], host: &str| {
        r.extensions_mut()
            .insert(ConnectInfo(std::net::SocketAddr::from((ip, 40000))));
        r.headers_mut().insert("host", host.parse().unwrap());
        r
    };

    let (status, _) = admin(
        &state,
        from(get("/admin/"), [127, 0, 0, 1], "127.0.0.1:8080"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = admin(
        &state,
        from(
            get("/admin/api/events"),
            [203, 0, 113, 7],
            "relay.example.com",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["error"].as_str().unwrap().contains("admin_token"),
        "{body}"
    );
    // A proxy on this machine forwarding the site's traffic is not an operator.
    let (status, body) = admin(
        &state,
        from(get("/admin/api/events"), [127, 0, 0, 1], "shop.example.com"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["error"].as_str().unwrap().contains("loopback name"),
        "{body}"
    );
    // Another site's page cannot press the replay button through the operator's browser.
    let mut forged = from(
        post("/admin/api/events/ev-1/replay"),
        [127, 0, 0, 1],
        "127.0.0.1:8080",
    );
    forged
        .headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    let (status, body) = admin(&state, forged).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["error"].as_str().unwrap().contains("another site"),
        "{body}"
    );
}
