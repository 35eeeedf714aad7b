//! End-to-end tests: the demo shop in real headless Chromium, the real relay, and the
//! demo's real webhook receiver on loopback.

mod debug;
mod inspector;
mod nginx;
mod snippet;
mod util;

use serde_json::{Value, json};
use util::webdriver::Browser;
use util::{Site, TestRelay, header};

/// Page script that keeps the console's warnings in `window.warnings` for the test.
pub const CAPTURE_WARNINGS: &str = "window.warnings = []; var warn = console.warn.bind(console); \
     console.warn = function (m) { window.warnings.push(String(m)); warn(m); };";

/// `[(trigger id, result)]` from a snippet trace.
fn results(trace: &Value) -> Vec<(String, String)> {
    trace["triggers"]
        .as_array()
        .unwrap_or_else(|| panic!("no triggers in the trace {trace}"))
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap_or("").to_owned(),
                t["result"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

pub fn result_of(trace: &Value, id: &str) -> String {
    results(trace)
        .into_iter()
        .find(|(t, _)| t == id)
        .map(|(_, r)| r)
        .unwrap_or_else(|| panic!("trigger {id} is not in the trace {trace}"))
}

/// Whether the page's own script ran: its `<p id="ok">` says so.
pub async fn page_script_ran(browser: &Browser) -> bool {
    browser
        .eval(
            "return document.getElementById('ok').textContent",
            json!([]),
        )
        .await
        == "page script ran"
}

/// The snippet builds this page fetched, by file name: `sitehook_bg.wasm` (the
/// visitor build), and `sitehook-debug.wasm` when the explaining build took over.
pub async fn wasm_fetched(browser: &Browser) -> Vec<String> {
    let names = browser
        .eval(
            "return performance.getEntriesByType('resource').map(function (e) { return e.name; })",
            json!([]),
        )
        .await;
    names
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n.as_str()?.rsplit('/').next())
        .filter(|n| n.ends_with(".wasm"))
        .map(str::to_owned)
        .collect()
}

pub fn sent(trace: &Value) -> Vec<String> {
    trace["sent"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Clicks the demo shop's sign-in/out button and waits until the header reads `who`.
async fn switch_sign_in(browser: &Browser, who: &str) {
    browser.click("#toggle-sign-in").await;
    let switched = util::poll(std::time::Duration::from_secs(10), || async {
        let shown = browser
            .eval(
                "return document.getElementById('who').textContent",
                json!([]),
            )
            .await;
        (shown.as_str() == Some(who)).then_some(())
    })
    .await;
    assert!(
        switched.is_some(),
        "the demo's sign-in button did not switch to {who:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_shop_fires_each_webhook_once_with_the_secret_header_and_allowlisted_fields() {
    let key = format!("e2e-secret-{}", std::process::id());
    let relay = TestRelay::demo(&key, |_| {}).await;
    let browser = Browser::start().await;

    // An anonymous visitor: every page, even the matching ones, sends nothing.
    browser.goto(&relay.url("/")).await;
    browser.trace().await;
    switch_sign_in(&browser, "Browsing anonymously").await; // "Sign out"; the page reloads.
    for path in ["/pricing", "/pricing", "/pricing", "/products/red-shoes"] {
        browser.goto(&relay.url(path)).await;
        let trace = browser.trace().await;
        assert!(
            sent(&trace).is_empty(),
            "an anonymous visitor sent an event on {path}: {trace}"
        );
        assert!(
            results(&trace).iter().all(|(_, r)| r == "anonymous"),
            "every trigger must be held back for an anonymous visitor on {path}: {trace}"
        );
    }

    // Ann signs in on the home page (the page reloads), which matches no trigger.
    browser.goto(&relay.url("/")).await;
    browser.trace().await;
    switch_sign_in(&browser, "Signed in as ann@example.com (p-123)").await;
    let trace = browser.trace().await;
    assert_eq!(
        results(&trace),
        [
            ("pricing-interest".into(), "no-match".into()),
            ("product-view".into(), "no-match".into())
        ],
        "home page trace: {trace}"
    );
    // The demo turns debugging on: the explaining build took over from the visitor
    // build, which has no words for the trace.
    assert_eq!(
        wasm_fetched(&browser).await,
        ["sitehook_bg.wasm", "sitehook-debug.wasm"]
    );

    // Two views of /pricing are not enough; the third fires.
    for n in 1..=2 {
        browser.goto(&relay.url("/pricing")).await;
        let trace = browser.trace().await;
        assert_eq!(
            result_of(&trace, "pricing-interest"),
            "no-match",
            "pricing view {n}: {trace}"
        );
        assert!(
            sent(&trace).is_empty(),
            "pricing view {n} sent something: {trace}"
        );
    }
    browser.goto(&relay.url("/pricing")).await;
    let trace = browser.trace().await;
    assert_eq!(
        result_of(&trace, "pricing-interest"),
        "fired",
        "third pricing view: {trace}"
    );
    let ids = sent(&trace);
    assert_eq!(
        ids.len(),
        1,
        "the third pricing view sends one event: {trace}"
    );
    let early = relay.received().await;
    assert!(
        early.len() <= 1,
        "more webhooks than the one just fired: {early:#?}"
    );

    let got = relay.wait_received(1).await;
    let hook = &got[0];
    assert_eq!(hook["method"], "POST", "{hook:#}");
    assert_eq!(hook["uri"], "/demo/receiver/hook/crm-lead", "{hook:#}");
    assert_eq!(
        header(hook, "x-api-key"),
        Some(key.as_str()),
        "the secret header from the relay's environment: {hook:#}"
    );
    assert_eq!(
        header(hook, "webhook-id"),
        Some(ids[0].as_str()),
        "the browser's event id: {hook:#}"
    );
    assert!(
        header(hook, "webhook-timestamp").is_some_and(|t| t.parse::<u64>().is_ok()),
        "{hook:#}"
    );
    let body: Value =
        serde_json::from_str(hook["body"].as_str().unwrap_or("")).expect("a JSON body");
    assert_eq!(
        body,
        json!({"profileid": "p-123", "email": "ann@example.com", "automationid": "A-17"}),
        "only the allowlisted profile fields plus the static field (no gender, no phone)"
    );

    // The Stop: a fourth view does not fire again.
    browser.goto(&relay.url("/pricing")).await;
    let trace = browser.trace().await;
    assert_eq!(
        result_of(&trace, "pricing-interest"),
        "stopped",
        "fourth pricing view: {trace}"
    );
    assert!(sent(&trace).is_empty(), "{trace}");

    // A product view fires the GET webhook. (The fourth pricing view's trace above
    // already shows the browser sent nothing; the count below confirms the relay.)
    browser.goto(&relay.url("/products/red-shoes")).await;
    let trace = browser.trace().await;
    assert_eq!(result_of(&trace, "product-view"), "fired", "{trace}");
    let got = relay.wait_received(2).await;
    let hook = &got[1];
    assert_eq!(hook["method"], "GET", "{hook:#}");
    assert_eq!(
        hook["uri"], "/demo/receiver/hook/product-view?automationid=A-18&profileid=p-123",
        "{hook:#}"
    );
    assert_eq!(header(hook, "x-api-key"), Some(key.as_str()), "{hook:#}");
    assert_eq!(
        got.iter()
            .filter(|h| h["uri"] == "/demo/receiver/hook/crm-lead")
            .count(),
        1,
        "{got:#?}"
    );

    // The receiver page shows what arrived, with the event ids.
    let page = relay
        .http
        .get(relay.url("/demo/receiver"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Received webhooks (2)") && page.contains(&ids[0]),
        "receiver page:\n{page}"
    );
}

/// A site on another origin with one misspelt trigger: the page keeps working, the
/// console names the trigger and the problem, and the good trigger still fires
/// through the relay named by the script's own URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_trigger_warns_by_name_and_the_rest_of_the_page_works() {
    let site = Site::bind().await;
    let relay = TestRelay::demo_for(&site).await;

    let page = format!(
        r#"<!doctype html><html><head><title>Other site</title>
<script>
  {capture}
  window.bodies = [];
  var realFetch = window.fetch;
  window.fetch = function (r) {{
    var init = arguments[1];
    if (init && typeof init.body === "string") window.bodies.push(init.body);
    else if (r && r.clone) r.clone().text().then(function (t) {{ window.bodies.push(t); }});
    return realFetch.apply(this, arguments);
  }};
  window.sitehookConfig = {{
    profile: {{ profileid: "p-9", email: "bob@example.com", age: 41 }},
    triggers: [
      {{ id: "typo", if: {{ path: {{ startWith: "/" }} }}, webhook: "crm-lead" }},
      {{ id: "any-page", if: {{ path: {{ startsWith: "/" }} }}, webhook: "product-view" }},
      {{ id: "no-webhook" }},
      "not an object"
    ]
  }};
</script>
<script async src="http://{relay}/sitehook.js"></script>
</head><body><p id="ok">page script ran</p></body></html>"#,
        relay = relay.addr,
        capture = CAPTURE_WARNINGS
    );
    let (browser, _) = site.open(page).await;
    let trace = browser.trace().await;
    assert_eq!(
        results(&trace),
        [("any-page".to_owned(), "fired".to_owned())],
        "{trace}"
    );
    assert_eq!(
        sent(&trace).len(),
        1,
        "the good trigger's event reached the relay cross-origin: {trace}"
    );
    assert!(page_script_ran(&browser).await);
    // The visitor build has no words for the problems: it handed over to the
    // explaining build, which printed them below and did the work.
    assert_eq!(
        wasm_fetched(&browser).await,
        ["sitehook_bg.wasm", "sitehook-debug.wasm"]
    );

    // Only the fields the webhook takes (product-view: profileid) left the browser.
    let bodies = browser.eval("return window.bodies", json!([])).await;
    let sent_body: Value =
        serde_json::from_str(bodies[0].as_str().unwrap_or("")).expect("the events request body");
    assert_eq!(
        sent_body["events"][0]["profile"],
        json!({"profileid": "p-9"}),
        "{sent_body}"
    );
    let warnings: Vec<String> =
        serde_json::from_value(browser.eval("return window.warnings", json!([])).await).unwrap();
    let expect = [
        "sitehook: trigger \"typo\": if.path: unknown operator \"startWith\" (did you mean \"startsWith\"?) (this trigger is disabled)",
        "sitehook: trigger \"no-webhook\": webhook: is required (this trigger is disabled)",
        "sitehook: trigger \"#3\": must be an object (this trigger is disabled)",
    ];
    for want in expect {
        assert!(
            warnings.iter().any(|w| w.starts_with(want)),
            "no warning starting {want:?} in {warnings:#?}"
        );
    }
    assert_eq!(
        warnings.len(),
        expect.len(),
        "one warning per broken trigger: {warnings:#?}"
    );

    let got = relay.wait_received(1).await;
    assert_eq!(
        got[0]["uri"], "/demo/receiver/hook/product-view?automationid=A-18&profileid=p-9",
        "{:#}",
        got[0]
    );
}

/// Hostile data in the config and in storage cannot throw into the page, hang it, or
/// stop the good trigger: 5,000 triggers, a condition nested 300 deep, a 1 MB id, a
/// profile getter that throws, and garbage under the snippet's storage keys (the
/// history, Stop timers, session and outbox entries).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_config_and_storage_do_not_break_the_page() {
    let site = Site::bind().await;
    let relay = TestRelay::demo_for(&site).await;
    let page = format!(
        r#"<!doctype html><html><head><title>Hostile</title>
<script>
  {capture}
  localStorage.setItem("sitehook:v1:history:p-h", "{{not json");
  localStorage.setItem("sitehook:v1:stops:p-h", JSON.stringify({{ good: "yesterday", x: [1, 2] }}));
  localStorage.setItem("sitehook:v1:session", "[1, 2");
  localStorage.setItem("sitehook:v1:outbox:junk", "{{\"i\": 5");
  localStorage.setItem("sitehook:v1:outbox:other", JSON.stringify({{ i: "not-other", g: "t", t: 1, j: "{{}}" }}));
  localStorage.setItem("sitehook:v1:outbox:big", JSON.stringify({{ i: "big", g: "t", t: Date.now(), j: "x".repeat(70000) }}));
  localStorage.setItem("sitehook:v1:outbox", "[1, 2");
  Object.defineProperty(history, "pushState", {{ value: history.pushState, writable: false }});
  var deep = {{ path: {{ startsWith: "/" }} }};
  for (var i = 0; i < 300; i++) deep = {{ not: deep }};
  var profile = {{ profileid: "p-h" }};
  Object.defineProperty(profile, "email", {{ enumerable: true, get: function () {{ throw new Error("hostile getter"); }} }});
  var triggers = [
    {{ id: "deep", if: deep, webhook: "product-view" }},
    {{ id: "x".repeat(1 << 20), webhook: "product-view" }},
    {{ id: "good", audience: "anyone", if: {{ path: {{ startsWith: "/" }} }}, webhook: "product-view" }}
  ];
  for (var j = 0; j < 5000; j++) triggers.push({{ id: "t" + j, webhook: "product-view", if: {{ path: {{ equals: "/never" }} }} }});
  window.sitehookConfig = {{ profile: profile, triggers: triggers, extra: {{ a: [[[[[[]]]]]] }} }};
</script>
<script async src="http://{relay}/sitehook.js"></script>
<script>window.pageScript = "ran";</script>
</head><body></body></html>"#,
        relay = relay.addr,
        capture = CAPTURE_WARNINGS
    );
    let (browser, _) = site.open(page).await;
    let trace = browser.trace().await;
    assert_eq!(result_of(&trace, "good"), "fired", "{trace}");
    assert_eq!(sent(&trace).len(), 1, "{trace}");
    assert_eq!(
        browser.eval("return window.pageScript", json!([])).await,
        "ran"
    );
    let warnings: Vec<String> =
        serde_json::from_value(browser.eval("return window.warnings", json!([])).await).unwrap();
    for want in [
        "sitehook: trigger \"deep\": ",
        "sitehook: trigger \"#1\": id: is required",
        "sitehook: more than 1000 triggers: the rest are ignored",
        "sitehook: window.sitehookConfig: unknown key \"extra\"",
    ] {
        assert!(
            warnings.iter().any(|w| w.starts_with(want)),
            "no warning starting {want:?} in {warnings:#?}"
        );
    }
    // Storage was repaired, not trusted: the garbage is replaced by a real history.
    let stored = browser
        .eval(
            "return localStorage.getItem('sitehook:v1:history:p-h')",
            json!([]),
        )
        .await;
    let history: Value =
        serde_json::from_str(stored.as_str().unwrap_or("")).expect("valid JSON now");
    assert_eq!(history.as_array().map(Vec::len), Some(1), "{history}");
    let session = browser
        .eval(
            "return JSON.parse(localStorage.getItem('sitehook:v1:session')).n",
            json!([]),
        )
        .await;
    assert_eq!(session, 1, "a new first session");
    // The unreadable outbox entries are gone (one too big to send, the list of 0.1.0
    // that is not one); the good event was sent and left. A `history` whose
    // `pushState` cannot be replaced did not stop the snippet.
    let outbox = browser
        .eval(
            "return Object.keys(localStorage).filter(function (k) { return k.indexOf('sitehook:v1:outbox') === 0; })",
            json!([]),
        )
        .await;
    assert_eq!(outbox, json!([]));
    assert_eq!(relay.wait_received(1).await.len(), 1);
}
