//! The snippet on real sites, in headless Chromium with the real relay: single-page
//! app navigation, the queue stub, consent, identify / reset, the offline queue and
//! Stop timers across reloads, and conditions that wait for time to pass.

use serde_json::{Value, json};

use crate::util::webdriver::Browser;
use crate::util::{Site, TestRelay, header, poll};
use crate::{CAPTURE_WARNINGS, page_script_ran, result_of, sent};

/// A page on `site` that loads the snippet from `relay`, after `head` (a script).
fn page(relay: &TestRelay, head: &str) -> String {
    format!(
        r#"<!doctype html><html><head><title>Shop</title>
<script>{CAPTURE_WARNINGS}
{head}</script>
<script async src="http://{addr}/sitehook.js"></script>
</head><body><p id="ok">page script ran</p></body></html>"#,
        addr = relay.addr
    )
}

/// Runs `script` on the page and returns the next trace the snippet publishes.
async fn after(browser: &Browser, script: &str) -> Value {
    browser
        .eval(&format!("window.sitehook.last = null; {script}"), json!([]))
        .await;
    browser.trace().await
}

/// The latest trace, once it is the trace of `event`.
async fn trace_of(browser: &Browser, event: &str) -> Value {
    poll(std::time::Duration::from_secs(15), || async {
        let t = browser.trace().await;
        (t["event"] == event).then_some(t)
    })
    .await
    .unwrap_or_else(|| panic!("no trace of {event} within 15s"))
}

/// Runs `script` on the page and returns the first trace of `event` it publishes.
async fn trace_of_after(browser: &Browser, script: &str, event: &str) -> Value {
    browser
        .eval(&format!("window.sitehook.last = null; {script}"), json!([]))
        .await;
    trace_of(browser, event).await
}

/// The stored history of `profile`: `[(event, path)]`, oldest first.
async fn stored_history(browser: &Browser, profile: &str) -> Vec<(String, String)> {
    let text = browser
        .eval(
            "return localStorage.getItem('sitehook:v1:history:' + arguments[0])",
            json!([profile]),
        )
        .await;
    let Some(text) = text.as_str() else {
        return Vec::new();
    };
    let list: Value = serde_json::from_str(text).expect("the stored history is JSON");
    list.as_array()
        .expect("the stored history is a list")
        .iter()
        .map(|v| {
            (
                v["e"].as_str().unwrap_or("page_view").to_owned(),
                v["p"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// The stored history of `profile` as `"<event> <path>"` lines, oldest first.
async fn history_lines(browser: &Browser, profile: &str) -> Vec<String> {
    stored_history(browser, profile)
        .await
        .into_iter()
        .map(|(e, p)| format!("{e} {p}"))
        .collect()
}

/// The `sitehook:` keys in the page's `localStorage`.
async fn storage_keys(browser: &Browser) -> Vec<String> {
    let keys = browser
        .eval(
            "return Object.keys(localStorage).filter(function (k) { return k.indexOf('sitehook:') === 0; }).sort()",
            json!([]),
        )
        .await;
    serde_json::from_value(keys).expect("a list of keys")
}

/// A script that returns the stored outbox: its entries (one key each), oldest first.
const READ_OUTBOX: &str = "return Object.keys(localStorage)
  .filter(function (k) { return k.indexOf('sitehook:v1:outbox:') === 0; })
  .map(function (k) { return JSON.parse(localStorage.getItem(k)); })
  .sort(function (a, b) { return a.t - b.t; })";

/// A page script that stores the outbox entries in `q` (an array) as the loader does.
const STORE_OUTBOX: &str = r#"q.forEach(function (e) { localStorage.setItem("sitehook:v1:outbox:" + e.i, JSON.stringify(e)); });"#;

/// The stored outbox's entries, oldest first.
async fn outbox(browser: &Browser) -> Vec<Value> {
    let entries = browser.eval(READ_OUTBOX, json!([])).await;
    serde_json::from_value(entries).expect("a list of outbox entries")
}

/// Waits up to 10 s for the outbox to empty (no `sitehook:v1:outbox` key of either
/// format left) and fails with `why` if it does not.
async fn assert_outbox_empties(browser: &Browser, why: &str) {
    let empty = poll(std::time::Duration::from_secs(10), || async {
        storage_keys(browser)
            .await
            .iter()
            .all(|k| !k.starts_with("sitehook:v1:outbox"))
            .then_some(())
    })
    .await;
    assert!(empty.is_some(), "{why}: {:?}", storage_keys(browser).await);
}

/// The ids of the events in the stored outbox, oldest first.
async fn outbox_ids(browser: &Browser) -> Vec<String> {
    outbox(browser)
        .await
        .iter()
        .map(|e| e["i"].as_str().expect("an event id").to_owned())
        .collect()
}

/// Asserts that `trigger` fired in `trace` but nothing was sent, for the reason the
/// trace's error gives, which contains `why`.
fn assert_fired_unsent(trace: &Value, trigger: &str, why: &str) {
    assert_eq!(result_of(trace, trigger), "fired", "{trace}");
    assert!(sent(trace).is_empty(), "{trace}");
    assert!(
        trace["error"].as_str().is_some_and(|e| e.contains(why)),
        "{trace}"
    );
}

async fn warnings(browser: &Browser) -> Vec<String> {
    serde_json::from_value(browser.eval("return window.warnings", json!([])).await)
        .expect("the captured warnings")
}

/// The captured warnings, once there is one (within 15 s).
async fn warnings_once_there(browser: &Browser) -> Vec<String> {
    poll(std::time::Duration::from_secs(15), || async {
        let w = warnings(browser).await;
        (!w.is_empty()).then_some(w)
    })
    .await
    .expect("a warning within 15 s")
}

/// `pushState`, `replaceState`, `hashchange` and `popstate` each count a page view
/// only when the page's URL really changed (not for an anchor or campaign
/// parameters); URL patterns in the config declare item pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_page_app_navigations_count_one_view_per_url_change() {
    let site = Site::bind().await;
    let relay = TestRelay::demo_for(&site).await;
    let html = page(
        &relay,
        r##"window.sitehookConfig = {
  profile: { profileid: "p-spa" },
  pages: { item: { path: { startsWith: "/products/" } } },
  triggers: [
    { id: "pricing-3", webhook: "product-view", stop: { restartAfter: "never" }, if: { all: [
      { path: { equals: "/pricing" } },
      { count: { of: { path: { equals: "/pricing" } }, atLeast: 3, within: "1d" } }
    ] } },
    { id: "product", on: "item_view", webhook: "crm-lead", if: { referrer: { endsWith: "#/cart" } } }
  ]
};"##,
    );
    let (browser, _) = site.open(html).await;
    let trace = browser.trace().await;
    assert_eq!(trace["path"], "/", "{trace}");
    assert_eq!(result_of(&trace, "pricing-3"), "no-match", "{trace}");

    let trace = after(&browser, "history.pushState({}, '', '/pricing')").await;
    assert_eq!(
        (&trace["event"], &trace["path"]),
        (&json!("page_view"), &json!("/pricing")),
        "{trace}"
    );
    assert_eq!(
        result_of(&trace, "pricing-3"),
        "no-match",
        "first view: {trace}"
    );

    // Campaign parameters added and removed (as sites do after landing), each in a
    // call of its own: no new view.
    for url in ["/pricing?utm_source=news&gclid=x", "/pricing"] {
        browser
            .eval(
                &format!("history.replaceState({{}}, '', '{url}')"),
                json!([]),
            )
            .await;
    }
    // The same URL again, twice, and an anchor: none is a navigation. A new query
    // string is one.
    browser
        .eval(
            "history.pushState({}, '', '/pricing'); history.replaceState({}, '', '/pricing'); location.hash = 'a';",
            json!([]),
        )
        .await;
    let trace = after(&browser, "history.pushState({}, '', '/pricing?plan=team')").await;
    assert_eq!(
        result_of(&trace, "pricing-3"),
        "no-match",
        "the repeated pushState, the replaceState and the anchor must not count: {trace}"
    );

    // Back to /pricing#a (popstate, and hashchange: one view), the third.
    let trace = after(&browser, "history.back()").await;
    assert_eq!(result_of(&trace, "pricing-3"), "fired", "{trace}");
    assert_eq!(sent(&trace).len(), 1, "{trace}");
    // A hash route is a page of its own.
    let trace = after(&browser, "location.hash = '#/cart'").await;
    assert_eq!(result_of(&trace, "pricing-3"), "stopped", "{trace}");
    let views = history_lines(&browser, "p-spa").await;
    assert_eq!(
        views,
        [
            "page_view /",
            "page_view /pricing",
            "page_view /pricing",
            "page_view /pricing",
            "page_view /pricing"
        ],
        "one view per page change"
    );
    let got = relay.wait_received(1).await;
    assert_eq!(
        got[0]["uri"], "/demo/receiver/hook/product-view?automationid=A-18&profileid=p-spa",
        "{:#}",
        got[0]
    );

    // A product URL is an item page by the config's pattern: a page view, then an
    // item view, whose referrer is the previous URL of the app.
    after(&browser, "history.pushState({}, '', '/products/red-shoes')").await;
    // The page view's trace comes first; the item view's once the relay answered.
    let trace = trace_of(&browser, "item_view").await;
    assert_eq!(result_of(&trace, "product"), "fired", "{trace}");
    let got = relay.wait_received(2).await;
    assert_eq!(
        got[1]["uri"], "/demo/receiver/hook/crm-lead",
        "{:#}",
        got[1]
    );
    let body: Value = serde_json::from_str(got[1]["body"].as_str().unwrap_or("")).unwrap();
    assert_eq!(body["profileid"], "p-spa", "{body}");
    assert!(warnings(&browser).await.is_empty());
}

/// A router that declares the page from its own `popstate` listener, registered
/// before the snippet's (the snippet loads async): the declaration waits for the
/// page view of the address it was made on, and follows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_routers_popstate_listener_declares_the_page_after_its_view() {
    let site = Site::bind().await;
    let relay = TestRelay::demo_for(&site).await;
    let html = page(
        &relay,
        r#"window.addEventListener("popstate", function () {
  sitehook.page({ type: "item", item: { id: "from-router" } });
});
window.sitehookConfig = {
  profile: { profileid: "p-pop" },
  triggers: [{ id: "item", on: "item_view", webhook: "crm-lead" }]
};"#,
    );
    let (browser, _) = site.open(html).await;
    browser.trace().await;
    after(&browser, "history.pushState({}, '', '/one')").await;
    after(&browser, "history.pushState({}, '', '/two')").await;
    let trace = trace_of_after(&browser, "history.back()", "item_view").await;
    assert_eq!(result_of(&trace, "item"), "fired", "{trace}");
    let views = history_lines(&browser, "p-pop").await;
    assert_eq!(
        views,
        [
            "page_view /",
            "page_view /one",
            "page_view /two",
            "page_view /one",
            "item_view /one"
        ]
    );
    assert!(warnings(&browser).await.is_empty());
}

/// Calls made before the wasm loaded (`window.sitehook = window.sitehook || []`) are
/// replayed in order: who the visitor is first, then the page view, then the tracked
/// events. A second copy of the script is harmless. The page's address has a query
/// with a campaign parameter (the loader keys each queued call by its page).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_calls_are_replayed_in_order_and_a_second_script_tag_is_harmless() {
    let site = Site::bind().await;
    let relay = TestRelay::demo_for(&site).await;
    let html = page(
        &relay,
        r#"history.replaceState({}, "", "?q=shoes&utm_source=news");
window.sitehook = window.sitehook || [];
sitehook.push(["track", "signup", { plan: "pro" }]);
sitehook.push(["identify", { profileid: "p-q", email: "q\"é@example.com", phone: 555 }]);
window.sitehookConfig = {
  triggers: [
    { id: "welcome", if: { known: true }, webhook: "product-view" },
    { id: "signed-up", on: "signup", if: { "props.plan": { in: ["pro", "team"] } }, webhook: "crm-lead" }
  ]
};"#,
    )
    .replace(
        "</head>",
        &format!(
            "<script async src=\"http://{}/sitehook.js\"></script></head>",
            relay.addr
        ),
    );
    let (browser, _) = site.open(html).await;
    let got = relay.wait_received(2).await;
    let mut uris: Vec<&str> = got.iter().filter_map(|h| h["uri"].as_str()).collect();
    uris.sort();
    assert_eq!(
        uris,
        [
            "/demo/receiver/hook/crm-lead",
            "/demo/receiver/hook/product-view?automationid=A-18&profileid=p-q"
        ],
        "the page view and the queued signup, both for the identified profile"
    );
    let crm = got
        .iter()
        .find(|h| h["uri"] == "/demo/receiver/hook/crm-lead")
        .unwrap();
    let body: Value = serde_json::from_str(crm["body"].as_str().unwrap_or("")).unwrap();
    assert_eq!(
        body,
        json!({"profileid": "p-q", "email": "q\"é@example.com", "automationid": "A-17"}),
        "the signup event carried the profile from the queued identify (a quote and a non-ASCII letter as they were; the phone, a number, is not forwarded)"
    );

    // After loading, the same API works directly, and reports what it decided.
    let trace = after(&browser, "sitehook.track('signup', { plan: 'basic' })").await;
    assert_eq!(trace["event"], "signup", "{trace}");
    assert_eq!(result_of(&trace, "signed-up"), "no-match", "{trace}");
    let warned = warnings(&browser).await;
    assert_eq!(
        warned,
        ["sitehook: the script is included twice; the second copy does nothing"],
        "one line for the second script tag, nothing else"
    );
    let history = stored_history(&browser, "p-q").await;
    assert_eq!(
        history.iter().map(|(e, _)| e.as_str()).collect::<Vec<_>>(),
        ["page_view", "signup", "signup"],
        "one page view although the script was included twice"
    );
    assert_eq!(
        browser.eval("return location.search", json!([])).await,
        "?q=shoes&utm_source=news",
        "the calls were queued on an address with a query"
    );
}

/// A consent tool that queues `consent(true)` before the page queues who the visitor
/// is and what the page is: the page view still comes after all of them, for the
/// known profile, with the declared item.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_consent_leaves_the_page_view_after_the_other_queued_calls() {
    let site = Site::bind().await;
    let relay = TestRelay::demo_for(&site).await;
    let html = page(
        &relay,
        r#"window.sitehook = window.sitehook || [];
sitehook.push(["consent", true]);
sitehook.push(["identify", { profileid: "p-cq" }]);
sitehook.push(["page", { type: "item", item: { id: "sku-9", category: "shoes" } }]);
window.sitehookConfig = {
  consent: false,
  triggers: [
    { id: "known-view", webhook: "product-view" },
    { id: "item", on: "item_view", if: { "item.category": { equals: "shoes" } }, webhook: "crm-lead" }
  ]
};"#,
    );
    let (browser, _) = site.open(html).await;
    let got = relay.wait_received(2).await;
    let mut uris: Vec<&str> = got.iter().filter_map(|h| h["uri"].as_str()).collect();
    uris.sort();
    assert_eq!(
        uris,
        [
            "/demo/receiver/hook/crm-lead",
            "/demo/receiver/hook/product-view?automationid=A-18&profileid=p-cq"
        ],
        "{got:#?}"
    );
    assert_eq!(
        history_lines(&browser, "p-cq").await,
        ["page_view /", "item_view /"]
    );
    assert!(warnings(&browser).await.is_empty());
}

/// With `consent: false` nothing is evaluated, stored or sent; `consent(true)`
/// evaluates the current page at once; `consent(false)` deletes what was stored.
/// An item declared while consent was off declares only the page it was made on.
/// With `respectPrivacySignals`, Global Privacy Control and Do Not Track keep
/// everything off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_off_stores_nothing_and_consent_given_later_evaluates_the_page() {
    let site = Site::bind().await;
    let gpc_site = Site::bind().await;
    let dnt_site = Site::bind().await;
    let relay = TestRelay::demo_for_all(&[&site, &gpc_site, &dnt_site]).await;
    let config = r#"window.sitehookConfig = {
  consent: false,
  respectPrivacySignals: true,
  profile: { profileid: "p-c" },
  triggers: [
    { id: "any-page", webhook: "product-view" },
    { id: "item", on: "item_view", webhook: "crm-lead" }
  ]
};"#;
    let (browser, _) = site.open(page(&relay, config)).await;
    let trace = browser.trace().await;
    assert_eq!(trace["consent"], false, "{trace}");
    assert!(sent(&trace).is_empty(), "{trace}");
    browser
        .eval(
            "sitehook.track('signup'); sitehook.page({ type: 'item', item: { id: 'shoe' } }); history.pushState({}, '', '/next');",
            json!([]),
        )
        .await;
    assert_eq!(storage_keys(&browser).await, Vec::<String>::new());

    let trace = after(&browser, "sitehook.consent(true)").await;
    assert_eq!(trace["consent"], true, "{trace}");
    assert_eq!(trace["path"], "/next", "{trace}");
    assert_eq!(result_of(&trace, "any-page"), "fired", "{trace}");
    assert_eq!(sent(&trace).len(), 1, "{trace}");
    // The item was declared on `/`, not on `/next`: no item view (the relay gets one
    // webhook, and only one in all).
    let got = relay.wait_received(1).await;
    assert_eq!(
        got[0]["uri"], "/demo/receiver/hook/product-view?automationid=A-18&profileid=p-c",
        "{:#}",
        got[0]
    );
    assert!(
        storage_keys(&browser)
            .await
            .contains(&"sitehook:v1:history:p-c".to_owned())
    );

    // Withdrawn: everything stored goes, and later navigations stay off.
    browser.eval("sitehook.consent(false)", json!([])).await;
    assert_eq!(storage_keys(&browser).await, Vec::<String>::new());
    let trace = after(&browser, "history.pushState({}, '', '/later')").await;
    assert_eq!(trace["consent"], false, "{trace}");
    assert_eq!(storage_keys(&browser).await, Vec::<String>::new());
    // An item declared now, on this page, counts once consent is back.
    browser
        .eval(
            "sitehook.page({ type: 'item', item: { id: 'boot' } })",
            json!([]),
        )
        .await;
    let trace = after(&browser, "sitehook.consent(true)").await;
    assert_eq!(trace["path"], "/later", "{trace}");
    let trace = trace_of(&browser, "item_view").await;
    assert_eq!(result_of(&trace, "item"), "fired", "{trace}");
    browser.eval("sitehook.consent(false)", json!([])).await;

    // Global Privacy Control and Do Not Track win over consent given by the page.
    for (signal_site, signal) in [
        (
            gpc_site,
            "Object.defineProperty(navigator, 'globalPrivacyControl', { get: function () { return true; } });",
        ),
        (
            dnt_site,
            "Object.defineProperty(navigator, 'doNotTrack', { get: function () { return '1'; } });",
        ),
    ] {
        let url = signal_site.serve(page(
            &relay,
            &format!(
                "{signal}\n{}",
                config.replace("consent: false", "consent: true")
            ),
        ));
        browser.goto(&url).await;
        let trace = browser.trace().await;
        assert_eq!(trace["consent"], false, "{signal}: {trace}");
        browser.eval("sitehook.consent(true)", json!([])).await;
        assert_eq!(
            storage_keys(&browser).await,
            Vec::<String>::new(),
            "{signal}"
        );
        let warned = warnings(&browser).await;
        assert!(
            warned
                .iter()
                .any(|w| w.contains("Global Privacy Control or Do Not Track")),
            "{signal}: {warned:#?}"
        );
    }
    // The first view's, and the page view and item of `/later`.
    assert_eq!(relay.received().await.len(), 3, "nothing more was sent");
}

/// Signing in brings the anonymous views along; signing out starts anonymous and
/// empty; history and Stop timers are per profile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identify_and_reset_switch_history_and_stop_timers_per_profile() {
    let site = Site::bind().await;
    let relay = TestRelay::demo_for(&site).await;
    let html = page(
        &relay,
        r#"window.sitehookConfig = {
  triggers: [{ id: "pricing-twice", webhook: "product-view", stop: { restartAfter: "1d" }, if: { all: [
    { path: { equals: "/pricing" } },
    { count: { of: { path: { equals: "/pricing" } }, atLeast: 2, within: "1d" } }
  ] } }]
};"#,
    );
    let (browser, _) = site.open(html).await;
    browser.trace().await;
    let trace = after(&browser, "history.pushState({}, '', '/pricing?a')").await;
    assert_eq!(result_of(&trace, "pricing-twice"), "anonymous", "{trace}");

    let trace = after(
        &browser,
        "sitehook.identify({ profileid: 'p-i' }); history.pushState({}, '', '/pricing?b')",
    )
    .await;
    assert_eq!(
        result_of(&trace, "pricing-twice"),
        "fired",
        "the anonymous pricing view counts for the profile that signed in: {trace}"
    );
    assert_eq!(stored_history(&browser, "p-i").await.len(), 3);
    assert_eq!(stored_history(&browser, "").await, []);

    let trace = after(
        &browser,
        "sitehook.reset(); history.pushState({}, '', '/pricing?c')",
    )
    .await;
    assert_eq!(result_of(&trace, "pricing-twice"), "anonymous", "{trace}");
    assert_eq!(
        stored_history(&browser, "")
            .await
            .into_iter()
            .map(|(_, p)| p)
            .collect::<Vec<_>>(),
        ["/pricing"],
        "signed out: a fresh anonymous history"
    );

    // Another profile has its own Stop: it fires; back to the first, it rests.
    let trace = after(
        &browser,
        "sitehook.identify({ profileid: 'p-j' }); history.pushState({}, '', '/pricing?d')",
    )
    .await;
    assert_eq!(result_of(&trace, "pricing-twice"), "fired", "{trace}");
    let trace = after(
        &browser,
        "sitehook.identify({ profileid: 'p-i' }); history.pushState({}, '', '/pricing?e')",
    )
    .await;
    assert_eq!(result_of(&trace, "pricing-twice"), "stopped", "{trace}");

    let got = relay.wait_received(2).await;
    let profiles: Vec<&str> = got.iter().filter_map(|h| h["uri"].as_str()).collect();
    assert_eq!(
        profiles,
        [
            "/demo/receiver/hook/product-view?automationid=A-18&profileid=p-i",
            "/demo/receiver/hook/product-view?automationid=A-18&profileid=p-j"
        ]
    );
}

/// An event fired while the relay is down waits in the outbox; the trigger's Stop
/// holds across reloads; once the relay is back, the waiting event arrives with the
/// id it was given in the browser.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_wait_offline_and_arrive_with_their_id_when_the_relay_is_back() {
    let site = Site::bind().await;
    let origin = site.origin.clone();
    let script = TestRelay::demo_for(&site).await;
    // The relay the events go to: a port that nothing listens on, yet.
    let reserved = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let events_addr = reserved.local_addr().unwrap();
    drop(reserved);
    let html = page(
        &script,
        &format!(
            r#"window.sitehookConfig = {{
  relay: "http://{events_addr}/",
  profile: {{ profileid: "p-o" }},
  triggers: [{{ id: "once", webhook: "product-view", stop: {{ restartAfter: "never" }} }}]
}};"#
        ),
    );
    let (browser, url) = site.open(html).await;
    let trace = browser.trace().await;
    assert_fired_unsent(&trace, "once", "could not reach the relay");
    let queued = outbox(&browser).await;
    assert_eq!(queued.len(), 1, "{queued:?}");
    let id = queued[0]["i"].as_str().expect("an event id").to_owned();

    // Still down on the next page: the Stop holds (the event is waiting, not lost).
    browser.goto(&url).await;
    let trace = browser.trace().await;
    assert_eq!(result_of(&trace, "once"), "stopped", "{trace}");

    let listener = tokio::net::TcpListener::bind(events_addr)
        .await
        .expect("the reserved port is free again");
    let events = TestRelay::demo_on(listener, "k", move |c| {
        c.allowed_origins.push(origin.parse().unwrap())
    })
    .await;
    // The retry comes on its backoff timer, on this page, without a reload.
    let got = events.wait_received(1).await;
    assert_eq!(
        header(&got[0], "webhook-id"),
        Some(id.as_str()),
        "{:#}",
        got[0]
    );
    assert_outbox_empties(&browser, "the outbox empties once the relay accepted").await;
    assert!(script.received().await.is_empty());
}

/// Time on page and an abandoned cart (an item view, then a cart update, and no
/// conversion for a while) fire on the snippet's timer, without another event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dwell_and_abandoned_cart_fire_on_a_timer() {
    let site = Site::bind().await;
    let relay = TestRelay::demo_for(&site).await;
    let html = page(
        &relay,
        r#"window.sitehook = window.sitehook || [];
sitehook.push(["page", { type: "item", item: { id: "sku-1", name: "Red shoes", category: "shoes", price: 59.99 } }]);
window.sitehookConfig = {
  profile: { profileid: "p-t", email: "t@example.com" },
  triggers: [
    { id: "read-2s", webhook: "product-view", if: { dwell: { gte: 2 } } },
    { id: "abandoned", webhook: "crm-lead", stop: { restartAfter: "session" }, if: { sequence: {
      steps: [
        { all: [{ event: { equals: "item_view" } }, { "item.category": { equals: "SHOES", ignoreCase: true } }] },
        { event: { equals: "cart_update" } }
      ],
      absent: { event: { equals: "conversion" } },
      for: "3s",
      within: "1h"
    } } }
  ]
};"#,
    );
    let (browser, _) = site.open(html).await;
    // The page view (nothing fired), then the declared item view, which no trigger
    // listens to.
    let trace = browser.trace().await;
    assert_eq!(
        (&trace["event"], &trace["triggers"]),
        (&json!("item_view"), &json!([])),
        "{trace}"
    );
    let trace = after(&browser, "sitehook.track('cart_update', { value: 59.99 })").await;
    assert_eq!(trace["event"], "cart_update", "{trace}");

    let got = relay.wait_received(2).await;
    let mut uris: Vec<&str> = got.iter().filter_map(|h| h["uri"].as_str()).collect();
    uris.sort();
    assert_eq!(
        uris,
        [
            "/demo/receiver/hook/crm-lead",
            "/demo/receiver/hook/product-view?automationid=A-18&profileid=p-t"
        ]
    );
    let history = stored_history(&browser, "p-t").await;
    assert_eq!(
        history.iter().map(|(e, _)| e.as_str()).collect::<Vec<_>>(),
        ["page_view", "item_view", "cart_update"]
    );
}

/// Storage that is blocked (a privacy setting, some embedded browsers), or that refuses every write (a full quota), does not
/// stop the snippet: the page keeps the history, the Stop timers and the outbox in
/// memory. The item view fires and is sent; of two sign-ups, the first fires, and
/// the second is held by the first's Stop while a count over the page's own history
/// sees both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_or_full_storage_keeps_history_and_stop_timers_for_the_page() {
    let sites = [Site::bind().await, Site::bind().await];
    let relay = TestRelay::demo_for_all(&[&sites[0], &sites[1]]).await;
    let blocked = r#"Object.defineProperty(window, "localStorage", { get: function () { throw new DOMException("blocked", "SecurityError"); } });"#;
    let full = r#"var set = Storage.prototype.setItem;
Storage.prototype.setItem = function (k, v) {
  if (k.indexOf("sitehook:") === 0) throw new DOMException("the quota is full", "QuotaExceededError");
  return set.call(this, k, v);
};"#;
    let config = r#"window.sitehookConfig = {
  profile: { profileid: who },
  pages: { item: { path: { startsWith: "/" } } },
  triggers: [
    { id: "item", on: "item_view", webhook: "product-view" },
    { id: "signed-up", on: "signup", webhook: "crm-lead", stop: { restartAfter: "30d" } },
    { id: "twice", on: "signup", webhook: "crm-lead", if: { count: { of: { event: { equals: "signup" } }, atLeast: 2 } } }
  ]
};"#;
    let browser = Browser::start().await;
    for (n, (site, storage)) in sites.into_iter().zip([blocked, full]).enumerate() {
        browser
            .goto(&site.serve(page(
                &relay,
                &format!("var who = \"p-b{n}\";\n{storage}\n{config}"),
            )))
            .await;
        // The page view's trace comes first; the item view's once the relay answered.
        let trace = trace_of(&browser, "item_view").await;
        assert_eq!(result_of(&trace, "item"), "fired", "{trace}");
        assert_eq!(sent(&trace).len(), 1, "{trace}");
        let trace = after(&browser, "sitehook.track('signup')").await;
        assert_eq!(result_of(&trace, "signed-up"), "fired", "{trace}");
        assert_eq!(result_of(&trace, "twice"), "no-match", "{trace}");
        let trace = after(&browser, "sitehook.track('signup')").await;
        assert_eq!(result_of(&trace, "signed-up"), "stopped", "{trace}");
        assert_eq!(result_of(&trace, "twice"), "fired", "{trace}");
        let got = relay.wait_received(3 * (n + 1)).await;
        assert_eq!(
            got[3 * n]["uri"],
            format!("/demo/receiver/hook/product-view?automationid=A-18&profileid=p-b{n}"),
            "{got:#?}"
        );
        assert_eq!(warnings(&browser).await, Vec::<String>::new());
        assert!(page_script_ran(&browser).await);
        if storage == full {
            assert_eq!(storage_keys(&browser).await, Vec::<String>::new());
        }
    }
}

/// A site that pins the script with Subresource Integrity: the right hash loads it
/// (and the script pins the wasm it fetches); a wrong one is blocked by the browser,
/// and the page carries on without it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_pinned_with_its_integrity_hash_loads_and_a_wrong_hash_is_blocked() {
    use base64::Engine as _;
    use sha2::Digest as _;
    let site = Site::bind().await;
    let other = Site::bind().await;
    let third = Site::bind().await;
    let relay = TestRelay::demo_for_all(&[&site, &other, &third]).await;
    let script = relay
        .http
        .get(relay.url("/sitehook.js"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let hash = format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(&script))
    );
    let pinned = |integrity: &str, profile: &str, triggers: &str| {
        page(
            &relay,
            &format!(
                r#"window.sitehookConfig = {{ profile: {{ profileid: "{profile}" }}, triggers: [{triggers}] }};"#
            ),
        )
        .replace(
            "<script async src=",
            &format!("<script async integrity=\"{integrity}\" crossorigin=\"anonymous\" src="),
        )
    };
    let any = r#"{ id: "any", webhook: "product-view" }"#;
    let good = site.serve(pinned(&hash, "p-sri", any));
    let bad = other.serve(pinned(
        "sha384-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "p-sri",
        any,
    ));
    // A config with a problem: the explaining build takes over, fetched with its own
    // hash from the pinned script.
    let explained = third.serve(pinned(
        &hash,
        "p-sri-2",
        r#"{ id: "any", webhook: "product-view" }, { id: "typo", webhok: "crm-lead" }"#,
    ));
    let browser = Browser::start().await;
    browser.goto(&good).await;
    let trace = browser.trace().await;
    assert_eq!(result_of(&trace, "any"), "fired", "{trace}");
    relay.wait_received(1).await;
    // A correct config, debugging off: the visitor build alone did the work.
    assert_eq!(crate::wasm_fetched(&browser).await, ["sitehook_bg.wasm"]);

    browser.goto(&explained).await;
    let trace = browser.trace().await;
    assert_eq!(result_of(&trace, "any"), "fired", "{trace}");
    relay.wait_received(2).await;
    assert_eq!(
        crate::wasm_fetched(&browser).await,
        ["sitehook_bg.wasm", "sitehook-debug.wasm"]
    );

    browser.goto(&bad).await;
    let loaded = poll(std::time::Duration::from_secs(3), || async {
        let v = browser
            .eval("return window.__sitehookLoaded || null", json!([]))
            .await;
        (!v.is_null()).then_some(())
    })
    .await;
    assert!(loaded.is_none(), "a script with a wrong hash must not run");
    assert!(page_script_ran(&browser).await);
    assert_eq!(relay.received().await.len(), 2, "nothing more was sent");
}

/// A Content-Security-Policy without `'wasm-unsafe-eval'`, a browser without
/// WebAssembly (iOS Lockdown Mode), and a page that removed `fetch`: one console line
/// naming the fix, no trace, no error thrown into the page, and the page's own
/// scripts run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_webassembly_the_snippet_says_so_once_and_the_page_works() {
    let site = Site::bind().await;
    let bare = Site::bind().await;
    let no_fetch = Site::bind().await;
    let bare_origin = bare.origin.clone();
    let site_origin = site.origin.clone();
    let no_fetch_origin = no_fetch.origin.clone();
    let relay = TestRelay::demo_for_all(&[&site, &bare, &no_fetch]).await;
    let relay_origin = format!("http://{}", relay.addr);
    let capture = "window.lines = []; window.errors = [];\
        window.addEventListener('error', function (e) { window.errors.push(String(e.message)); });\
        window.addEventListener('unhandledrejection', function (e) { window.errors.push(String(e.reason)); });\
        ['info', 'warn', 'error'].forEach(function (how) { var f = console[how].bind(console);\
          console[how] = function (m) { window.lines.push(how + ' ' + String(m)); f(m); }; });";
    let config = "window.sitehookConfig = { profile: { profileid: 'p-w' }, \
        triggers: [{ id: 'any', webhook: 'product-view' }] };";
    let page = |extra: &str| {
        format!(
            "<!doctype html><html><head><title>No wasm</title>\
             <script src=\"/setup.js\"></script>{extra}\
             <script async src=\"{relay_origin}/sitehook.js\"></script>\
             <script src=\"/after.js\"></script></head><body></body></html>"
        )
    };
    // The CSP allows the script and the relay, but not compiling WebAssembly.
    site.serve_files(
        vec![
            ("/", "text/html; charset=utf-8", page("")),
            ("/setup.js", "text/javascript", format!("{capture}{config}")),
            (
                "/after.js",
                "text/javascript",
                "window.pageScript = 'ran';".into(),
            ),
        ],
        format!("default-src 'none'; script-src 'self' {relay_origin}; connect-src {relay_origin}"),
    );
    no_fetch.serve_files(
        vec![
            (
                "/",
                "text/html; charset=utf-8",
                page("<script src=\"/nofetch.js\"></script>"),
            ),
            ("/setup.js", "text/javascript", format!("{capture}{config}")),
            (
                "/nofetch.js",
                "text/javascript",
                "window.fetch = undefined;".into(),
            ),
            (
                "/after.js",
                "text/javascript",
                "window.pageScript = 'ran';".into(),
            ),
        ],
        "default-src * 'unsafe-inline' 'wasm-unsafe-eval'".into(),
    );
    bare.serve_files(
        vec![
            (
                "/",
                "text/html; charset=utf-8",
                page("<script src=\"/nowasm.js\"></script>"),
            ),
            ("/setup.js", "text/javascript", format!("{capture}{config}")),
            (
                "/nowasm.js",
                "text/javascript",
                "window.WebAssembly = undefined;".into(),
            ),
            (
                "/after.js",
                "text/javascript",
                "window.pageScript = 'ran';".into(),
            ),
        ],
        "default-src * 'unsafe-inline'".into(),
    );
    let browser = Browser::start().await;
    for (url, want) in [
        (
            format!("{site_origin}/"),
            "info sitehook: could not start (",
        ),
        (
            format!("{bare_origin}/"),
            "info sitehook: WebAssembly is unavailable in this browser; triggers are off on this page",
        ),
        (
            format!("{no_fetch_origin}/"),
            "info sitehook: could not start (",
        ),
    ] {
        browser.goto(&url).await;
        let lines = poll(std::time::Duration::from_secs(15), || async {
            let lines: Vec<String> =
                serde_json::from_value(browser.eval("return window.lines", json!([])).await)
                    .unwrap_or_default();
            lines
                .iter()
                .any(|l| l.contains("sitehook:"))
                .then_some(lines)
        })
        .await
        .unwrap_or_else(|| panic!("no sitehook line on {url}"));
        let ours: Vec<&String> = lines.iter().filter(|l| l.contains("sitehook")).collect();
        assert_eq!(ours.len(), 1, "one line on {url}: {lines:#?}");
        assert!(ours[0].starts_with(want), "{url}: {ours:#?}");
        if want.contains("could not start") {
            assert!(
                ours[0].contains("script-src 'wasm-unsafe-eval'"),
                "the line names the CSP fix: {ours:#?}"
            );
        }
        assert_eq!(
            browser.eval("return window.errors", json!([])).await,
            json!([]),
            "nothing thrown into the page on {url}"
        );
        assert_eq!(
            browser.eval("return window.pageScript", json!([])).await,
            "ran"
        );
        assert_eq!(
            browser
                .eval(
                    "return window.sitehook && window.sitehook.last || null",
                    json!([])
                )
                .await,
            Value::Null,
            "no trace on {url}"
        );
    }
    assert!(relay.received().await.is_empty());
}

/// A config with a problem needs the explaining build; where it cannot be loaded (here
/// a Content-Security-Policy that allows only the visitor build's URL), one warning
/// says which file to serve, the page works, and the visitor build runs the triggers
/// without a problem.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_explaining_build_is_named_once_and_the_good_triggers_run() {
    let site = Site::bind().await;
    let origin = site.origin.clone();
    let relay = TestRelay::demo_for(&site).await;
    let relay_origin = format!("http://{}", relay.addr);
    let setup = format!(
        "{CAPTURE_WARNINGS} window.sitehookConfig = {{ profile: {{ profileid: 'p-m' }}, \
         triggers: [{{ id: 'typo', webhok: 'crm-lead' }}, {{ id: 'good', webhook: 'crm-lead' }}] }};"
    );
    let page = format!(
        "<!doctype html><html><head><title>Missing build</title>\
         <script src=\"/setup.js\"></script>\
         <script async src=\"{relay_origin}/sitehook.js\"></script></head>\
         <body><p id=\"ok\">page script ran</p></body></html>"
    );
    site.serve_files(
        vec![
            ("/", "text/html; charset=utf-8", page),
            ("/setup.js", "text/javascript", setup),
        ],
        // Paths in a source match exactly: the visitor build may load, the
        // explaining build may not.
        format!(
            "default-src 'none'; script-src 'self' 'wasm-unsafe-eval' {relay_origin}; \
             connect-src {relay_origin}/sitehook_bg.wasm {relay_origin}/v1/events"
        ),
    );
    let browser = Browser::start().await;
    browser.goto(&format!("{origin}/")).await;
    let warned = warnings_once_there(&browser).await;
    assert_eq!(warned.len(), 1, "{warned:#?}");
    assert!(
        warned[0].starts_with("sitehook: could not load sitehook-debug.wasm (")
            && warned[0].contains("serve it beside sitehook.js")
            && warned[0].contains("The triggers without a problem run"),
        "{warned:#?}"
    );
    assert!(page_script_ran(&browser).await);
    let got = relay.wait_received(1).await;
    assert_eq!(got[0]["uri"], "/demo/receiver/hook/crm-lead", "{got:#?}");
    let body: Value = serde_json::from_str(got[0]["body"].as_str().unwrap_or("")).unwrap();
    assert_eq!(body["profileid"], "p-m", "{body}");
    let trace = browser.trace().await;
    assert_eq!(result_of(&trace, "good"), "fired", "{trace}");
    assert!(
        trace["triggers"].as_array().is_some_and(|t| t.len() == 1),
        "the broken trigger is left out: {trace}"
    );
    assert!(
        !crate::wasm_fetched(&browser)
            .await
            .iter()
            .any(|f| f == "sitehook-debug.wasm"),
        "the explaining build was blocked"
    );
}

/// What the relay will never deliver leaves the outbox with a warning, and its
/// trigger's Stop is lifted, so it fires again on the next page: an event the relay
/// rejects (a webhook it does not have), and a whole batch refused with a 4xx (here
/// a `relay` that answers 404).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_events_are_said_once_and_do_not_leave_their_trigger_resting() {
    let site = Site::bind().await;
    let other = Site::bind().await;
    let other_origin = other.origin.clone();
    let relay = TestRelay::demo_for_all(&[&site, &other]).await;
    let config = |extra: &str, webhook: &str| {
        format!(
            r#"window.sitehookConfig = {{ {extra} profile: {{ profileid: "p-r" }},
  triggers: [{{ id: "any", webhook: "{webhook}", stop: {{ restartAfter: "30d" }} }}] }};"#
        )
    };
    let rejected = site.serve(page(&relay, &config("", "no-such-webhook")));
    let refused = other.serve(page(
        &relay,
        &config(
            &format!("relay: \"{other_origin}/nowhere\","),
            "product-view",
        ),
    ));
    let browser = Browser::start().await;
    for (url, want) in [
        (&rejected, "sitehook: the relay rejected event "),
        (
            &refused,
            "sitehook: the relay refused the batch (HTTP 404): ",
        ),
    ] {
        for view in 1..=2 {
            browser.goto(url).await;
            let trace = browser.trace().await;
            // Fired both times: the first refusal lifted the 30-day Stop.
            assert_eq!(
                result_of(&trace, "any"),
                "fired",
                "view {view} of {url}: {trace}"
            );
            let warned = warnings_once_there(&browser).await;
            assert_eq!(warned.len(), 1, "{url}: {warned:#?}");
            assert!(warned[0].starts_with(want), "{url}: {warned:#?}");
            let stored = outbox(&browser).await;
            assert!(
                stored.is_empty(),
                "nothing left queued on {url}: {stored:?}"
            );
        }
    }
    assert_eq!(relay.received().await.len(), 0, "nothing was delivered");
}

/// The outbox is bounded: with 50 events already waiting (for a relay that was down),
/// a new one pushes out the oldest, with one warning; the new one is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_outbox_drops_its_oldest_event_with_a_warning() {
    let site = Site::bind().await;
    let relay = TestRelay::demo_for(&site).await;
    let head = [
        r#"var now = Date.now(), q = [];
for (var k = 0; k < 50; k++) q.push({ i: "old-" + k, g: "old", p: "p-f", t: now - 1000 + k, n: 3, a: now + 3600e3, j: "{}" });"#,
        STORE_OUTBOX,
        r#"window.sitehookConfig = { profile: { profileid: "p-f" }, triggers: [{ id: "any", webhook: "product-view" }] };"#,
    ]
    .join("\n");
    let (browser, _) = site.open(page(&relay, &head)).await;
    let trace = trace_of(&browser, "page_view").await;
    assert_eq!(result_of(&trace, "any"), "fired", "{trace}");
    relay.wait_received(1).await;
    let warned = warnings(&browser).await;
    assert_eq!(
        warned,
        ["sitehook: 1 old event(s) that the relay never received were dropped: the outbox is full"],
    );
    let left = outbox_ids(&browser).await;
    assert_eq!(left.len(), 49, "{left:?}");
    assert_eq!(left[0], "old-1", "the oldest went first: {left:?}");
}

/// Tabs share the outbox, each event under a key of its own: an event another tab
/// stores between this page's read of the outbox and its write (here, just before
/// the write) is kept, and this page's answer from the relay removes only what it
/// sent. Both events are delivered and the outbox empties.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_another_tab_queues_meanwhile_is_kept_and_delivered() {
    let site = Site::bind().await;
    let relay = TestRelay::demo_for(&site).await;
    let head = r#"var set = Storage.prototype.setItem, other = false;
Storage.prototype.setItem = function (k, v) {
  if (!other && k.indexOf("sitehook:v1:outbox:") === 0) {
    other = true;
    var e = { id: "0b6a8d2e-4c1f-4e7a-9a3b-5d2c1e0f9a88", trigger: "other-tab", webhook: "crm-lead",
      profile: { profileid: "p-other" }, data: {}, page: { url: location.href, title: "", referrer: "" }, at: Date.now() };
    set.call(this, "sitehook:v1:outbox:" + e.id,
      JSON.stringify({ i: e.id, g: e.trigger, p: "p-other", t: e.at, n: 0, a: 0, j: JSON.stringify(e) }));
  }
  return set.call(this, k, v);
};
window.sitehookConfig = { profile: { profileid: "p-t" }, triggers: [{ id: "any", webhook: "product-view" }] };"#;
    let (browser, _) = site.open(page(&relay, head)).await;
    let got = relay.wait_received(2).await;
    let mut uris: Vec<&str> = got.iter().filter_map(|r| r["uri"].as_str()).collect();
    uris.sort();
    assert_eq!(
        uris,
        [
            "/demo/receiver/hook/crm-lead",
            "/demo/receiver/hook/product-view?automationid=A-18&profileid=p-t",
        ],
        "{got:#?}"
    );
    assert_outbox_empties(&browser, "both events left the outbox").await;
    assert_eq!(warnings(&browser).await, Vec::<String>::new());
}

/// The outbox of 0.1.0, one list under `sitehook:v1:outbox`, is taken over: its
/// events are delivered and the old key goes; a list that is not one goes too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outbox_left_by_0_1_0_is_delivered_and_removed() {
    let site = Site::bind().await;
    let relay = TestRelay::demo_for(&site).await;
    let head = r#"var e = { id: "5f0c2b7e-1d3a-4b6c-8e9f-0a1b2c3d4e5f", trigger: "left-by-0.1.0", webhook: "crm-lead",
  profile: { profileid: "p-old" }, data: {}, page: { url: location.href, title: "", referrer: "" }, at: Date.now() };
localStorage.setItem("sitehook:v1:outbox", JSON.stringify([
  { i: e.id, g: e.trigger, p: "p-old", t: e.at, n: 2, a: 0, j: JSON.stringify(e) },
  "not an event"
]));
window.sitehookConfig = { profile: { profileid: "p-new" }, triggers: [] };"#;
    let (browser, _) = site.open(page(&relay, head)).await;
    let got = relay.wait_received(1).await;
    assert_eq!(got[0]["uri"], "/demo/receiver/hook/crm-lead", "{got:#?}");
    let body: Value = serde_json::from_str(got[0]["body"].as_str().unwrap_or("")).unwrap();
    assert_eq!(body["profileid"], "p-old", "{body}");
    assert_outbox_empties(&browser, "the event and the old list left the outbox").await;
    assert_eq!(warnings(&browser).await, Vec::<String>::new());
}

/// The page's code may call the API from inside the snippet's own call (a
/// `sitehook:evaluated` listener that tracks an event): that call waits its turn
/// rather than stopping the snippet. And a storage whose reads and removals throw (a
/// browser's corrupt or busy storage file) reads as empty: both events still go out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_calls_from_a_trace_listener_and_throwing_storage_reads_work() {
    let site = Site::bind().await;
    let relay = TestRelay::demo_for(&site).await;
    let html = page(
        &relay,
        r#"Storage.prototype.getItem = function () { throw new Error("storage file busy"); };
Storage.prototype.removeItem = function () { throw new Error("storage file busy"); };
window.addEventListener("sitehook:evaluated", function (e) {
  if (e.detail.event === "page_view" && !window.tracked) { window.tracked = 1; sitehook.track("signup"); }
});
window.sitehookConfig = {
  profile: { profileid: "p-l" },
  triggers: [
    { id: "any", webhook: "product-view" },
    { id: "signed-up", on: "signup", webhook: "crm-lead" }
  ]
};"#,
    );
    let (browser, _) = site.open(html).await;
    let trace = trace_of(&browser, "signup").await;
    assert_eq!(result_of(&trace, "signed-up"), "fired", "{trace}");
    let got = relay.wait_received(2).await;
    let mut uris: Vec<&str> = got.iter().filter_map(|r| r["uri"].as_str()).collect();
    uris.sort();
    assert_eq!(
        uris,
        [
            "/demo/receiver/hook/crm-lead",
            "/demo/receiver/hook/product-view?automationid=A-18&profileid=p-l",
        ],
        "{got:#?}"
    );
    assert_eq!(warnings(&browser).await, Vec::<String>::new());
    assert!(page_script_ran(&browser).await);
}

/// Query parameters are read with the browser's own decoding: `+` and `%20` are
/// spaces, an invalid escape stays as written, a parameter without a value is `""`,
/// the first of two wins, names are decoded too, and `utm.X` reads `utm_X`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_parameters_are_decoded_as_the_address_bar_does() {
    let site = Site::bind().await;
    let relay = TestRelay::demo_for(&site).await;
    let url = site.serve(page(
        &relay,
        r#"window.sitehookConfig = {
  profile: { profileid: "p-q" },
  triggers: [
    { id: "plus", webhook: "crm-lead", if: { "query.q": { equals: "red shoes" } } },
    { id: "escaped", webhook: "crm-lead", if: { "utm.source": { equals: "news letter" } } },
    { id: "invalid", webhook: "crm-lead", if: { "query.bad": { equals: "%zz" } } },
    { id: "empty", webhook: "crm-lead", if: { "query.preview": { equals: "" } } },
    { id: "first", webhook: "crm-lead", if: { "query.n": { equals: "1" } } },
    { id: "name", webhook: "crm-lead", if: { "query.a b": { equals: "é" } } },
    { id: "missing", webhook: "crm-lead", if: { "query.nope": { equals: "" } } }
  ]
};"#,
    ));
    let browser = Browser::start().await;
    browser
        .goto(&format!(
            "{url}?q=red+shoes&utm_source=news%20letter&bad=%zz&preview&n=1&n=2&a+b=%C3%A9"
        ))
        .await;
    let trace = browser.trace().await;
    for id in ["plus", "escaped", "invalid", "empty", "first", "name"] {
        assert_eq!(result_of(&trace, id), "fired", "{id}: {trace}");
    }
    assert_eq!(result_of(&trace, "missing"), "no-match", "{trace}");
    assert_eq!(relay.wait_received(6).await.len(), 6);
    assert!(warnings(&browser).await.is_empty());
}

/// An event too big for any request (here 32 profile fields and 31 data fields of
/// 1,000 characters each, about 63 KB: all the profile's fields go when the script
/// has no field list for the webhook) is given up at once with a warning, instead
/// of waiting for its expiry and pushing the outbox's other events out meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_too_big_to_send_is_given_up_at_once() {
    let site = Site::bind().await;
    let relay = TestRelay::demo_for(&site).await;
    let head = r#"var long = new Array(1001).join("x"), profile = { profileid: "p-big" }, data = {};
for (var k = 1; k < 32; k++) { profile["f" + k] = long; data["d" + k] = long; }
window.sitehookConfig = { profile: profile, triggers: [{ id: "big", webhook: "not-in-the-relay", data: data }] };"#;
    let (browser, _) = site.open(page(&relay, head)).await;
    let trace = browser.trace().await;
    assert_fired_unsent(&trace, "big", "too big to send");
    assert_eq!(
        warnings(&browser).await,
        ["sitehook: 1 event(s) too big to send (over 60 KB) were dropped"]
    );
    assert!(outbox(&browser).await.is_empty());
    assert!(relay.received().await.is_empty());
}

/// Leaving the page sends what still waits by `navigator.sendBeacon`, even an event
/// waiting out a backoff (this page may be the visitor's last): here one left by an
/// earlier page, due in an hour, arrives once the browser moves to another site.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_the_page_sends_what_waits_by_beacon() {
    let site = Site::bind().await;
    let relay = TestRelay::demo_for(&site).await;
    let head = [
        r#"var e = { id: "5f0c2b1e-8d3a-4c6b-9e7f-1a2b3c4d5e6f", trigger: "earlier", webhook: "crm-lead",
  profile: { profileid: "p-beacon" }, data: {}, page: { url: location.href, title: "", referrer: "" }, at: Date.now() };
var q = [{ i: e.id, g: e.trigger, p: "p-beacon", t: e.at, n: 1, a: Date.now() + 3600e3, j: JSON.stringify(e) }];"#,
        STORE_OUTBOX,
        r#"window.sitehookConfig = { profile: { profileid: "p-beacon" }, triggers: [] };"#,
    ]
    .join("\n");
    let (browser, _) = site.open(page(&relay, &head)).await;
    browser.trace().await;
    assert!(relay.received().await.is_empty(), "not due yet");
    browser.goto("about:blank").await;
    let got = relay.wait_received(1).await;
    assert_eq!(got[0]["uri"], "/demo/receiver/hook/crm-lead", "{got:#?}");
    assert_eq!(
        header(&got[0], "webhook-id"),
        Some("5f0c2b1e-8d3a-4c6b-9e7f-1a2b3c4d5e6f"),
        "{got:#?}"
    );
}

/// A relay address the browser cannot send to (here not http) loses the events as
/// any unreachable relay would (they wait in the outbox), and leaving the page, when
/// `sendBeacon` refuses that address, throws nothing into the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_address_the_browser_cannot_send_to_throws_nothing_into_the_page() {
    let site = Site::bind().await;
    let relay = TestRelay::demo_for(&site).await;
    let head = r#"window.errors = [];
window.addEventListener("error", function (e) { window.errors.push(String(e.message)); });
window.addEventListener("unhandledrejection", function (e) { window.errors.push(String(e.reason)); });
window.sitehookConfig = { relay: "ftp://127.0.0.1:9/", profile: { profileid: "p-ftp" },
  triggers: [{ id: "any", webhook: "product-view" }] };"#;
    let (browser, _) = site.open(page(&relay, head)).await;
    let trace = browser.trace().await;
    assert_eq!(result_of(&trace, "any"), "fired", "{trace}");
    let waiting = poll(std::time::Duration::from_secs(10), || async {
        let q = outbox(&browser).await;
        (q.len() == 1 && q[0]["n"] == 1).then_some(q)
    })
    .await;
    assert!(
        waiting.is_some(),
        "one failed attempt: {:?}",
        outbox(&browser).await
    );
    browser
        .eval(
            "window.dispatchEvent(new Event('pagehide')); return 1",
            json!([]),
        )
        .await;
    assert_eq!(
        browser.eval("return window.errors", json!([])).await,
        json!([]),
        "nothing thrown into the page"
    );
    assert_eq!(outbox(&browser).await.len(), 1, "the event still waits");
    assert!(relay.received().await.is_empty());
}

/// A session ends after more than 30 minutes without an event: `sessions` counts
/// the browser's sessions, `restartAfter: "session"` lets a trigger fire once in
/// each, and `within: "session"` counts the current session's views. (The first
/// two views run with the page's clock set 31 minutes back.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_session_begins_after_30_minutes_without_an_event() {
    let site = Site::bind().await;
    let relay = TestRelay::demo_for(&site).await;
    let url = site.serve(page(
        &relay,
        r#"if (location.search === "?earlier") {
  var real = Date.now;
  Date.now = function () { return real.call(Date) - 31 * 60000; };
}
window.sitehookConfig = {
  profile: { profileid: "p-s" },
  triggers: [
    { id: "returning", webhook: "crm-lead", if: { sessions: { gte: 2 } } },
    { id: "each-session", webhook: "crm-lead", stop: { restartAfter: "session" } },
    { id: "second-view-this-session", webhook: "crm-lead", if: { count: { atLeast: 2, within: "session" } } }
  ]
};"#,
    ));
    let browser = Browser::start().await;
    let mut seen = Vec::new();
    for at in ["?earlier", "?earlier", ""] {
        browser.goto(&format!("{url}{at}")).await;
        let trace = browser.trace().await;
        seen.push(
            ["returning", "each-session", "second-view-this-session"]
                .map(|id| result_of(&trace, id)),
        );
    }
    assert_eq!(
        seen,
        [
            ["no-match", "fired", "no-match"],
            ["no-match", "stopped", "fired"],
            ["fired", "fired", "no-match"],
        ]
    );
}

/// Item and category views: `sitehook.page({ type: "category" })` declares one with
/// its category, and the config's `pages.category` URL pattern declares one by
/// path (without a category).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn category_views_are_declared_by_the_page_or_by_a_url_pattern() {
    let site = Site::bind().await;
    let relay = TestRelay::demo_for(&site).await;
    let head = r#"window.sitehookConfig = {
  profile: { profileid: "p-cat" },
  pages: { category: { path: { startsWith: "/c/" } } },
  triggers: [
    { id: "shoes", on: "category_view", webhook: "crm-lead", if: { "item.category": { equals: "Shoes" } } },
    { id: "any-category", on: "category_view", webhook: "product-view",
      if: { count: { of: { event: { equals: "category_view" } }, atLeast: 2 } } }
  ]
};"#;
    let (browser, _) = site.open(page(&relay, head)).await;
    browser.trace().await;
    let trace = after(
        &browser,
        "sitehook.page({ type: 'category', item: { category: 'Shoes' } })",
    )
    .await;
    assert_eq!(trace["event"], "category_view", "{trace}");
    assert_eq!(result_of(&trace, "shoes"), "fired", "{trace}");
    assert_eq!(result_of(&trace, "any-category"), "no-match", "{trace}");
    browser
        .eval("history.pushState({}, '', '/c/boots')", json!([]))
        .await;
    let trace = trace_of(&browser, "category_view").await;
    assert_eq!(trace["path"], "/c/boots", "{trace}");
    assert_eq!(result_of(&trace, "shoes"), "no-match", "{trace}");
    assert_eq!(result_of(&trace, "any-category"), "fired", "{trace}");
}

/// `regex` runs the browser's own `RegExp`, with JavaScript's syntax (a lookbehind,
/// which Rust's `regex` crate has not) and `ignoreCase` as its `i` flag; a pattern
/// the browser refuses disables its trigger with the browser's reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regex_is_the_browsers_regexp() {
    let site = Site::bind().await;
    let relay = TestRelay::demo_for(&site).await;
    let url = site.serve(page(
        &relay,
        r#"window.sitehookConfig = {
  profile: { profileid: "p-re" },
  triggers: [
    { id: "lookbehind", webhook: "crm-lead", if: { path: { regex: "(?<=/p/)\\d+$" } } },
    { id: "any-case", webhook: "crm-lead", if: { path: { regex: "^/P/", ignoreCase: true } } },
    { id: "no-case", webhook: "crm-lead", if: { path: { regex: "^/P/" } } },
    { id: "broken", webhook: "crm-lead", if: { path: { regex: "(" } } }
  ]
};"#,
    ));
    let browser = Browser::start().await;
    browser.goto(&url).await;
    let trace = browser.trace().await;
    assert_eq!(result_of(&trace, "lookbehind"), "no-match", "{trace}");
    let trace = after(&browser, "history.pushState({}, '', '/p/42')").await;
    assert_eq!(result_of(&trace, "lookbehind"), "fired", "{trace}");
    assert_eq!(result_of(&trace, "any-case"), "fired", "{trace}");
    assert_eq!(result_of(&trace, "no-case"), "no-match", "{trace}");
    assert_eq!(
        warnings(&browser).await,
        [
            r#"sitehook: trigger "broken": if.path.regex: is not a valid regular expression: Invalid regular expression: /(/: Unterminated group (this trigger is disabled)"#
        ]
    );
}

/// The stored history is pruned to what the triggers need, and at least 30 days
/// (a site may define other triggers on other pages); while a trigger has a problem
/// nothing is pruned by time, since what the fixed trigger needs is not known.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_is_pruned_by_the_longest_window_unless_a_trigger_is_broken() {
    let sites = [Site::bind().await, Site::bind().await];
    let relay = TestRelay::demo_for_all(&[&sites[0], &sites[1]]).await;
    let seed = r#"var day = 864e5, now = Date.now();
localStorage.setItem("sitehook:v1:history:p-lb", JSON.stringify([{ t: now - 60 * day, p: "/old" }, { t: now - 20 * day, p: "/recent" }]));"#;
    let good =
        r#"{ id: "week", webhook: "crm-lead", if: { count: { atLeast: 9, within: "7d" } } }"#;
    let broken = r#"{ id: "broken", webhook: "crm-lead", if: { count: { atLeast: 0 } } }"#;
    let browser = Browser::start().await;
    let mut kept = Vec::new();
    for (site, extra) in sites.into_iter().zip(["", broken]) {
        let url = site.serve(page(
            &relay,
            &format!(
                "{seed}\nwindow.sitehookConfig = {{ profile: {{ profileid: \"p-lb\" }}, triggers: [{good}, {extra}] }};"
            ),
        ));
        browser.goto(&url).await;
        browser.trace().await;
        let paths: Vec<String> = serde_json::from_value(
            browser
                .eval(
                    "return JSON.parse(localStorage.getItem('sitehook:v1:history:p-lb')).map(function (e) { return e.p; })",
                    json!([]),
                )
                .await,
        )
        .expect("a stored history");
        kept.push(paths);
    }
    assert_eq!(kept, [vec!["/recent", "/"], vec!["/old", "/recent", "/"]]);
}

/// An event that storage refuses to store (a full quota, here for one write) is
/// kept by the page and stored with the next write that works, so a later page can
/// still send it: with the relay unreachable, both events end up stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_storage_refused_once_is_stored_with_the_next_write() {
    let site = Site::bind().await;
    let script = TestRelay::demo_for(&site).await;
    let reserved = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let nowhere = reserved.local_addr().unwrap();
    drop(reserved);
    let head = format!(
        r#"var set = Storage.prototype.setItem, refused = false;
Storage.prototype.setItem = function (k, v) {{
  if (!refused && k.indexOf("sitehook:v1:outbox:") === 0) {{
    refused = true;
    throw new DOMException("the quota is full", "QuotaExceededError");
  }}
  return set.call(this, k, v);
}};
window.sitehookConfig = {{
  relay: "http://{nowhere}/",
  profile: {{ profileid: "p-refused" }},
  triggers: [
    {{ id: "view", webhook: "crm-lead" }},
    {{ id: "signed-up", on: "signup", webhook: "crm-lead" }}
  ]
}};"#
    );
    let (browser, _) = site.open(page(&script, &head)).await;
    let trace = browser.trace().await;
    assert_fired_unsent(&trace, "view", "could not reach the relay");
    let trace = after(&browser, "sitehook.track('signup')").await;
    assert_fired_unsent(&trace, "signed-up", "could not reach the relay");
    let stored: Vec<String> = outbox(&browser)
        .await
        .iter()
        .map(|e| e["g"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(stored, ["view", "signed-up"]);
}

/// A site that removes the campaign parameters after landing keeps its page view,
/// and the view's `utm.*` still count when a timed condition holds later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn campaign_parameters_removed_after_landing_still_count_on_the_timer() {
    let site = Site::bind().await;
    let relay = TestRelay::demo_for(&site).await;
    let url = site.serve(page(
        &relay,
        r#"window.sitehookConfig = {
  profile: { profileid: "p-utm" },
  triggers: [{ id: "newsletter-reader", webhook: "product-view",
    if: { all: [{ "utm.source": { equals: "news" } }, { dwell: { gte: 2 } }] } }]
};"#,
    ));
    let browser = Browser::start().await;
    browser.goto(&format!("{url}?utm_source=news")).await;
    let trace = browser.trace().await;
    assert_eq!(
        result_of(&trace, "newsletter-reader"),
        "no-match",
        "{trace}"
    );
    browser
        .eval("history.replaceState({}, '', location.pathname)", json!([]))
        .await;
    let fired = poll(std::time::Duration::from_secs(15), || async {
        let t = browser.trace().await;
        (result_of(&t, "newsletter-reader") == "fired").then_some(t)
    })
    .await;
    assert!(fired.is_some(), "{}", browser.trace().await);
    let views = stored_history(&browser, "p-utm").await;
    assert_eq!(views.len(), 1, "one page view: {views:?}");
}

/// A `page` call queued while the wasm loads belongs to the page it was made on: when
/// the app has moved to another page by the time the wasm is ready, it is dropped
/// rather than declaring the page the visitor is on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_page_call_from_a_page_the_app_left_is_dropped() {
    let site = Site::bind().await;
    let relay = TestRelay::demo_for(&site).await;
    let html = format!(
        r#"<!doctype html><html><head><title>Shop</title><script>{CAPTURE_WARNINGS}
window.sitehookConfig = {{
  profile: {{ profileid: "p-left" }},
  triggers: [
    {{ id: "any-page", webhook: "product-view" }},
    {{ id: "item", on: "item_view", webhook: "crm-lead" }}
  ]
}};</script>
<script src="http://{addr}/sitehook.js"></script>
<script>
sitehook.page({{ type: "item", item: {{ id: "left-behind" }} }});
history.pushState({{}}, "", "/elsewhere");
</script></head><body></body></html>"#,
        addr = relay.addr
    );
    let (browser, _) = site.open(html).await;
    let trace = browser.trace().await;
    assert_eq!(trace["path"], "/elsewhere", "{trace}");
    assert_eq!(result_of(&trace, "any-page"), "fired", "{trace}");
    let got = relay.wait_received(1).await;
    assert_eq!(
        got[0]["uri"], "/demo/receiver/hook/product-view?automationid=A-18&profileid=p-left",
        "{got:#?}"
    );
    let views = history_lines(&browser, "p-left").await;
    assert_eq!(views, ["page_view /elsewhere"]);

    // The same within one navigation's tick, after loading: the app moves to /a,
    // declares an item there, and moves on to /b before the view is counted. One
    // view, of /b, which the item made on /a does not declare.
    let trace = after(
        &browser,
        "history.pushState({}, '', '/a'); sitehook.page({ type: 'item', item: { id: 'on-a' } }); \
         history.pushState({}, '', '/b');",
    )
    .await;
    assert_eq!(trace["path"], "/b", "{trace}");
    assert_eq!(trace["event"], "page_view", "{trace}");
    let views = history_lines(&browser, "p-left").await;
    assert_eq!(views, ["page_view /elsewhere", "page_view /b"]);
    assert!(warnings(&browser).await.is_empty());
}

/// While a request carries the outbox's events, a full outbox drops an event it does
/// not carry (here the new one), since the relay may still accept those and their
/// triggers must then stay resting. The dropped event's trace says why instead of
/// waiting for an answer, and its trigger's Stop is lifted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_outbox_keeps_what_is_in_flight_and_the_dropped_events_trace_says_so() {
    let site = Site::bind().await;
    let script = TestRelay::demo_for(&site).await;
    // A relay that takes the request and never answers: it stays in flight.
    let hanging = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let events_addr = hanging.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = hanging.accept().await {
            held.push(socket);
        }
    });
    let head = format!(
        r#"var now = Date.now(), q = [];
for (var k = 0; k < 50; k++) q.push({{ i: "old-" + k, g: "old", p: "p-h", t: now - 1000 + k, n: 0, a: 0, j: "{{}}" }});
{STORE_OUTBOX}
window.sitehookConfig = {{
  relay: "http://{events_addr}/",
  profile: {{ profileid: "p-h" }},
  triggers: [{{ id: "signed-up", on: "signup", webhook: "crm-lead", stop: {{ restartAfter: "never" }} }}]
}};"#
    );
    let (browser, _) = site.open(page(&script, &head)).await;
    trace_of(&browser, "page_view").await;
    for _ in 0..2 {
        // Fired both times: the first drop lifted its Stop.
        let trace = after(&browser, "sitehook.track('signup')").await;
        assert_fired_unsent(&trace, "signed-up", "dropped: the outbox is full");
    }
    let left = outbox_ids(&browser).await;
    assert_eq!(left.len(), 50, "{left:?}");
    assert!(
        left.iter()
            .enumerate()
            .all(|(k, id)| *id == format!("old-{k}")),
        "the events in flight stay: {left:?}"
    );
    assert_eq!(warnings(&browser).await.len(), 2);
}

/// Misused page API calls are each said once, naming the call and what it needs,
/// and change nothing; the calls that follow work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misused_api_calls_are_said_once_each_and_change_nothing() {
    let site = Site::bind().await;
    let relay = TestRelay::demo_for(&site).await;
    let html = page(
        &relay,
        r#"window.sitehookConfig = {
  profile: { profileid: "p-m" },
  triggers: [{ id: "shoes", on: "item_view", if: { "item.category": { equals: "shoes" } }, webhook: "product-view" }]
};"#,
    );
    let (browser, _) = site.open(html).await;
    browser.trace().await;
    browser
        .eval(
            "sitehook.track(''); sitehook.track('sign up'); sitehook.track('item_view'); \
             sitehook.page({ type: 'shelf' }); sitehook.consent('yes'); sitehook.push(['fly']); \
             sitehook.identify({ email: 'a@example.com' });",
            json!([]),
        )
        .await;
    let warned = warnings_once_there(&browser).await;
    let want = [
        "sitehook: sitehook.track needs an event name of 1 to 64 letters, digits and - _ . :",
        "sitehook: sitehook.track needs an event name of 1 to 64 letters, digits and - _ . :",
        "sitehook: sitehook.track(\"item_view\") is ignored: page views are seen by the snippet, and item and category views are declared with sitehook.page",
        "sitehook: sitehook.page needs { type: \"item\" | \"category\", item: { id, name, category, price } }",
        "sitehook: sitehook.consent needs true or false; ignored",
        "sitehook: unknown command \"fly\" (expected identify, page, track, consent or reset)",
        "sitehook: sitehook.identify needs a profile with a profileid, e.g. { profileid: \"p-123\" }",
    ];
    let got = poll(std::time::Duration::from_secs(15), || async {
        let w = warnings(&browser).await;
        (w.len() >= want.len()).then_some(w)
    })
    .await
    .unwrap_or(warned);
    assert_eq!(got, want, "one warning per misused call, in order");
    assert_eq!(
        stored_history(&browser, "p-m").await.len(),
        1,
        "nothing but the page view was recorded"
    );

    // A good call afterwards: the item's category from `item`, its id from the
    // argument itself.
    let trace = after(
        &browser,
        "sitehook.page({ type: 'product', id: 'sku-9', item: { category: 'shoes', price: 12.5 } })",
    )
    .await;
    assert_eq!(trace["event"], "item_view", "{trace}");
    assert_eq!(result_of(&trace, "shoes"), "fired", "{trace}");
    let stored = browser
        .eval(
            "return JSON.parse(localStorage.getItem('sitehook:v1:history:p-m')).pop()",
            json!([]),
        )
        .await;
    assert_eq!(
        (&stored["i"], &stored["c"], &stored["v"]),
        (&json!("sku-9"), &json!("shoes"), &json!("12.5")),
        "{stored}"
    );
}

/// `reset()` by a visitor who is anonymous already still starts an empty history;
/// `hash` (like `host` and `query.*`) is read as the page is when the event happens,
/// so an anchor clicked after the view counts; an argument the page cannot read
/// (a revoked Proxy) reads as missing and the snippet carries on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_reset_live_anchors_and_unreadable_arguments() {
    let site = Site::bind().await;
    let relay = TestRelay::demo_for(&site).await;
    let html = page(
        &relay,
        r##"window.sitehookConfig = {
  triggers: [
    { id: "faq-chat", on: "chat_open", audience: "anyone", if: { hash: { equals: "#faq" } }, webhook: "product-view" },
    { id: "views", audience: "anyone", if: { count: { atLeast: 2 } }, webhook: "product-view" }
  ]
};"##,
    );
    let (browser, _) = site.open(html).await;
    let trace = browser.trace().await;
    assert_eq!(result_of(&trace, "views"), "no-match", "{trace}");
    assert_eq!(stored_history(&browser, "").await.len(), 1);

    browser.eval("sitehook.reset()", json!([])).await;
    let trace = after(&browser, "history.pushState({}, '', '/second')").await;
    assert_eq!(
        result_of(&trace, "views"),
        "no-match",
        "the view before reset() no longer counts: {trace}"
    );
    assert_eq!(
        stored_history(&browser, "").await,
        [("page_view".to_owned(), "/second".to_owned())]
    );

    // An anchor is no new page view, but the hash is what it is now.
    browser.eval("location.hash = 'faq'", json!([])).await;
    let trace = after(
        &browser,
        "var p = Proxy.revocable({}, {}); p.revoke(); sitehook.track('chat_open', p.proxy)",
    )
    .await;
    assert_eq!(result_of(&trace, "faq-chat"), "fired", "{trace}");
    let trace = after(&browser, "sitehook.track('chat_open')").await;
    assert_eq!(
        trace["event"], "chat_open",
        "the snippet still runs after an unreadable argument: {trace}"
    );
    assert!(warnings(&browser).await.is_empty());
}
