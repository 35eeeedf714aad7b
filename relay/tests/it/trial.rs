//! `sitehook-relay test` as a user runs it, against a real local receiver.

use std::process::Command;

use crate::util::{Answer, Receiver, free_port};

const BIN: &str = env!("CARGO_BIN_EXE_sitehook-relay");

fn test_cmd(config: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(BIN)
        .arg("test")
        .args(args)
        .arg("--config")
        .arg(config)
        .env("TEST_KEY", "supersecret-value")
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("the relay binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_command_shows_request_response_and_verdict() {
    let receiver = Receiver::start_on(
        0,
        &[
            Answer::from(200),
            Answer::from(500),
            Answer {
                status: 200,
                retry_after: None,
                delay_ms: 2_000,
            },
        ],
    )
    .await;
    // A second receiver, answering every request 404, for the 4xx verdict and, over
    // https, for a TLS failure (it speaks plain HTTP).
    let not_found = sitehook_relay::receiver::Receiver::new(axum::http::StatusCode::NOT_FOUND);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let plain = listener.local_addr().unwrap();
    let app: axum::Router = not_found.router("");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("relay.toml");
    std::fs::write(
        &config,
        format!(
            "dangerously_allow_targets = [\"127.0.0.1\"]\n\
             [webhooks.crm]\nurl = \"{}\"\nfields = [\"profileid\", \"email\", \"gender\"]\ndata = {{ automationid = \"A-17\" }}\n\
             headers = {{ \"X-Api-Key\" = {{ env = \"TEST_KEY\" }} }}\n\
             [webhooks.slow]\nurl = \"{}\"\ntimeout = \"300ms\"\n\
             [webhooks.down]\nurl = \"http://127.0.0.1:{}/hook\"\n\
             [webhooks.missing]\nurl = \"http://{plain}/hook/missing\"\n\
             [webhooks.tls]\nurl = \"https://{plain}/hook/tls\"\n",
            receiver.url("/hook"),
            receiver.url("/slow"),
            free_port()
        ),
    )
    .unwrap();

    let (ok, out) = tokio::task::spawn_blocking({
        let config = config.clone();
        move || test_cmd(&config, &["crm"])
    })
    .await
    .unwrap();
    assert!(ok, "{out}");
    for want in [
        "POST http://127.0.0.1",
        "x-api-key: *** (17 bytes, masked)",
        "\"gender\":\"sample-gender\"",
        "\"automationid\":\"A-17\"",
        "HTTP 200 OK in",
        "OK: crm answered 200 OK",
    ] {
        assert!(out.contains(want), "no {want:?} in:\n{out}");
    }
    assert!(
        !out.contains("supersecret-value"),
        "the secret is printed:\n{out}"
    );
    let got = receiver.wait_for(1).await;
    assert_eq!(
        got[0].header("x-api-key"),
        Some("supersecret-value"),
        "the real secret is sent"
    );

    let (ok, out) = tokio::task::spawn_blocking({
        let config = config.clone();
        move || {
            test_cmd(
                &config,
                &[
                    "crm",
                    "--profile",
                    r#"{"profileid":"p-7","email":"x@example.com","age":41}"#,
                ],
            )
        }
    })
    .await
    .unwrap();
    assert!(
        !ok && out.contains("FAILED: crm answered 500 Internal Server Error"),
        "{out}"
    );
    assert!(
        out.contains("\"profileid\":\"p-7\"") && !out.contains("\"age\""),
        "the given profile, allowlisted:\n{out}"
    );

    let (ok, out) = tokio::task::spawn_blocking({
        let config = config.clone();
        move || test_cmd(&config, &["crm", "--dry-run"])
    })
    .await
    .unwrap();
    assert!(ok && out.contains("dry run: nothing was sent"), "{out}");
    assert_eq!(receiver.got().len(), 2, "a dry run sends nothing");

    let (ok, out) = tokio::task::spawn_blocking({
        let config = config.clone();
        move || test_cmd(&config, &["slow"])
    })
    .await
    .unwrap();
    assert!(
        !ok && out.contains("FAILED: no answer within the webhook's timeout (300ms)"),
        "{out}"
    );

    let (ok, out) = tokio::task::spawn_blocking({
        let config = config.clone();
        move || test_cmd(&config, &["down"])
    })
    .await
    .unwrap();
    assert!(
        !ok && out.contains("FAILED: error sending request"),
        "{out}"
    );

    let (ok, out) = tokio::task::spawn_blocking({
        let config = config.clone();
        move || test_cmd(&config, &["missing"])
    })
    .await
    .unwrap();
    assert!(
        !ok && out.contains("FAILED: missing answered 404 Not Found"),
        "{out}"
    );

    let (ok, out) = tokio::task::spawn_blocking({
        let config = config.clone();
        move || test_cmd(&config, &["tls"])
    })
    .await
    .unwrap();
    assert!(
        !ok && out.contains("FAILED: error sending request"),
        "a TLS handshake with a plain-HTTP server fails:\n{out}"
    );
    assert_eq!(
        not_found.requests().len(),
        1,
        "only the plain request arrived"
    );

    let (ok, out) = tokio::task::spawn_blocking(move || test_cmd(&config, &["nope"]))
        .await
        .unwrap();
    assert!(
        !ok && out
            .contains("no webhook \"nope\" in the config (it has: crm, down, missing, slow, tls)"),
        "{out}"
    );
}
