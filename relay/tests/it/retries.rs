//! Delivery outcomes against a real receiver whose answers the test scripts: time is
//! the relay's manual clock, moved by the test, never waited for.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use sitehook_relay::clock::{Clock, ManualClock};
use sitehook_relay::config::Config;
use sitehook_relay::store::{Filter, Record, SqliteStore, Status, Store};
use tokio::sync::oneshot;

use crate::util::{Answer, Receiver, free_port, wait_ready};

struct Relay {
    base: String,
    clock: Arc<ManualClock>,
    store: SqliteStore,
    _stop: oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

impl Relay {
    async fn start(url: &str, extra: &str) -> Relay {
        sitehook_relay::install_crypto_provider();
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "data_dir = {:?}\ndangerously_allow_targets = [\"127.0.0.1\"]\n[webhooks.hook]\nurl = \"{url}\"\nfields = [\"profileid\"]\n{extra}\n",
            dir.path()
        );
        let config = Config::from_toml(&text, &|_| None).unwrap();
        let clock = Arc::new(ManualClock::new(1_700_000_000_000));
        let clock_for_relay: Arc<dyn Clock> = clock.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async {
            let _ = stopped.await;
        };
        tokio::spawn(async move {
            if let Err(e) =
                sitehook_relay::run_with_clock(config, listener, shutdown, clock_for_relay).await
            {
                panic!("the relay failed: {e:#}");
            }
        });
        let http = reqwest::Client::new();
        wait_ready(&http, &base, Duration::from_secs(10)).await;
        // A second handle on the same SQLite file: what an operator's CLI sees.
        let store = SqliteStore::open(dir.path(), clock.clone()).unwrap();
        Relay {
            base,
            clock,
            store,
            _stop: stop,
            _dir: dir,
        }
    }

    async fn send(&self, id: &str) {
        self.send_for(id, "p-1").await
    }

    /// [`Relay::send`] for another profile (each profile has its own rate limit).
    async fn send_for(&self, id: &str, profileid: &str) {
        let body = json!({"events": [{"id": id, "trigger": "t", "webhook": "hook", "profile": {"profileid": profileid},
                                      "page": {"url": "https://shop.example.com/"}, "at": 1}]});
        let r = reqwest::Client::new()
            .post(format!("{}/v1/events", self.base))
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202, "{:?}", r.text().await);
    }

    fn record(&self, id: &str) -> Record {
        self.store
            .list(&Filter::default())
            .unwrap()
            .into_iter()
            .find(|r| r.id == id)
            .expect("stored")
    }

    /// Waits until event `id`'s record satisfies `ok` (the attempt is recorded just
    /// after the receiver answers).
    async fn wait_record(&self, id: &str, ok: impl Fn(&Record) -> bool) -> Record {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let r = self.record(id);
            if ok(&r) {
                return r;
            }
            assert!(
                Instant::now() < deadline,
                "event {id} never reached the expected state: {r:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured_on_429() {
    let receiver = Receiver::start_on(
        0,
        &[Answer {
            status: 429,
            retry_after: Some("120"),
            delay_ms: 0,
        }],
    )
    .await;
    let relay = Relay::start(&receiver.url("/hook"), "").await;
    relay.send("ev-429").await;
    receiver.wait_for(1).await;
    let r = relay.wait_record("ev-429", |r| r.attempts == 1).await;
    assert_eq!((r.status, r.last_status), (Status::Pending, Some(429)));
    assert_eq!(
        r.next_at,
        relay.clock.now_ms() + 120_000,
        "Retry-After: 120 wins over the 5 s schedule"
    );
    relay.clock.advance(120_000);
    receiver.wait_for(2).await;
    relay
        .wait_record("ev-429", |r| r.status == Status::Delivered)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_pauses_the_webhook_until_it_is_enabled() {
    let receiver = Receiver::start(&[410]).await;
    let relay = Relay::start(&receiver.url("/hook"), "").await;
    relay.send("ev-1").await;
    receiver.wait_for(1).await;
    relay.wait_record("ev-1", |r| r.attempts == 1).await;
    assert_eq!(relay.store.disabled().unwrap().len(), 1);
    // The backlog that builds up while the webhook is paused.
    let backlog: Vec<String> = (2..=30).map(|i| format!("ev-{i}")).collect();
    for id in &backlog {
        relay.send_for(id, &format!("p-{id}")).await;
    }
    relay.clock.advance(3_600_000);
    assert_eq!(
        relay.record("ev-2").status,
        Status::Pending,
        "accepted and kept while the webhook is paused"
    );
    assert_eq!(relay.store.pending().unwrap(), 30, "all of it waits");
    assert_eq!(
        relay.store.next_due().unwrap(),
        None,
        "none of it is due while paused"
    );
    assert_eq!(receiver.got().len(), 1);

    assert!(relay.store.enable("hook").unwrap());
    receiver.wait_for(31).await;
    for id in &backlog {
        relay
            .wait_record(id, |r| r.status == Status::Delivered)
            .await;
    }
    relay
        .wait_record("ev-1", |r| r.status == Status::Delivered)
        .await;
    let mut ids: Vec<String> = receiver
        .got()
        .iter()
        .map(|g| g.header("webhook-id").unwrap_or("(none)").to_owned())
        .collect();
    ids.sort();
    let mut want: Vec<String> = backlog.clone();
    want.extend(["ev-1".to_owned(), "ev-1".to_owned()]);
    want.sort();
    assert_eq!(
        ids, want,
        "ev-1 twice (the 410, then the delivery), the backlog once each"
    );
    assert_eq!(relay.store.pending().unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_receiver_times_out_and_is_retried() {
    let receiver = Receiver::start_on(
        0,
        &[Answer {
            status: 200,
            retry_after: None,
            delay_ms: 3_000,
        }],
    )
    .await;
    let relay = Relay::start(&receiver.url("/hook"), "timeout = \"500ms\"").await;
    relay.send("ev-slow").await;
    let r = relay.wait_record("ev-slow", |r| r.attempts == 1).await;
    assert_eq!((r.status, r.last_status), (Status::Pending, None));
    assert!(
        r.last_error.as_deref().unwrap_or("").contains("timed out"),
        "{r:?}"
    );
    relay.clock.advance(5_600);
    relay
        .wait_record("ev-slow", |r| r.status == Status::Delivered)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connections_become_a_dead_letter_that_can_be_replayed() {
    let port = free_port();
    let relay = Relay::start(
        &format!("http://127.0.0.1:{port}/hook"),
        "retry_schedule = [\"1s\"]",
    )
    .await;
    relay.send("ev-down").await;
    let r = relay.wait_record("ev-down", |r| r.attempts == 1).await;
    assert!(
        r.last_error
            .as_deref()
            .unwrap_or("")
            .contains("error sending request"),
        "{r:?}"
    );
    relay.clock.advance(1_200);
    let r = relay.wait_record("ev-down", |r| r.attempts == 2).await;
    assert_eq!(r.status, Status::Failed, "one retry, then a dead letter");
    assert_eq!(relay.store.attempts("ev-down").unwrap().len(), 2);

    let receiver = Receiver::start_on(port, &[]).await;
    assert_eq!(relay.store.replay(&["ev-down".into()], None).unwrap(), 1);
    receiver.wait_for(1).await;
    let r = relay
        .wait_record("ev-down", |r| r.status == Status::Delivered)
        .await;
    assert_eq!(r.attempts, 1, "a replay starts a fresh count");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_webhook_records_everything_and_calls_nothing() {
    let receiver = Receiver::start(&[]).await;
    let relay = Relay::start(&receiver.url("/hook"), "dry_run = true").await;
    relay.send("ev-dry").await;
    let r = relay
        .wait_record("ev-dry", |r| r.status == Status::DryRun)
        .await;
    assert_eq!((r.attempts, r.last_status, r.last_error), (1, None, None));
    assert_eq!(
        relay.store.attempts("ev-dry").unwrap()[0].next,
        sitehook_relay::store::Next::DryRun
    );
    // A second event for the same profile and trigger is stored too, and not sent.
    relay.send("ev-dry-2").await;
    relay
        .wait_record("ev-dry-2", |r| r.status == Status::DryRun)
        .await;
    assert!(
        receiver.got().is_empty(),
        "a dry run calls nothing: {:?}",
        receiver.got()
    );
}

/// A webhook that answers slowly, with a backlog larger than the relay's room for
/// deliveries under way (256), does not hold back another webhook: each webhook is
/// handed only as many events as it may send at once (`max_in_flight`), so the
/// other's event goes out while the slow one's first request is still open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_webhooks_backlog_does_not_hold_back_another_webhook() {
    let slow = Receiver::start_on(
        0,
        &[Answer {
            status: 200,
            retry_after: None,
            delay_ms: 30_000,
        }],
    )
    .await;
    let fast = Receiver::start(&[]).await;
    let extra = format!(
        "max_in_flight = 1\ntimeout = \"60s\"\n[webhooks.fast]\nurl = \"{}\"\nfields = [\"profileid\"]\n",
        fast.url("/fast")
    );
    let relay = Relay::start(&slow.url("/hook"), &extra).await;
    let http = reqwest::Client::new();
    let post = |events: Vec<serde_json::Value>| {
        let http = http.clone();
        let url = format!("{}/v1/events", relay.base);
        async move {
            let r = http
                .post(url)
                .body(json!({ "events": events }).to_string())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 202, "{:?}", r.text().await);
        }
    };
    let event = |id: String, webhook: &str, profileid: String| {
        json!({"id": id, "trigger": "t", "webhook": webhook, "profile": {"profileid": profileid},
               "page": {"url": "https://shop.example.com/"}, "at": 1})
    };
    // 300 events for the slow webhook, each for its own profile (no Stop, no
    // per-profile limit in the way), then one for the fast webhook.
    for batch in 0..3 {
        let events = (0..100)
            .map(|i| {
                let n = batch * 100 + i;
                event(format!("slow-{n}"), "hook", format!("p-{n}"))
            })
            .collect();
        post(events).await;
    }
    slow.wait_for(1).await;
    post(vec![event("fast-1".into(), "fast", "p-fast".into())]).await;
    let got = fast.wait_for(1).await;
    assert_eq!(got[0].header("webhook-id"), Some("fast-1"));
    assert_eq!(slow.got().len(), 1, "the slow webhook has one request open");
    let r = relay.record("slow-299");
    assert_eq!((r.status, r.attempts), (Status::Pending, 0), "{r:?}");
}
