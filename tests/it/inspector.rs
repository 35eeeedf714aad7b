//! The relay's inspector in real headless Chromium: it lists what the relay holds,
//! filters, shows a failed delivery with its attempts and the request as sent (the
//! secret masked), replays it with one click, and renders (checked on a screenshot).

use std::time::Duration;

use serde_json::{Value, json};
use sitehook_relay::receiver::Receiver;

use crate::util::webdriver::Browser;
use crate::util::{TestRelay, poll};

const API_KEY: &str = "inspector-secret-4711";

/// Waits until `script` (a function body) returns something truthy in the page.
async fn wait_for(browser: &Browser, what: &str, script: &str) -> Value {
    let got = poll(Duration::from_secs(15), || async {
        let v = browser.eval(script, json!([])).await;
        (!v.is_null() && v != json!(false) && v != json!(0) && v != json!("")).then_some(v)
    })
    .await;
    match got {
        Some(v) => v,
        None => {
            let page = browser
                .eval("return document.body.innerText", json!([]))
                .await;
            panic!("the inspector did not show {what} within 15s; the page reads:\n{page}")
        }
    }
}

fn status_of(id: &str) -> String {
    format!(
        "var tr = document.querySelector('tr[data-id=\"{id}\"]'); return tr && tr.querySelector('.status').textContent;"
    )
}

#[tokio::test]
async fn the_inspector_lists_filters_shows_and_replays_a_failed_delivery() {
    // A receiver that fails until the test fixes it.
    let receiver = Receiver::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook/crm", listener.local_addr().unwrap());
    let app: axum::Router = receiver.router("");
    tokio::spawn(async move { axum::serve(listener, app).await });

    let relay = TestRelay::demo(API_KEY, |c| {
        let crm = c.webhooks.get_mut("crm-lead").unwrap();
        crm.url = hook.parse().unwrap();
        // The first attempt and one quick retry, then a dead letter.
        crm.retry_schedule = vec![Duration::from_millis(200)];
    })
    .await;
    let event = |id: &str, webhook: &str, profile: &str| {
        json!({
            "id": id, "trigger": "pricing-interest", "webhook": webhook,
            "profile": {"profileid": profile, "email": "ann@example.com"},
            "page": {"url": "http://shop.test/pricing", "title": "Pricing", "referrer": ""},
            "at": 1_700_000_000_000u64
        })
    };
    let failing = "ev-inspector-failing-1";
    let resp = relay
        .http
        .post(relay.url("/v1/events"))
        .header("content-type", "text/plain")
        .body(
            json!({"events": [
                event(failing, "crm-lead", "p-123"),
                event("ev-inspector-ok-1", "product-view", "p-9"),
            ]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let dead = poll(Duration::from_secs(15), || async {
        let v: Value = relay
            .http
            .get(relay.url("/admin/api/events?status=failed"))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (v["events"].as_array()?.len() == 1).then_some(v)
    })
    .await;
    assert!(
        dead.is_some(),
        "the crm-lead event did not become a dead letter"
    );
    assert_eq!(
        receiver.requests().len(),
        2,
        "two attempts, both answered 500"
    );

    let browser = Browser::start().await;
    browser.goto(&relay.url("/admin")).await;
    wait_for(
        &browser,
        "its first listing",
        "return document.body.dataset.loaded === 'true';",
    )
    .await;
    let rows = browser
        .eval(
            "return document.querySelectorAll('#events tbody tr').length",
            json!([]),
        )
        .await;
    assert_eq!(rows, 2);
    assert_eq!(browser.eval(&status_of(failing), json!([])).await, "failed");

    // Filter by status, as a user would: the select submits the form.
    browser
        .eval(
            "var s = document.querySelector('select[name=status]'); s.value = 'failed'; \
             s.dispatchEvent(new Event('change'));",
            json!([]),
        )
        .await;
    wait_for(
        &browser,
        "only the failed event",
        "return document.querySelectorAll('#events tbody tr').length === 1 && location.search === '?status=failed';",
    )
    .await;
    // And by a profile that has nothing failed.
    browser
        .eval(
            "var f = document.getElementById('filters'); f.elements.profile.value = 'p-9'; f.requestSubmit();",
            json!([]),
        )
        .await;
    wait_for(
        &browser,
        "no events",
        "return !document.getElementById('empty').hidden;",
    )
    .await;
    browser
        .eval(
            "var f = document.getElementById('filters'); f.elements.profile.value = ''; f.requestSubmit();",
            json!([]),
        )
        .await;
    wait_for(&browser, "the failed event again", &status_of(failing)).await;

    // The event in full: its two attempts and the request, the secret masked.
    browser.click(&format!("tr[data-id=\"{failing}\"]")).await;
    wait_for(
        &browser,
        "the event's details",
        "return !document.getElementById('detail').hidden;",
    )
    .await;
    let detail = browser
        .eval(
            "return document.getElementById('detail').innerText",
            json!([]),
        )
        .await;
    let detail = detail.as_str().unwrap();
    assert!(
        detail.contains("x-api-key: *** (21 bytes, masked)"),
        "{detail}"
    );
    assert!(
        !detail.contains(API_KEY),
        "the secret must not reach the page:\n{detail}"
    );
    assert!(detail.contains(r#""automationid":"A-17""#), "{detail}");
    assert_eq!(
        browser
            .eval(
                "return document.querySelectorAll('#attempts tbody tr').length",
                json!([])
            )
            .await,
        2,
        "{detail}"
    );
    assert!(detail.contains("dead letter"), "{detail}");

    // It renders: the page has its styles, the failed badge and the request block.
    let png = browser.screenshot().await;
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let _ = std::fs::write(dir.join("inspector.png"), &png);
    let decoder = png::Decoder::new(std::io::Cursor::new(&png));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a sized PNG")];
    let info = reader.next_frame(&mut pixels).expect("one frame");
    assert!(
        info.width >= 800 && info.height >= 500,
        "{}x{}",
        info.width,
        info.height
    );
    let step = info.color_type.samples();
    let count = |rgb: [u8; 3]| {
        pixels[..info.buffer_size()]
            .chunks(step)
            .filter(|p| p[..3].iter().zip(rgb).all(|(a, b)| a.abs_diff(b) <= 3))
            .count()
    };
    let (badge, code_block) = (count([0xcf, 0x22, 0x2e]), count([0x0f, 0x14, 0x20]));
    assert!(
        badge > 100 && code_block > 5_000,
        "the screenshot (saved as {}) lacks the styled page: {badge} badge pixels, {code_block} code-block pixels",
        dir.join("inspector.png").display()
    );

    // Fix the receiver, replay with one click: delivered.
    receiver.set_answer(axum::http::StatusCode::OK);
    browser.click("#replay").await;
    wait_for(
        &browser,
        "the replay's confirmation",
        "return /queued again/.test(document.getElementById('message').textContent);",
    )
    .await;
    browser
        .eval("var s = document.querySelector('select[name=status]'); s.value = ''; s.dispatchEvent(new Event('change'));", json!([]))
        .await;
    let delivered = poll(Duration::from_secs(20), || async {
        browser
            .eval(
                "document.getElementById('filters').requestSubmit()",
                json!([]),
            )
            .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        (browser.eval(&status_of(failing), json!([])).await == "delivered").then_some(())
    })
    .await;
    assert!(
        delivered.is_some(),
        "the replayed event was not shown as delivered"
    );
    let got = receiver.requests();
    assert_eq!(got.len(), 3);
    assert_eq!(got[2].answered, 200);
    assert!(
        got[2]
            .headers
            .contains(&("x-api-key".into(), API_KEY.into())),
        "the replay carries the secret header"
    );
}
