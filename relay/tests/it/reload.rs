//! Reloading the config of a running relay: the real `run_shared` on loopback, a real
//! receiver, a real SQLite file, and a [`Reloader`] called the way `SIGHUP` calls it
//! (the signal itself is sent to a real process in `process.rs`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sitehook_relay::clock::{Clock, ManualClock, SystemClock};
use sitehook_relay::config::Config;
use sitehook_relay::reload::{Changes, Overrides, ReloadError, Reloader, Shared};
use sitehook_relay::store::{Filter, Record, SqliteStore, Status, Store};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::util::{Answer, Receiver, get_text, wait_ready};

/// A relay serving from a config file in its own temporary folder.
struct Relay {
    base: String,
    dir: tempfile::TempDir,
    reloader: Arc<Reloader>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

/// The config file's text: a data dir in `dir`, loopback targets allowed, no rate
/// limits (every test posts from one address), then `rest`.
fn text(dir: &Path, top: &str, rest: &str) -> String {
    format!(
        "data_dir = {:?}\ndangerously_allow_targets = [\"127.0.0.1\"]\n{top}\n\
         [limits]\nper_ip_per_minute = 0\nper_profile_per_minute = 0\n\n{rest}\n",
        dir.join("data")
    )
}

/// A `[webhooks.ID]` table posting to `url` with header `X-Api-Key` read from the
/// secret file `key_file`, then `extra` lines.
fn webhook(id: &str, url: &str, key_file: &Path, extra: &str) -> String {
    format!(
        "[webhooks.{id}]\nurl = \"{url}\"\nfields = [\"profileid\"]\n\
         headers = {{ \"X-Api-Key\" = {{ file = {key_file:?} }} }}\n{extra}\n"
    )
}

fn event(id: &str, webhook: &str, trigger: &str) -> Value {
    json!({"id": id, "trigger": trigger, "webhook": webhook, "profile": {"profileid": format!("p-{id}")},
           "page": {"url": "https://shop.example.com/"}, "at": 1})
}

impl Relay {
    /// Writes `config` as the config file and starts a relay on it.
    async fn start(dir: tempfile::TempDir, config: &str, clock: Arc<dyn Clock>) -> Relay {
        sitehook_relay::install_crypto_provider();
        let path = dir.path().join("relay.toml");
        std::fs::write(&path, config).unwrap();
        let first = Config::load(&path).unwrap_or_else(|e| panic!("{e}\n{config}"));
        let reloader = Arc::new(Reloader::new(
            &path,
            Overrides::default(),
            Arc::new(Shared::new(first)),
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(sitehook_relay::run_shared(
            reloader.config(),
            listener,
            async {
                let _ = stopped.await;
            },
            clock,
        ));
        let http = reqwest::Client::new();
        wait_ready(&http, &base, Duration::from_secs(10)).await;
        Relay {
            base,
            dir,
            reloader,
            stop: Some(stop),
            task: Some(task),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a new config file and reloads it, as `SIGHUP` would.
    async fn reload(&self, config: &str) -> Result<Changes, ReloadError> {
        std::fs::write(self.path("relay.toml"), config).unwrap();
        let reloader = self.reloader.clone();
        tokio::task::spawn_blocking(move || reloader.reload_and_log())
            .await
            .unwrap()
    }

    /// Posts `events` in one batch; returns the status and the answer.
    async fn post(&self, events: Vec<Value>) -> (u16, Value) {
        let response = reqwest::Client::new()
            .post(format!("{}/v1/events", self.base))
            .body(json!({ "events": events }).to_string())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("a JSON answer, got {status}: {text}"));
        (status, body)
    }

    /// Posts one event as a page on `origin` would; returns the status and the CORS
    /// `access-control-allow-origin` answer.
    async fn post_from(&self, origin: &str, event: Value) -> (u16, Option<String>) {
        let response = reqwest::Client::new()
            .post(format!("{}/v1/events", self.base))
            .header("origin", origin)
            .body(json!({ "events": [event] }).to_string())
            .send()
            .await
            .unwrap();
        let cors = response
            .headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (response.status().as_u16(), cors)
    }

    /// Posts one event and asserts it was accepted.
    async fn accept(&self, event: Value) {
        let id = event["id"].clone();
        let (status, answer) = self.post(vec![event]).await;
        assert_eq!(
            (status, &answer["accepted"]),
            (202, &json!([id])),
            "{answer}"
        );
    }

    /// A second handle on the relay's SQLite file: what an operator's CLI sees.
    fn store(&self) -> SqliteStore {
        SqliteStore::open(&self.path("data"), Arc::new(SystemClock)).unwrap()
    }

    /// Waits (at most 10 s) until event `id`'s record satisfies `ok`.
    async fn wait_record(&self, id: &str, ok: impl Fn(&Record) -> bool) -> Record {
        let store = self.store();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let record = store
                .list(&Filter::default())
                .unwrap()
                .into_iter()
                .find(|r| r.id == id);
            if let Some(r) = record.as_ref().filter(|r| ok(r)) {
                return r.clone();
            }
            assert!(
                Instant::now() < deadline,
                "event {id} never reached the expected state: {record:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the relay the way SIGTERM does (in-flight deliveries finish).
    async fn stop(&mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap().unwrap();
    }
}

/// The request with `webhook-id: id`, or a failure listing what did arrive.
fn by_id<'a>(got: &'a [crate::util::Got], id: &str) -> &'a crate::util::Got {
    got.iter()
        .find(|g| g.header("webhook-id") == Some(id))
        .unwrap_or_else(|| {
            let ids: Vec<_> = got.iter().map(|g| g.header("webhook-id")).collect();
            panic!("no delivery of {id}; got {ids:?}")
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_adds_a_webhook_and_rotates_a_secret() {
    let receiver = Receiver::start(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let (key_a, key_b) = (dir.path().join("key-a"), dir.path().join("key-b"));
    std::fs::write(&key_a, "old-key\n").unwrap();
    let before = text(
        dir.path(),
        "",
        &webhook("crm", &receiver.url("/crm"), &key_a, ""),
    );
    let after = text(
        dir.path(),
        "allowed_origins = [\"https://shop.example.com\"]",
        &(webhook("crm", &receiver.url("/crm"), &key_a, "")
            + &webhook(
                "newsletter",
                &receiver.url("/newsletter"),
                &key_b,
                "triggers = [\"signup\"]",
            )),
    );
    let mut relay = Relay::start(dir, &before, Arc::new(SystemClock)).await;

    // Before the reload the new webhook is unknown to the relay.
    let (status, answer) = relay
        .post(vec![event("early", "newsletter", "signup")])
        .await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["rejected"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("\"newsletter\" is not configured")),
        "{answer}"
    );
    let (status, cors) = relay
        .post_from("https://shop.example.com", event("shop-1", "crm", "t"))
        .await;
    assert_eq!((status, cors), (403, None), "the origin is not allowed yet");
    relay.accept(event("old-1", "crm", "t")).await;
    let got = receiver.wait_for(1).await;
    assert_eq!(by_id(&got, "old-1").header("x-api-key"), Some("old-key"));

    // The secret file is rotated (as a secrets manager would) and a webhook added.
    std::fs::write(&key_a, "new-key\n").unwrap();
    std::fs::write(&key_b, "newsletter-key\n").unwrap();
    let changes = relay.reload(&after).await.expect("a valid config reloads");
    assert_eq!(
        changes,
        Changes {
            added: vec!["newsletter".into()],
            removed: vec![],
            changed: vec!["crm".into()],
            settings: vec!["allowed_origins"],
        },
        "a rotated secret counts as a changed webhook"
    );

    relay.accept(event("new-1", "crm", "t")).await;
    relay.accept(event("new-2", "newsletter", "signup")).await;
    let (status, cors) = relay
        .post_from("https://shop.example.com", event("shop-2", "crm", "t"))
        .await;
    assert_eq!(
        (status, cors.as_deref()),
        (202, Some("https://shop.example.com")),
        "the origin added by the reload may send, and read the answer"
    );
    let got = receiver.wait_for(4).await;
    let crm = by_id(&got, "new-1");
    assert_eq!(
        (crm.uri.path(), crm.header("x-api-key")),
        ("/crm", Some("new-key")),
        "the next delivery carries the rotated secret"
    );
    let newsletter = by_id(&got, "new-2");
    assert_eq!(
        (newsletter.uri.path(), newsletter.header("x-api-key")),
        ("/newsletter", Some("newsletter-key"))
    );
    // The new webhook's `triggers` applies from the reload on.
    let (status, answer) = relay
        .post(vec![event("wrong-trigger", "newsletter", "t")])
        .await;
    assert_eq!(status, 400, "{answer}");
    relay.stop().await;
    assert_eq!(receiver.got().len(), 4, "{:?}", receiver.got());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_or_restart_only_config_is_refused_and_the_old_one_keeps_working() {
    let receiver = Receiver::start(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key");
    std::fs::write(&key, "the-key").unwrap();
    let hook = webhook("crm", &receiver.url("/crm"), &key, "");
    let good = text(dir.path(), "", &hook);
    let missing = dir.path().join("no-such-key");
    // (config text, what the refusal must say)
    let cases = [
        (
            text(dir.path(), "", &hook.replace("url =", "urll =")),
            vec!["invalid config", "unknown field `urll`", "line"],
        ),
        (
            text(
                dir.path(),
                "",
                &webhook("crm", &receiver.url("/crm"), &missing, ""),
            ),
            vec!["cannot read secret file", "no-such-key"],
        ),
        (
            text(dir.path(), "", &format!("{hook}restart_after = \"soon\"\n")),
            vec!["invalid config", "restart_after"],
        ),
        (
            text(dir.path(), "listen = \"127.0.0.1:1\"", &hook),
            vec!["listen changed", "restart"],
        ),
        (
            text(dir.path(), "base_path = \"/sitehook\"", &hook),
            vec!["base_path changed", "restart"],
        ),
        (
            text(Path::new("/elsewhere"), "", &hook),
            vec!["data_dir changed", "restart"],
        ),
    ];
    let mut relay = Relay::start(dir, &good, Arc::new(SystemClock)).await;
    for (i, (config, want)) in cases.iter().enumerate() {
        let error = relay
            .reload(config)
            .await
            .expect_err("a broken or restart-only config is refused")
            .to_string();
        for piece in want {
            assert!(error.contains(piece), "{error:?} lacks {piece:?}\n{config}");
        }
        if let ReloadError::Invalid { .. } = relay.reloader.reload().unwrap_err() {
            // `sitehook-relay check` validates with the same function: the same text.
            let check = Config::load(&relay.path("relay.toml")).unwrap_err();
            let check = sitehook_relay::delivery::describe(&check);
            assert!(error.contains(&check), "{error:?} vs check's {check:?}");
        }
        // The running config is untouched: deliveries go on with it.
        let id = format!("after-{i}");
        relay.accept(event(&id, "crm", "t")).await;
        let got = receiver.wait_for(i + 1).await;
        assert_eq!(by_id(&got, &id).header("x-api-key"), Some("the-key"));
    }
    // Fixing the file makes reloads work again.
    let changes = relay.reload(&good).await.expect("the good config reloads");
    assert!(changes.is_empty(), "{changes}");
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reloading_under_load_loses_and_doubles_nothing() {
    const TASKS: usize = 40;
    const PER_TASK: usize = 5;
    // A little latency keeps deliveries in flight while the config is swapped.
    let answers = vec![
        Answer {
            status: 200,
            retry_after: None,
            delay_ms: 2,
        };
        TASKS * PER_TASK
    ];
    let receiver = Receiver::start_on(0, &answers).await;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key");
    std::fs::write(&key, "k-0").unwrap();
    let (receiver_url, other_url) = (receiver.url("/crm"), receiver.url("/other"));
    // Two configs that differ in what a reload may change: the webhook's secret and
    // concurrency, another webhook, the allowed origins.
    let root = dir.path().to_owned();
    let variant = move |n: usize| {
        let extra = if n % 2 == 0 {
            "max_in_flight = 4"
        } else {
            "max_in_flight = 1\nretry_schedule = [\"1s\"]"
        };
        let mut hooks = webhook("crm", &receiver_url, &root.join("key"), extra);
        let mut top = "";
        if n % 2 == 1 {
            hooks += &webhook("other", &other_url, &root.join("key"), "");
            top = "allowed_origins = [\"https://shop.example.com\"]";
        }
        text(&root, top, &hooks)
    };
    let relay = Arc::new(Relay::start(dir, &variant(0), Arc::new(SystemClock)).await);

    let mut posts = Vec::new();
    for task in 0..TASKS {
        let relay = relay.clone();
        posts.push(tokio::spawn(async move {
            let events = (0..PER_TASK)
                .map(|i| event(&format!("load-{task:02}-{i}"), "crm", "t"))
                .collect();
            let (status, answer) = relay.post(events).await;
            assert_eq!(status, 202, "{answer}");
            let accepted: Vec<String> = answer["accepted"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect();
            accepted
        }));
    }
    let reloads = {
        let relay = relay.clone();
        let key = key.clone();
        tokio::spawn(async move {
            for n in 1..=8 {
                std::fs::write(&key, format!("k-{n}")).unwrap();
                relay
                    .reload(&variant(n))
                    .await
                    .unwrap_or_else(|e| panic!("reload {n}: {e}"));
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let mut accepted = BTreeSet::new();
    for post in posts {
        accepted.extend(post.await.unwrap());
    }
    reloads.await.unwrap();
    assert_eq!(accepted.len(), TASKS * PER_TASK, "every event is accepted");

    receiver
        .wait_for_within(accepted.len(), Duration::from_secs(60))
        .await;
    let mut relay = Arc::into_inner(relay).expect("the tasks are done");
    relay.stop().await;
    let got = receiver.got();
    let delivered: Vec<&str> = got.iter().filter_map(|g| g.header("webhook-id")).collect();
    let unique: BTreeSet<String> = delivered.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        delivered.len(),
        unique.len(),
        "each event is delivered once"
    );
    assert_eq!(unique, accepted, "every accepted event is delivered");
    let records = relay.store().list(&Filter {
        limit: 10 * TASKS * PER_TASK,
        ..Filter::default()
    });
    for r in records.unwrap() {
        assert_eq!((r.status, r.attempts), (Status::Delivered, 1), "{r:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_webhook_turns_its_waiting_events_into_replayable_dead_letters() {
    // The first attempt fails, so the event is waiting for its retry when the webhook
    // is removed.
    let receiver = Receiver::start(&[503]).await;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key");
    std::fs::write(&key, "the-key").unwrap();
    let keep = webhook("keep", &receiver.url("/keep"), &key, "");
    let gone = webhook(
        "gone",
        &receiver.url("/gone"),
        &key,
        "retry_schedule = [\"1h\"]",
    );
    let both = text(dir.path(), "", &(keep.clone() + &gone));
    let only_keep = text(dir.path(), "", &keep);
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let mut relay = Relay::start(dir, &both, clock.clone()).await;

    relay.accept(event("waiting", "gone", "t")).await;
    receiver.wait_for(1).await;
    relay
        .wait_record("waiting", |r| {
            r.attempts == 1 && r.status == Status::Pending
        })
        .await;
    let changes = relay.reload(&only_keep).await.unwrap();
    assert_eq!(changes.removed, ["gone"], "{changes}");

    // It fails at once, without waiting for its retry (an hour away): the event is
    // kept, failed, with a reason saying what to do.
    let record = relay
        .wait_record("waiting", |r| r.status == Status::Failed)
        .await;
    let error = record.last_error.unwrap_or_default();
    assert!(
        error.contains("\"gone\" is not in the relay's config") && error.contains("replay"),
        "{error}"
    );
    assert_eq!(receiver.got().len(), 1, "nothing was sent for it");
    let http = reqwest::Client::new();
    let shown = get_text(&http, &format!("{}/admin/api/events/waiting", relay.base)).await;
    let shown: Value = serde_json::from_str(&shown).unwrap_or_else(|_| panic!("{shown}"));
    assert!(
        shown["requestNote"]
            .as_str()
            .is_some_and(|n| n.contains("not in the relay's config")),
        "the inspector says why: {shown}"
    );

    // The webhook comes back: a replay delivers the event.
    relay.reload(&both).await.unwrap();
    let replayed = http
        .post(format!("{}/admin/api/events/waiting/replay", relay.base))
        .send()
        .await
        .unwrap();
    assert_eq!(replayed.status(), 200, "{:?}", replayed.text().await);
    let got = receiver.wait_for(2).await;
    assert_eq!(got[1].header("webhook-id"), Some("waiting"));
    relay
        .wait_record("waiting", |r| r.status == Status::Delivered)
        .await;
    relay.stop().await;
}

/// A webhook paused by a `410 Gone` and then removed by a reload: its waiting events
/// (the one that got the 410, and one accepted while it was paused) fail at once,
/// with the reason, instead of waiting for an `enable` that cannot come.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_webhook_removed_by_a_reload_fails_its_waiting_events() {
    let receiver = Receiver::start(&[410]).await;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key");
    std::fs::write(&key, "the-key").unwrap();
    let keep = webhook("keep", &receiver.url("/keep"), &key, "");
    let gone = webhook("gone", &receiver.url("/gone"), &key, "");
    let both = text(dir.path(), "", &(keep.clone() + &gone));
    let only_keep = text(dir.path(), "", &keep);
    let relay = Relay::start(dir, &both, Arc::new(SystemClock)).await;

    relay.accept(event("first", "gone", "t")).await;
    receiver.wait_for(1).await;
    relay.wait_record("first", |r| r.attempts == 1).await;
    relay.accept(event("second", "gone", "u")).await;
    let changes = relay.reload(&only_keep).await.unwrap();
    assert_eq!(changes.removed, ["gone"], "{changes}");
    for id in ["first", "second"] {
        let record = relay.wait_record(id, |r| r.status == Status::Failed).await;
        let error = record.last_error.unwrap_or_default();
        assert!(
            error.contains("\"gone\" is not in the relay's config"),
            "{id}: {error}"
        );
    }
    assert_eq!(receiver.got().len(), 1, "nothing more was sent");
}
