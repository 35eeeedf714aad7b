//! The demo: a small shop that includes the snippet, the relay config it fires, and a
//! local webhook receiver that records and shows what arrives, so the whole loop runs
//! on one machine with no outside service.
//!
//! Only mounted by `sitehook-relay demo` (`Config::demo`).

use std::net::SocketAddr;
use std::path::Path;

use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::config::{Config, ConfigError};
use crate::http::AppState;
use crate::receiver::Receiver;

/// The demo's relay config; `{addr}` is replaced by the listening address.
pub const RELAY_TOML: &str = include_str!("../../web/demo/relay.toml");
/// The environment variable holding the demo webhooks' secret header value.
pub const API_KEY_ENV: &str = "SITEHOOK_DEMO_API_KEY";
/// The secret used when that variable is not set. It is a demo: it protects nothing.
pub const DEFAULT_API_KEY: &str = "demo-secret-from-env";

const LAYOUT: &str = include_str!("../../web/demo/layout.html");
const CONFIG_JS: &str = include_str!("../../web/demo/config.js");
const DEMO_JS: &str = include_str!("../../web/demo/demo.js");
const DEMO_CSS: &str = include_str!("../../web/demo/demo.css");
const PAGES: &[(&str, &str, &str)] = &[
    ("/", "Home", include_str!("../../web/demo/pages/home.html")),
    (
        "/products/red-shoes",
        "Red shoes",
        include_str!("../../web/demo/pages/product.html"),
    ),
    (
        "/pricing",
        "Pricing",
        include_str!("../../web/demo/pages/pricing.html"),
    ),
];

/// The demo config for a relay listening on `addr`, storing in `data_dir`, whose
/// webhooks send `api_key` as their secret header.
pub fn config(addr: SocketAddr, data_dir: &Path, api_key: &str) -> Result<Config, ConfigError> {
    let text = RELAY_TOML.replace("{addr}", &addr.to_string());
    let mut config = Config::from_toml(&text, &|name| {
        (name == API_KEY_ENV).then(|| api_key.to_owned())
    })?;
    config.listen = addr;
    config.data_dir = data_dir.to_owned();
    config.demo = true;
    Ok(config)
}

/// The demo routes: the shop, its scripts, and `receiver` at `/demo/receiver`.
pub fn router(receiver: &Receiver) -> Router<AppState> {
    let mut router = Router::new();
    for (path, title, body) in PAGES {
        let html = LAYOUT.replace("{title}", title).replace("{body}", body);
        router = router.route(path, get(move || async move { Html(html) }));
    }
    router
        .route("/demo/config.js", get(|| async { script(CONFIG_JS) }))
        .route("/demo/demo.js", get(|| async { script(DEMO_JS) }))
        .route(
            "/demo/demo.css",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
                    DEMO_CSS,
                )
            }),
        )
        .merge(receiver.router("/demo/receiver"))
}

fn script(text: &'static str) -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        text,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_config_is_valid_and_keeps_secrets_out_of_it() {
        let addr: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let c = config(addr, Path::new("/tmp/demo"), "k").unwrap();
        assert!(c.demo);
        assert_eq!(
            c.webhooks["crm-lead"].url.as_str(),
            "http://127.0.0.1:8080/demo/receiver/hook/crm-lead"
        );
        assert_eq!(c.webhooks["crm-lead"].headers[0].1.expose(), "k");
        assert!(!RELAY_TOML.contains(DEFAULT_API_KEY));
    }
}
