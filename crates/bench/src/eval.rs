//! The snippet's size, and the cost of evaluating a page view: natively with
//! `sitehook-core`, and in headless Chromium with the real snippet.

use std::path::Path;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Query;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::{get, post};
use serde_json::{Value, json};
use sitehook_core::condition::{Here, Scope};
use sitehook_core::trigger::PAGE_VIEW;
use sitehook_core::{Doc, Entry, History, NoPatterns, Program, Trigger};

use crate::median;

/// Raw, gzip and brotli sizes of the built snippet files.
pub fn sizes(dist: &Path) -> anyhow::Result<Value> {
    let mut files = Vec::new();
    let (mut raw, mut gz, mut br) = (0, 0, 0);
    for name in ["sitehook.js", "sitehook_bg.wasm"] {
        let bytes = std::fs::read(dist.join(name))?;
        let g = sitehook_relay::http::encoding::gzip(&bytes).len();
        let b = sitehook_relay::http::encoding::brotli(&bytes).len();
        raw += bytes.len();
        gz += g;
        br += b;
        files.push(json!({ "file": name, "raw": bytes.len(), "gzip": g, "brotli": b }));
    }
    // The explaining build is fetched instead of the visitor build only when the page's
    // config has a problem or debugging is on: reported, not counted in the total.
    let bytes = std::fs::read(dist.join("sitehook-debug.wasm"))?;
    let explaining = json!({
        "file": "sitehook-debug.wasm",
        "raw": bytes.len(),
        "gzip": sitehook_relay::http::encoding::gzip(&bytes).len(),
        "brotli": sitehook_relay::http::encoding::brotli(&bytes).len(),
    });
    Ok(json!({
        "files": files, "total_raw": raw, "total_gzip": gz, "total_brotli": br,
        "explaining": explaining,
    }))
}

/// Trigger `i` of the benchmark: a path that never matches OR a count that scans the
/// whole history without reaching its threshold: the most work a trigger can cause.
fn trigger_json(i: usize) -> Value {
    json!({"id": format!("t{i}"), "webhook": "w", "if": {"any": [
        {"path": {"equals": format!("/nowhere{i}")}},
        {"count": {"of": {"path": {"startsWith": format!("/p{}", i % 50)}}, "atLeast": 1000, "within": "7d"}}
    ]}})
}

/// Evaluation of one page view, natively, for several trigger counts and history
/// lengths (median of 5 batches, each long enough to time).
pub fn native() -> Value {
    let now = 1_700_000_000_000u64;
    let mut rows = Vec::new();
    for (n, h) in [(10, 200), (100, 200), (1000, 200), (100, 10), (100, 100)] {
        // The triggers as one config array, read as the snippet reads it.
        let list: Vec<Value> = (0..n).map(trigger_json).collect();
        let doc = Doc::parse(Value::Array(list).to_string()).expect("JSON");
        let mut program = Program::new(doc);
        let items: Vec<usize> = program.doc.items(0).map(|(_, v)| v).collect();
        let triggers: Vec<Trigger> = items
            .into_iter()
            .map(|i| Trigger::parse(&mut program, i, &NoPatterns).expect("valid"))
            .collect();
        let paths: Vec<String> = (0..h as u64)
            .rev()
            .map(|k| format!("/p{}", k % 50))
            .collect();
        let entries: Vec<Entry> = (0..h as u64)
            .rev()
            .zip(&paths)
            .map(|(k, p)| Entry::page_view(now - (k + 1) * 60_000, p))
            .collect();
        let mut history = History::of(&entries);
        // The snippet stores the current view before evaluating, so it counts.
        let current = history.push(Entry::page_view(now, "/bench"));
        let visit = history.visits()[current];
        let here = Here {
            url: "https://shop.example/bench",
            host: "shop.example",
            known: true,
            ..Here::default()
        };
        let mut batches = Vec::new();
        for _ in 0..5 {
            let started = Instant::now();
            let mut iterations = 0u32;
            while started.elapsed() < Duration::from_millis(100) {
                let scope = Scope::of_current(now, &visit, &history, &here, &program, &NoPatterns);
                let fired = triggers
                    .iter()
                    .filter(|t| t.decide(PAGE_VIEW, scope, 0) == sitehook_core::Decision::Fire)
                    .count();
                std::hint::black_box(fired);
                iterations += 1;
            }
            batches.push(started.elapsed().as_secs_f64() * 1000.0 / iterations as f64);
        }
        rows.push(json!({ "triggers": n, "history": h, "ms": median(batches) }));
    }
    Value::Array(rows)
}

const PAGE: &str = r#"<!doctype html><html><head><title>bench</title><script>
window.t0 = performance.now();
var n = Number(new URLSearchParams(location.search).get("n")), now = Date.now(), h = [];
for (var k = 199; k >= 0; k--) h.push({ t: now - k * 60000, p: "/p" + (k % 50) });
localStorage.setItem("sitehook:v1:history:p-1", JSON.stringify(h));
var triggers = [];
for (var i = 0; i < n; i++) triggers.push({ id: "t" + i, webhook: "w", if: { any: [
  { path: { equals: "/nowhere" + i } },
  { count: { of: { path: { startsWith: "/p" + (i % 50) } }, atLeast: 1000, within: "7d" } } ] } });
window.sitehookConfig = { profile: { profileid: "p-1" }, triggers: triggers };
window.addEventListener("sitehook:evaluated", function (e) {
  window.result = { eval: e.detail.evalUs, handle: e.detail.handleUs, total: e.detail.totalUs, ready: performance.now() - window.t0 };
});
</script><script async src="/sitehook.js"></script></head><body></body></html>"#;

/// Evaluation in headless Chromium with the real snippet: per trigger count, the
/// evaluation alone and the whole page view (config read, storage, decisions), and
/// the time from the script tag to the first evaluation.
pub async fn browser(dist: &Path, runs: usize) -> anyhow::Result<Value> {
    let js = std::fs::read(dist.join("sitehook.js"))?;
    let wasm = std::fs::read(dist.join("sitehook_bg.wasm"))?;
    let app = Router::new()
        .route("/bench", get(|_q: Query<Value>| async { Html(PAGE) }))
        .route(
            "/sitehook.js",
            get(move || async move {
                ([(header::CONTENT_TYPE, "text/javascript")], js).into_response()
            }),
        )
        .route(
            "/sitehook_bg.wasm",
            get(move || async move {
                ([(header::CONTENT_TYPE, "application/wasm")], wasm).into_response()
            }),
        )
        .route(
            "/v1/events",
            post(|| async {
                (
                    axum::http::StatusCode::ACCEPTED,
                    r#"{"accepted":[],"rejected":[]}"#,
                )
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let browser = sitehook_webdriver::Browser::start().await;
    let mut rows = Vec::new();
    let mut start_to_eval = Vec::new();
    for n in [10, 100, 1000] {
        let (mut eval, mut handle, mut total) = (Vec::new(), Vec::new(), Vec::new());
        for r in 0..runs {
            browser.goto(&format!("{base}/bench?n={n}&r={r}")).await;
            let got = sitehook_webdriver::poll(Duration::from_secs(20), || async {
                let v = browser
                    .eval("return window.result || null", json!([]))
                    .await;
                (!v.is_null()).then_some(v)
            })
            .await
            .ok_or_else(|| anyhow::anyhow!("no evaluation result for {n} triggers"))?;
            eval.push(got["eval"].as_f64().unwrap_or(f64::NAN) / 1000.0);
            handle.push(got["handle"].as_f64().unwrap_or(f64::NAN) / 1000.0);
            total.push(got["total"].as_f64().unwrap_or(f64::NAN) / 1000.0);
            if n == 100 {
                start_to_eval.push(got["ready"].as_f64().unwrap_or(f64::NAN));
            }
        }
        rows.push(json!({
            "triggers": n,
            "eval_ms": median(eval),
            "with_storage_ms": median(handle),
            "page_view_ms": median(total)
        }));
    }
    Ok(json!({ "by_triggers": rows, "start_to_first_eval_ms": median(start_to_eval) }))
}
