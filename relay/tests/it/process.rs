//! The relay as a real process: `kill -9` loses no acknowledged event, SIGTERM stops
//! it cleanly, and the operator commands read the same store.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::util::{Receiver, free_port, get_text, wait_ready};

const BIN: &str = env!("CARGO_BIN_EXE_sitehook-relay");

/// Starts `serve`, logging at `level` to `log` with the given extra arguments.
fn start(config: &Path, log: &Path, level: &str, args: &[&str]) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    Command::new(BIN)
        .args(["serve", "--config"])
        .arg(config)
        .args(args)
        .env("RUST_LOG", level)
        .env_remove("RUST_BACKTRACE")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("the relay binary starts")
}

fn batch(from: usize, n: usize) -> (Vec<String>, String) {
    let ids: Vec<String> = (from..from + n).map(|i| format!("kill-{i:04}")).collect();
    let events: Vec<_> = ids
        .iter()
        .map(|id| {
            json!({"id": id, "trigger": "t", "webhook": "hook", "profile": {"profileid": format!("p-{id}")},
                   "page": {"url": "https://shop.example.com/"}, "at": 1})
        })
        .collect();
    (ids, json!({ "events": events }).to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_no_acknowledged_event_and_delivers_each_once() {
    sitehook_relay::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let (relay_port, receiver_port) = (free_port(), free_port());
    let config = dir.path().join("relay.toml");
    let schedule = vec!["300ms"; 200];
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:{relay_port}\"\ndata_dir = {:?}\ndangerously_allow_targets = [\"127.0.0.1\"]\nshutdown_grace = \"5s\"\n\n\
             [webhooks.hook]\nurl = \"http://127.0.0.1:{receiver_port}/hook\"\nfields = [\"profileid\"]\n\
             timeout = \"2s\"\nretry_schedule = {schedule:?}\n",
            dir.path().join("data")
        ),
    )
    .unwrap();
    let log = dir.path().join("relay.log");
    let base = format!("http://127.0.0.1:{relay_port}");
    let http = reqwest::Client::new();

    // The receiver is down: every delivery fails and is retried.
    let mut relay = start(&config, &log, "warn", &[]);
    wait_ready(&http, &base, Duration::from_secs(30)).await;
    let mut acked: Vec<String> = Vec::new();
    for b in 0..20 {
        let (ids, body) = batch(b * 10, 10);
        let r = http
            .post(format!("{base}/v1/events"))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202, "{:?}", r.text().await);
        acked.extend(ids);
    }
    // More requests while the relay is killed: those that got a 202 must arrive too.
    let sender = {
        let (http, base) = (http.clone(), base.clone());
        tokio::spawn(async move {
            let mut acked = Vec::new();
            for b in 20..40 {
                let (ids, body) = batch(b * 10, 10);
                match http
                    .post(format!("{base}/v1/events"))
                    .body(body)
                    .send()
                    .await
                {
                    Ok(r) if r.status() == 202 => acked.extend(ids),
                    _ => break,
                }
            }
            acked
        })
    };
    tokio::time::sleep(Duration::from_millis(30)).await;
    relay.kill().unwrap(); // SIGKILL
    relay.wait().unwrap();
    acked.extend(sender.await.unwrap());
    assert!(acked.len() >= 200, "{} acknowledged", acked.len());

    // The receiver comes up, the relay restarts (logging JSON, for the check at the
    // end): everything acknowledged arrives once.
    let receiver = Receiver::start_on(receiver_port, &[]).await;
    let json_log = dir.path().join("relay.json.log");
    let mut relay = start(&config, &json_log, "info", &["--log-format", "json"]);
    wait_ready(&http, &base, Duration::from_secs(30)).await;
    receiver
        .wait_for_within(acked.len(), Duration::from_secs(60))
        .await;
    // Let the queue drain, then check that nothing came twice.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let metrics = get_text(&http, &format!("{base}/metrics")).await;
        if metrics.lines().any(|l| l == "sitehook_queue_depth 0") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the queue did not drain:\n{metrics}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for got in receiver.got() {
        *seen
            .entry(got.header("webhook-id").unwrap_or("").to_owned())
            .or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    let missing: Vec<_> = acked.iter().filter(|id| !seen.contains_key(*id)).collect();
    assert!(
        missing.is_empty(),
        "acknowledged but never delivered: {missing:?}"
    );

    // The operator's view, from the same store, while the relay runs.
    let out = Command::new(BIN)
        .args([
            "deliveries",
            "--status",
            "delivered",
            "--limit",
            "500",
            "--config",
        ])
        .arg(&config)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{listing}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        listing.lines().filter(|l| l.starts_with("kill-")).count(),
        seen.len(),
        "{listing}"
    );

    // SIGTERM: a clean exit.
    let status = Command::new("kill")
        .args(["-TERM", &relay.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(exit) = relay.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "the relay did not stop within 20s of SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let json_lines = std::fs::read_to_string(&json_log).unwrap_or_default();
    assert!(exit.success(), "exit after SIGTERM: {exit:?}\n{json_lines}");

    // `--log-format json`: one JSON object a line, with level, message and fields.
    let logged: Vec<serde_json::Value> = json_lines
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    let said = |message: &str| {
        logged
            .iter()
            .find(|l| l["message"] == message && l["level"] == "INFO")
    };
    let listening = said("relay listening").unwrap_or_else(|| panic!("{json_lines}"));
    assert_eq!(
        listening["addr"],
        format!("127.0.0.1:{relay_port}"),
        "{listening}"
    );
    assert!(
        said("shutting down: finishing in-flight deliveries").is_some(),
        "{json_lines}"
    );
}

/// Sends `signal` (`"HUP"`, `"TERM"`) to the relay process.
#[cfg(unix)]
fn signal(relay: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &relay.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal} failed");
}

/// Waits (at most 20 s) until the log has `n` lines containing `needle`; returns them.
#[cfg(unix)]
async fn wait_log(log: &Path, needle: &str, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let lines: Vec<String> = text
            .lines()
            .filter(|l| l.contains(needle))
            .map(str::to_owned)
            .collect();
        if lines.len() >= n {
            return lines;
        }
        assert!(
            Instant::now() < deadline,
            "no {n} log lines with {needle:?} within 20s:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_config_and_a_broken_file_is_refused() {
    sitehook_relay::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(&[]).await;
    let relay_port = free_port();
    let config = dir.path().join("relay.toml");
    let key = dir.path().join("key");
    std::fs::write(&key, "old-key\n").unwrap();
    let hook = |id: &str| {
        format!(
            "[webhooks.{id}]\nurl = \"{}\"\nfields = [\"profileid\"]\n\
             headers = {{ \"X-Api-Key\" = {{ file = {key:?} }} }}\n",
            receiver.url(&format!("/{id}"))
        )
    };
    let top = format!(
        "listen = \"127.0.0.1:{relay_port}\"\ndata_dir = {:?}\ndangerously_allow_targets = [\"127.0.0.1\"]\n",
        dir.path().join("data")
    );
    std::fs::write(&config, format!("{top}{}", hook("hook"))).unwrap();
    let log = dir.path().join("relay.log");
    let base = format!("http://127.0.0.1:{relay_port}");
    let http = reqwest::Client::new();
    let mut relay = start(&config, &log, "info", &[]);
    wait_ready(&http, &base, Duration::from_secs(30)).await;
    let send = |id: &'static str, webhook: &'static str| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let body = json!({"events": [{"id": id, "trigger": "t", "webhook": webhook,
                "profile": {"profileid": "p-1"}, "page": {"url": "https://shop.example.com/"}, "at": 1}]});
            let r = http
                .post(format!("{base}/v1/events"))
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };

    let (status, body) = send("before", "added").await;
    assert_eq!(status, 400, "the webhook is not there yet: {body}");

    // A webhook is added and the secret rotated; SIGHUP applies both.
    std::fs::write(&key, "new-key\n").unwrap();
    std::fs::write(&config, format!("{top}{}{}", hook("hook"), hook("added"))).unwrap();
    signal(&relay, "HUP");
    let reloaded = wait_log(&log, "config reloaded", 1).await;
    assert!(
        reloaded[0].contains("webhooks added: added")
            && reloaded[0].contains("webhooks changed: hook"),
        "{reloaded:?}"
    );
    let (status, body) = send("after", "added").await;
    assert_eq!(status, 202, "{body}");
    let got = receiver.wait_for(1).await;
    assert_eq!(
        (got[0].uri.path(), got[0].header("x-api-key")),
        ("/added", Some("new-key"))
    );

    // A broken file: refused with the reason, and the relay goes on with the old one.
    std::fs::write(&config, format!("{top}{}typo = 1\n", hook("hook"))).unwrap();
    signal(&relay, "HUP");
    wait_log(&log, "config reload refused", 1).await;
    // The reason is `check`'s text, which for a TOML error spans several lines.
    let text = std::fs::read_to_string(&log).unwrap();
    let refused = &text[text.find("config reload refused").unwrap()..];
    assert!(
        refused.contains("relay.toml") && refused.contains("unknown field `typo`"),
        "{refused}"
    );
    let (status, body) = send("still", "added").await;
    assert_eq!(status, 202, "the old config is kept: {body}");
    receiver.wait_for(2).await;

    signal(&relay, "TERM");
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(exit) = relay.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "no exit within 20s of SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        exit.success(),
        "{exit:?}\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
}

#[test]
fn a_data_dir_from_a_newer_relay_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let conn = rusqlite::Connection::open(data.join("sitehook.sqlite")).unwrap();
    conn.execute_batch(sitehook_relay::schema::MIGRATIONS[0])
        .unwrap();
    let newer = sitehook_relay::schema::CURRENT + 1;
    conn.pragma_update(None, "user_version", newer).unwrap();
    drop(conn);
    let config = dir.path().join("relay.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:{}\"\ndata_dir = {data:?}\n",
            free_port()
        ),
    )
    .unwrap();
    let want = format!(
        "data_dir {} was written by a newer sitehook relay (schema v{newer}, this build knows up to v{}); \
         upgrade the relay or point data_dir elsewhere",
        data.display(),
        sitehook_relay::schema::CURRENT
    );
    for command in ["serve", "deliveries"] {
        let out = Command::new(BIN)
            .args([command, "--config"])
            .arg(&config)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && stderr.contains(&want),
            "{command}: {:?}\n{stderr}",
            out.status
        );
    }
    let conn = rusqlite::Connection::open(data.join("sitehook.sqlite")).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, newer, "the newer database is left as it was");
}

/// A config without webhooks is valid (a relay may be set up first), but `check` says
/// that every event will be refused.
#[test]
fn check_warns_about_a_config_without_webhooks() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("relay.toml");
    std::fs::write(&config, "").unwrap();
    let out = Command::new(BIN)
        .args(["check", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("warning: {}", sitehook_relay::config::NO_WEBHOOKS)),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).ends_with(": OK\n"));
}
