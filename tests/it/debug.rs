//! The trigger trace in the browser: `?sitehook_debug=1`, where the config allows it,
//! shows every trigger with its result and the first failing condition, and what was
//! sent, on a page with a strict Content-Security-Policy that nothing violates.

use std::time::Duration;

use serde_json::{Value, json};

use crate::util::webdriver::Browser;
use crate::util::{Site, TestRelay, poll};

/// The panel's rows: (trigger, result, why).
async fn panel(browser: &Browser) -> Option<Vec<(String, String, String)>> {
    let rows = browser
        .eval(
            "var h = document.getElementById('sitehook-debug'); if (!h) return null; \
             var r = h.shadowRoot || h; \
             return Array.prototype.map.call(r.querySelectorAll('li[data-trigger]'), function (li) { \
               var why = li.querySelector('div'); \
               return [li.dataset.trigger, li.dataset.result, why ? why.textContent : '']; });",
            json!([]),
        )
        .await;
    serde_json::from_value(rows).ok()
}

/// The panel's list of evaluations, newest first: (label, whether it is the one shown).
async fn panel_events(browser: &Browser) -> Vec<(String, bool)> {
    let items = browser
        .eval(
            "var h = document.getElementById('sitehook-debug'); if (!h) return [];              return Array.prototype.map.call(h.shadowRoot.querySelectorAll('.events button'), function (b) {                return [b.textContent, b.getAttribute('aria-current') === 'true']; });",
            json!([]),
        )
        .await;
    serde_json::from_value(items).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_debug_parameter_shows_the_trace_under_a_strict_csp() {
    let site = Site::bind().await;
    let relay = TestRelay::demo_for(&site).await;
    let origin = site.origin.clone();
    let relay_origin = format!("http://{}", relay.addr);
    // No 'unsafe-inline' anywhere: the page, the snippet and its panel must do without.
    let csp = format!(
        "default-src 'none'; script-src 'self' {relay_origin} 'wasm-unsafe-eval'; \
         connect-src {relay_origin}; style-src 'none'; img-src 'none'"
    );
    let config = r#"
window.violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.violations.push(e.violatedDirective + " " + e.blockedURI);
});
window.sitehookConfig = {
  allowDebugParam: true,
  profile: { profileid: "p-77", email: "cy@example.com" },
  triggers: [
    { id: "home", if: { path: { equals: "/" } }, webhook: "product-view" },
    { id: "pricing-3", if: { count: { of: { path: { startsWith: "/pricing" } }, atLeast: 3, within: "7d" } },
      webhook: "crm-lead" }
  ]
};"#;
    let page = format!(
        "<!doctype html><html><head><title>Strict site</title>\
         <script src=\"/config.js\"></script>\
         <script async src=\"{relay_origin}/sitehook.js\"></script></head>\
         <body><p>A site with a strict CSP.</p></body></html>"
    );
    site.serve_files(
        vec![
            ("/", "text/html; charset=utf-8", page.clone()),
            ("/other", "text/html; charset=utf-8", page),
            ("/config.js", "text/javascript", config.to_owned()),
        ],
        csp,
    );

    let browser = Browser::start().await;
    browser.goto(&format!("{origin}/?sitehook_debug=1")).await;
    let trace = browser.trace().await;
    assert_eq!(trace["debug"], true, "{trace}");
    let rows = poll(Duration::from_secs(15), || async {
        panel(&browser)
            .await
            .filter(|r| r.len() == 2)
            .filter(|_| true)
    })
    .await
    .expect("the trace panel shows both triggers");
    assert_eq!(rows[0].0, "home");
    assert_eq!(rows[0].1, "fired");
    assert_eq!(
        rows[1],
        (
            "pricing-3".to_owned(),
            "no-match".to_owned(),
            "count: 0 matching view(s) within 1w, needs 3".to_owned()
        )
    );
    // What was sent: the home trigger's event, accepted by the relay.
    let sent = poll(Duration::from_secs(15), || async {
        let text = browser
            .eval(
                "var h = document.getElementById('sitehook-debug'); \
                 return h && h.shadowRoot.querySelector('.sent').textContent;",
                json!([]),
            )
            .await;
        text.as_str()
            .filter(|t| t.starts_with("sent 1 event(s)"))
            .map(str::to_owned)
    })
    .await;
    assert!(sent.is_some(), "the panel says what was sent");
    relay.wait_received(1).await;

    // A later event on the same page is listed above the page view and shown; picking
    // the page view shows its triggers again.
    browser
        .eval("window.sitehook.track('newsletter')", json!([]))
        .await;
    let listed = poll(Duration::from_secs(15), || async {
        let v = panel_events(&browser).await;
        (v.len() == 2).then_some(v)
    })
    .await
    .expect("the panel lists both evaluations");
    assert_eq!(listed[0], ("newsletter /".to_owned(), true), "{listed:?}");
    assert_eq!(
        listed[1],
        ("page_view / · 1 fired".to_owned(), false),
        "{listed:?}"
    );
    assert_eq!(
        panel(&browser).await,
        Some(Vec::new()),
        "no trigger listens to it"
    );
    browser
        .eval(
            "document.getElementById('sitehook-debug').shadowRoot.querySelectorAll('.events button')[1].click()",
            json!([]),
        )
        .await;
    assert_eq!(panel(&browser).await.map(|r| r.len()), Some(2));
    assert!(panel_events(&browser).await[1].1, "the page view is picked");

    // The trace follows the visitor for the session: no parameter on the next page.
    browser.goto(&format!("{origin}/other")).await;
    let trace = browser.trace().await;
    assert_eq!(trace["debug"], true, "{trace}");
    let rows = poll(Duration::from_secs(15), || async {
        panel(&browser).await.filter(|r| r.len() == 2)
    })
    .await
    .expect("the panel on the next page");
    assert_eq!(rows[0].1, "no-match");
    assert_eq!(rows[0].2, r#"path is "/other", wanted: equal to "/""#);

    // A bare `?sitehook_debug` says nothing either way: tracing stays on.
    browser
        .goto(&format!("{origin}/other?sitehook_debug"))
        .await;
    let trace = browser.trace().await;
    assert_eq!(trace["debug"], true, "{trace}");

    let violations: Value = browser.eval("return window.violations", json!([])).await;
    assert_eq!(violations, json!([]), "nothing broke the page's CSP");

    // ?sitehook_debug=0 ends it: no panel, no trace lines.
    browser
        .goto(&format!("{origin}/other?sitehook_debug=0"))
        .await;
    let trace = browser.trace().await;
    assert!(trace.get("debug").is_none(), "{trace}");
    assert!(trace["triggers"][0].get("why").is_none(), "{trace}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        panel(&browser).await.is_none(),
        "no panel once tracing is off"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_debug_parameter_does_nothing_unless_the_config_allows_it() {
    let site = Site::bind().await;
    let relay = TestRelay::demo_for(&site).await;
    let origin = site.origin.clone();
    let page = format!(
        "<!doctype html><html><head><script src=\"/config.js\"></script>\
         <script async src=\"http://{}/sitehook.js\"></script></head><body></body></html>",
        relay.addr
    );
    let config = r#"window.sitehookConfig = { profile: { profileid: "p-1" },
      triggers: [{ id: "never", if: { path: { equals: "/nowhere" } }, webhook: "crm-lead" }] };"#;
    site.serve_files(
        vec![
            ("/", "text/html", page),
            ("/config.js", "text/javascript", config.to_owned()),
        ],
        "default-src * 'unsafe-inline' 'wasm-unsafe-eval'".to_owned(),
    );
    let browser = Browser::start().await;
    browser.goto(&format!("{origin}/?sitehook_debug=1")).await;
    let trace = browser.trace().await;
    assert!(trace.get("debug").is_none(), "{trace}");
    assert_eq!(trace["triggers"][0]["result"], "no-match");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(panel(&browser).await.is_none());
}

/// Evaluations published before the panel's script has loaded are listed too: on an
/// item page where nothing fires, the page view's and the item view's traces come
/// back to back, before the panel exists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_panel_lists_what_was_evaluated_before_it_loaded() {
    let site = Site::bind().await;
    let relay = TestRelay::demo_for(&site).await;
    let html = format!(
        r#"<!doctype html><html><head><script>
window.sitehookConfig = {{
  debug: true,
  profile: {{ profileid: "p-9" }},
  pages: {{ item: {{ path: {{ startsWith: "/" }} }} }},
  triggers: [{{ id: "never", if: {{ path: {{ equals: "/nowhere" }} }}, webhook: "crm-lead" }}]
}};</script>
<script async src="http://{}/sitehook.js"></script></head><body></body></html>"#,
        relay.addr
    );
    let url = site.serve(html);
    let browser = Browser::start().await;
    browser.goto(&url).await;
    let listed = poll(Duration::from_secs(15), || async {
        let v = panel_events(&browser).await;
        (v.len() == 2).then_some(v)
    })
    .await
    .expect("the panel lists both evaluations");
    assert_eq!(
        listed,
        [
            ("item_view /".to_owned(), true),
            ("page_view /".to_owned(), false)
        ]
    );
    let trace = browser.trace().await;
    assert_eq!(trace["debug"], true, "{trace}");
}

/// With `debug: true` the console says, per evaluation, each trigger's result and,
/// when it did not fire, the first condition that failed; and which events were
/// sent once the relay took them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_prints_each_trigger_and_what_was_sent_to_the_console() {
    let site = Site::bind().await;
    let relay = TestRelay::demo_for(&site).await;
    let html = format!(
        r#"<!doctype html><html><head><title>Shop</title><script>
window.logs = [];
var log = console.log.bind(console);
console.log = function (m) {{ window.logs.push(String(m)); log(m); }};
window.sitehookConfig = {{
  debug: true,
  profile: {{ profileid: "p-dbg" }},
  triggers: [
    {{ id: "pricing", webhook: "crm-lead", if: {{ path: {{ startsWith: "/pricing" }} }} }},
    {{ id: "any-page", webhook: "product-view" }}
  ]
}};</script>
<script async src="http://{addr}/sitehook.js"></script></head><body></body></html>"#,
        addr = relay.addr
    );
    let (browser, _) = site.open(html).await;
    let trace = browser.trace().await;
    let id = trace["sent"][0]
        .as_str()
        .expect("one event sent")
        .to_owned();
    let logs = poll(Duration::from_secs(15), || async {
        let logs: Vec<String> =
            serde_json::from_value(browser.eval("return window.logs", json!([])).await)
                .unwrap_or_default();
        logs.iter()
            .any(|l| l.contains("sent event"))
            .then_some(logs)
    })
    .await
    .expect("the console says what was sent");
    assert_eq!(
        logs,
        [
            r#"sitehook: trigger "pricing" on page_view /: no-match (path is "/", wanted: starting with "/pricing")"#.to_owned(),
            r#"sitehook: trigger "any-page" on page_view /: fired"#.to_owned(),
            format!("sitehook: sent event {id} to the relay"),
        ]
    );
}
