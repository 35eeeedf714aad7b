//! The relay's TOML config.
//!
//! Read in two steps: [`FileConfig`] is the file as written (every table
//! `deny_unknown_fields`, so a typo is an error naming the key and line), and
//! [`Config`] is the validated result with secrets resolved. Nothing is validated
//! later: a relay that started has a config that works, and a reload
//! ([`crate::reload`]) swaps in only a `Config` that passed the same checks.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Url;
use reqwest::header::{HeaderName, HeaderValue};
use serde::Deserialize;
use sitehook_core::Restart;

/// Where the relay listens unless the config says otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Where the relay keeps its store unless the config says otherwise.
pub const DEFAULT_DATA_DIR: &str = "./sitehook-data";
/// How long one outbound request may take unless the webhook says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
/// The default waits between attempts, in seconds: close to Svix's schedule (5 s, 5
/// min, 30 min, 2 h, 5 h, 10 h, 10 h after an immediate first attempt).
pub const DEFAULT_RETRY_SCHEDULE: [u64; 7] = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000];
/// The default concurrency limit per webhook.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 16;
/// How long delivered events are kept unless the config says otherwise.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 86_400);
/// How long a stopping relay waits for deliveries unless the config says otherwise.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Parses an optional duration at `key`, with a default.
fn duration(text: Option<&str>, key: &str, default: Duration) -> Result<Duration, ConfigError> {
    match text {
        None => Ok(default),
        Some(text) => sitehook_core::Duration::parse(text)
            .map(|d| Duration::from_millis(d.as_millis()))
            .map_err(|m| invalid(key, m)),
    }
}

/// Decodes `whsec_<base64>` (the prefix is optional, as in the reference libraries).
fn decode_signing_secret(text: &str) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    let b64 = text.strip_prefix("whsec_").unwrap_or(text);
    let key = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| "must be a Standard Webhooks secret: whsec_ followed by base64".to_owned())?;
    if key.len() < 24 {
        return Err(
            "is too short: use at least 24 random bytes (whsec_ + 32 base64 characters)".into(),
        );
    }
    Ok(key)
}

/// Header names the relay sets itself; a config may not set them, so a webhook's
/// receiver can trust them.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-type",
    "content-length",
    "transfer-encoding",
    "connection",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
];

/// The config file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// The address to listen on, e.g. `"127.0.0.1:8080"`.
    #[serde(default)]
    pub listen: Option<String>,
    /// Origins (`"https://shop.example.com"`) whose pages may send events from another
    /// origin. The relay's own origin never needs listing.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// A path prefix every route is served under, e.g. `"/sitehook"`, for a relay
    /// mounted first-party in the site's own origin by a reverse proxy.
    #[serde(default)]
    pub base_path: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` is believed: `"IP"` or `"IP/prefix"`.
    /// Requests from them are rate-limited by the client address they forward.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// The folder of the embedded store.
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    /// Non-public addresses (loopback, private networks, link-local) that webhooks may
    /// nevertheless be delivered to: `"IP"` or `"IP/prefix"`. Empty by default, so a
    /// webhook URL cannot reach cloud metadata or internal services by mistake.
    #[serde(default)]
    pub dangerously_allow_targets: Vec<String>,
    /// Refuse webhook URLs that are not `https://`.
    #[serde(default)]
    pub require_https: bool,
    /// When set, events for a known profile must prove it: their `identity` must be
    /// the hex HMAC-SHA256 of the `profileid` under this secret, made by the site's
    /// backend. A secret source: `{ env = "NAME" }` or `{ file = "PATH" }`.
    #[serde(default)]
    pub identity_secret: Option<SecretSource>,
    /// How long delivered and suppressed events are kept for listings, e.g. `"7d"`.
    /// Failed events are kept until replayed.
    #[serde(default)]
    pub retention: Option<String>,
    /// How long a stopping relay waits for deliveries under way, e.g. `"30s"`.
    #[serde(default)]
    pub shutdown_grace: Option<String>,
    /// Rate limits and the queue bound: `[limits]`.
    #[serde(default)]
    pub limits: Limits,
    /// A token for the admin endpoints (the inspector, `/metrics`): with it, they need
    /// `Authorization: Bearer <token>` from anywhere; without it, they answer only
    /// requests from loopback addresses.
    #[serde(default)]
    pub admin_token: Option<SecretSource>,
    /// The webhooks, by id: `[webhooks.crm-lead]`.
    #[serde(default)]
    pub webhooks: BTreeMap<String, FileWebhook>,
}

/// `[limits]`: how much one client or profile may send, and how many undelivered
/// events the relay holds before it asks senders to come back later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Requests a minute from one client IP (0: no limit).
    pub per_ip_per_minute: u32,
    /// Requests one client IP may send at once before the rate applies.
    pub per_ip_burst: u32,
    /// Events a minute for one `profileid` (0: no limit).
    pub per_profile_per_minute: u32,
    /// Events for one profile at once before the rate applies.
    pub per_profile_burst: u32,
    /// Undelivered events held; beyond it `POST /v1/events` answers 503.
    pub max_queue_depth: u64,
}

impl Default for Limits {
    fn default() -> Self {
        // A page view sends one request with a handful of events; these leave room
        // for busy offices behind one NAT address while stopping floods.
        Limits {
            per_ip_per_minute: 600,
            per_ip_burst: 60,
            per_profile_per_minute: 60,
            per_profile_burst: 20,
            max_queue_depth: 1_000_000,
        }
    }
}

/// One `[webhooks.ID]` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileWebhook {
    /// The URL to call (`http` or `https`).
    pub url: String,
    /// `"POST"` (a JSON body, the default) or `"GET"` (query parameters).
    #[serde(default)]
    pub method: Option<String>,
    /// The profile fields that may be forwarded; nothing else from the browser is.
    #[serde(default)]
    pub fields: Vec<String>,
    /// Static fields sent with every call; they win over anything from the browser.
    #[serde(default)]
    pub data: BTreeMap<String, String>,
    /// Request headers, each from a secret source: `{ env = "NAME" }` or `{ file = "PATH" }`.
    #[serde(default)]
    pub headers: BTreeMap<String, SecretSource>,
    /// How long one call may take, e.g. `"15s"`.
    #[serde(default)]
    pub timeout: Option<String>,
    /// The server-side Stop: `"30d"`, or `"never"` for once per profile and trigger.
    #[serde(default)]
    pub restart_after: Option<String>,
    /// The waits between attempts after the first, e.g. `["5s", "5m", "30m"]`; after
    /// the last, the event is a dead letter. Each wait gets ±10% jitter.
    #[serde(default)]
    pub retry_schedule: Option<Vec<String>>,
    /// At most this many requests to this webhook at once.
    #[serde(default)]
    pub max_in_flight: Option<usize>,
    /// The trigger ids that may use this webhook; any trigger when absent.
    #[serde(default)]
    pub triggers: Option<Vec<String>>,
    /// Dry run: do everything (checks, Stop, storage, listings) but call the webhook.
    #[serde(default)]
    pub dry_run: bool,
    /// Standard Webhooks signing secrets (`whsec_...`), each from a secret source.
    /// Every request is signed with each (several while rotating).
    #[serde(default)]
    pub signing_secrets: Vec<SecretSource>,
}

/// Where a secret comes from. Secrets are never written in the config itself.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretSource {
    /// An environment variable's name.
    #[serde(default)]
    pub env: Option<String>,
    /// A file whose contents (trailing newline trimmed) are the secret, e.g. a systemd
    /// credential.
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// The value itself, written in the config. Refused unless `plain_text = true`
    /// marks it as intended (for values that are not secret, or for local testing):
    /// config files end up in repositories and backups.
    #[serde(default)]
    pub value: Option<String>,
    /// Marks `value` as knowingly written in plain text.
    #[serde(default)]
    pub plain_text: bool,
}

/// The validated config.
#[derive(Debug, Clone)]
pub struct Config {
    /// The address to listen on.
    pub listen: SocketAddr,
    /// Origins allowed to send events cross-origin.
    pub allowed_origins: Vec<HeaderValue>,
    /// The path prefix of every route (`""`, or e.g. `"/sitehook"`, no trailing slash).
    pub base_path: String,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: crate::egress::Allowlist,
    /// The folder of the embedded store.
    pub data_dir: PathBuf,
    /// The webhooks, by id.
    pub webhooks: BTreeMap<String, Webhook>,
    /// The key that proves known profiles, if required.
    pub identity_secret: Option<SigningKey>,
    /// Non-public addresses webhooks may be delivered to.
    pub allow_targets: crate::egress::Allowlist,
    /// Rate limits and the queue bound.
    pub limits: Limits,
    /// The admin endpoints' token, if any.
    pub admin_token: Option<Secret>,
    /// How long delivered and suppressed events are kept.
    pub retention: Duration,
    /// How long a stopping relay waits for deliveries under way.
    pub shutdown_grace: Duration,
    /// Serve the demo shop and receiver (set by `sitehook-relay demo` only).
    pub demo: bool,
}

/// HTTP method of a webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A JSON object body.
    Post,
    /// The same pairs as query parameters.
    Get,
}

/// A validated webhook. `PartialEq` tells a reload which webhooks changed (secrets
/// included).
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    /// Its id, as triggers name it.
    pub id: String,
    /// The URL to call.
    pub url: Url,
    /// POST or GET.
    pub method: Method,
    /// The profile fields that may be forwarded.
    pub fields: Vec<String>,
    /// Static fields.
    pub data: BTreeMap<String, String>,
    /// Headers with their resolved (secret) values, added last.
    pub headers: Vec<(HeaderName, Secret)>,
    /// Timeout of one call.
    pub timeout: Duration,
    /// The server-side Stop.
    pub restart_after: Option<Restart>,
    /// Waits between attempts.
    pub retry_schedule: Vec<Duration>,
    /// Concurrency limit.
    pub max_in_flight: usize,
    /// Decoded signing keys (the bytes after `whsec_`).
    pub signing_keys: Vec<SigningKey>,
    /// The trigger ids that may use this webhook (`None`: any).
    pub triggers: Option<Vec<String>>,
    /// Dry run: the webhook is never called.
    pub dry_run: bool,
}

/// A Standard Webhooks signing key; `Debug` masks it.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey(pub Vec<u8>);

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A secret value: shown as `***` by `Debug` and `Display`, so it cannot leak into
/// logs or errors by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(HeaderValue);

impl Secret {
    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &HeaderValue {
        &self.0
    }

    /// The value masked for display: its length and nothing else.
    pub fn masked(&self) -> String {
        format!("*** ({} bytes)", self.0.len())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Said by `check` and at start-up when the config defines no webhook: valid (a relay
/// may be set up before its webhooks), but every event will be refused.
pub const NO_WEBHOOKS: &str = "no webhooks are defined ([webhooks.<id>] tables): the relay will refuse every event until one is added (see docs/relay-config.md)";

/// A config error: which key, and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML for the config (the message names the key and line).
    #[error(transparent)]
    Parse(#[from] toml::de::Error),
    /// A value is wrong.
    #[error("{key}: {message}")]
    Invalid {
        /// The key's dotted path, e.g. `webhooks.crm-lead.url`.
        key: String,
        /// What is wrong and how to fix it.
        message: String,
    },
}

fn invalid(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        message: message.into(),
    }
}

impl Config {
    /// The `data_dir` of the config file at `path`, without resolving secrets: what
    /// the operator commands need (they run where the relay's secrets may not be set).
    pub fn data_dir_of(path: &Path) -> Result<PathBuf, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let file: FileConfig = toml::from_str(&text)?;
        Ok(file
            .data_dir
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)))
    }

    /// Reads and validates the config file at `path`, resolving secrets from the
    /// process environment.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::from_toml(&text, &|name| std::env::var(name).ok())
    }

    /// Parses and validates config text; `env` looks up environment variables.
    pub fn from_toml(
        text: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let file: FileConfig = toml::from_str(text)?;
        file.validate(env)
    }
}

impl FileConfig {
    /// Validates the file and resolves its secrets.
    pub fn validate(self, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let listen_text = self.listen.as_deref().unwrap_or(DEFAULT_LISTEN);
        let listen = listen_text.parse().map_err(|_| {
            invalid(
                "listen",
                format!("{listen_text:?} is not an address such as \"127.0.0.1:8080\""),
            )
        })?;
        let allowed_origins = self
            .allowed_origins
            .iter()
            .enumerate()
            .map(|(i, origin)| {
                parse_origin(origin).map_err(|m| invalid(format!("allowed_origins[{i}]"), m))
            })
            .collect::<Result<_, _>>()?;
        let allow_targets = crate::egress::Allowlist::parse(&self.dangerously_allow_targets)
            .map_err(|m| invalid("dangerously_allow_targets", m))?;
        let trusted_proxies = crate::egress::Allowlist::parse(&self.trusted_proxies)
            .map_err(|m| invalid("trusted_proxies", m))?;
        let base_path = match self.base_path.as_deref() {
            None | Some("" | "/") => String::new(),
            Some(p) => {
                let ok = p.starts_with('/')
                    && !p.ends_with('/')
                    && !p.contains("//")
                    && p.bytes().all(|b| {
                        b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'~')
                    })
                    && !p.split('/').any(|seg| seg == "." || seg == "..");
                if !ok {
                    return Err(invalid(
                        "base_path",
                        format!(
                            "{p:?} is not a path prefix such as \"/sitehook\" (a leading slash, no trailing slash,                              letters, digits, - _ . ~ and /)"
                        ),
                    ));
                }
                p.to_owned()
            }
        };
        let webhooks = self
            .webhooks
            .into_iter()
            .map(|(id, w)| {
                let webhook = w.validate(&id, env)?;
                let key = format!("webhooks.{id}.url");
                if self.require_https && webhook.url.scheme() != "https" {
                    return Err(invalid(
                        key,
                        "must be an https:// URL (require_https is set)",
                    ));
                }
                // A literal IP is checked here; names are checked when resolved.
                let literal = webhook.url.host_str().and_then(|h| {
                    h.trim_start_matches('[')
                        .trim_end_matches(']')
                        .parse::<std::net::IpAddr>()
                        .ok()
                });
                if let Some(ip) = literal.filter(|ip| !allow_targets.permits(*ip)) {
                    return Err(invalid(key, crate::egress::refusal(ip)));
                }
                Ok((id, webhook))
            })
            .collect::<Result<_, ConfigError>>()?;
        Ok(Config {
            listen,
            allowed_origins,
            base_path,
            trusted_proxies,
            data_dir: self
                .data_dir
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
            webhooks,
            allow_targets,
            limits: self.limits,
            admin_token: match &self.admin_token {
                None => None,
                Some(source) => {
                    let value = source.resolve("admin_token", env)?;
                    Some(Secret(HeaderValue::from_str(&value).map_err(|_| {
                        invalid("admin_token", "contains characters a header cannot carry")
                    })?))
                }
            },
            identity_secret: match &self.identity_secret {
                None => None,
                Some(source) => Some(SigningKey(
                    source.resolve("identity_secret", env)?.into_bytes(),
                )),
            },
            retention: duration(self.retention.as_deref(), "retention", DEFAULT_RETENTION)?,
            shutdown_grace: duration(
                self.shutdown_grace.as_deref(),
                "shutdown_grace",
                DEFAULT_SHUTDOWN_GRACE,
            )?,
            demo: false,
        })
    }
}

fn parse_origin(origin: &str) -> Result<HeaderValue, String> {
    let url = Url::parse(origin).map_err(|e| format!("{origin:?} is not an origin ({e})"))?;
    let bare = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
    if !matches!(url.scheme(), "http" | "https")
        || !bare
        || !origin
            .trim_end_matches('/')
            .eq(&url.origin().ascii_serialization())
    {
        return Err(format!(
            "{origin:?} is not an origin: write scheme, host and port only, e.g. \"https://shop.example.com\""
        ));
    }
    HeaderValue::from_str(&url.origin().ascii_serialization()).map_err(|e| e.to_string())
}

impl FileWebhook {
    fn validate(
        self,
        id: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Webhook, ConfigError> {
        let key = |k: &str| format!("webhooks.{id}.{k}");
        if id.is_empty()
            || id.len() > 64
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
        {
            return Err(invalid(
                format!("webhooks.{id}"),
                "a webhook id is 1 to 64 letters, digits and - _ . :",
            ));
        }
        let url = Url::parse(&self.url)
            .map_err(|e| invalid(key("url"), format!("{:?} is not a URL ({e})", self.url)))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(invalid(
                key("url"),
                "must be an http:// or https:// URL with a host",
            ));
        }
        let method = match self
            .method
            .as_deref()
            .map(str::to_ascii_uppercase)
            .as_deref()
        {
            None | Some("POST") => Method::Post,
            Some("GET") => Method::Get,
            Some(other) => {
                return Err(invalid(
                    key("method"),
                    format!("{other:?} is not supported: use \"POST\" or \"GET\""),
                ));
            }
        };
        for (i, field) in self.fields.iter().enumerate() {
            if field.is_empty() {
                return Err(invalid(
                    format!("{}[{i}]", key("fields")),
                    "a field name must not be empty",
                ));
            }
        }
        let mut headers = Vec::new();
        for (name, source) in self.headers {
            let hkey = format!("{}.{name}", key("headers"));
            let header = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| invalid(&hkey, "is not a valid header name"))?;
            if RESERVED_HEADERS.contains(&header.as_str()) {
                return Err(invalid(
                    &hkey,
                    "is set by the relay itself and cannot be configured",
                ));
            }
            if headers
                .iter()
                .any(|(h, _): &(HeaderName, Secret)| *h == header)
            {
                return Err(invalid(&hkey, "is given twice (header names ignore case)"));
            }
            let value = source.resolve(&hkey, env)?;
            let value = HeaderValue::from_str(&value).map_err(|_| {
                invalid(
                    &hkey,
                    "the secret is not a valid header value (control characters?)",
                )
            })?;
            headers.push((header, Secret(value)));
        }
        let timeout = duration(self.timeout.as_deref(), &key("timeout"), DEFAULT_TIMEOUT)?;
        if timeout.is_zero() {
            return Err(invalid(key("timeout"), "must be more than 0s"));
        }
        let retry_schedule = match &self.retry_schedule {
            None => DEFAULT_RETRY_SCHEDULE
                .iter()
                .map(|s| Duration::from_secs(*s))
                .collect(),
            Some(list) => list
                .iter()
                .enumerate()
                .map(|(i, text)| {
                    duration(
                        Some(text),
                        &format!("{}[{i}]", key("retry_schedule")),
                        Duration::ZERO,
                    )
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        let max_in_flight = self.max_in_flight.unwrap_or(DEFAULT_MAX_IN_FLIGHT);
        if max_in_flight == 0 {
            return Err(invalid(key("max_in_flight"), "must be 1 or more"));
        }
        let signing_keys = self
            .signing_secrets
            .iter()
            .enumerate()
            .map(|(i, source)| {
                let k = format!("{}[{i}]", key("signing_secrets"));
                let text = source.resolve(&k, env)?;
                decode_signing_secret(&text)
                    .map(SigningKey)
                    .map_err(|m| invalid(&k, m))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let restart_after = match self.restart_after.as_deref() {
            None => None,
            Some(text) => Some(Restart::parse(text).map_err(|m| invalid(key("restart_after"), m))?),
        };
        Ok(Webhook {
            id: id.to_owned(),
            url,
            method,
            fields: self.fields,
            data: self.data,
            headers,
            timeout,
            restart_after,
            retry_schedule,
            max_in_flight,
            signing_keys,
            triggers: self.triggers,
            dry_run: self.dry_run,
        })
    }
}

impl SecretSource {
    fn resolve(
        &self,
        key: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<String, ConfigError> {
        match (&self.env, &self.file) {
            (None, None) if self.value.is_some() => match (&self.value, self.plain_text) {
                (Some(v), true) if !v.is_empty() => Ok(v.clone()),
                (Some(_), true) => Err(invalid(key, "value is empty")),
                _ => Err(invalid(
                    key,
                    "a secret written in the config needs plain_text = true to say so; better, use { env = \"NAME\" } or { file = \"/path\" }",
                )),
            },
            (Some(name), None) if self.value.is_none() => {
                env(name).filter(|v| !v.is_empty()).ok_or_else(|| {
                    invalid(
                        key,
                        format!("environment variable {name} is not set (or empty)"),
                    )
                })
            }
            (None, Some(path)) if self.value.is_none() => std::fs::read_to_string(path)
                .map(|s| s.trim_end_matches(['\r', '\n']).to_owned())
                .map_err(|e| {
                    invalid(
                        key,
                        format!("cannot read secret file {}: {e}", path.display()),
                    )
                })
                .and_then(|v| {
                    if v.is_empty() {
                        Err(invalid(
                            key,
                            format!("secret file {} is empty", path.display()),
                        ))
                    } else {
                        Ok(v)
                    }
                }),
            _ => Err(invalid(
                key,
                "give exactly one of { env = \"NAME\" }, { file = \"/path\" } or { value = \"...\", plain_text = true }",
            )),
        }
    }
}

/// A duration as configs write it: whole units when exact, else milliseconds.
fn show(d: Duration) -> String {
    let ms = d.as_millis() as u64;
    if ms % 1000 == 0 {
        sitehook_core::Duration::from_millis(ms).text()
    } else {
        format!("{ms}ms")
    }
}

/// A human summary of a config for `check`, with every secret masked.
pub fn summary(config: &Config) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let origins: Vec<&str> = config
        .allowed_origins
        .iter()
        .filter_map(|o| o.to_str().ok())
        .collect();
    let origins = if origins.is_empty() {
        "(same origin only)".to_owned()
    } else {
        origins.join(", ")
    };
    let _ = writeln!(out, "listen           {}", config.listen);
    let _ = writeln!(out, "data_dir         {}", config.data_dir.display());
    let _ = writeln!(out, "allowed_origins  {origins}");
    if !config.base_path.is_empty() {
        let _ = writeln!(out, "base_path        {}", config.base_path);
    }
    let _ = writeln!(out, "retention        {}", show(config.retention));
    let identity = if config.identity_secret.is_some() {
        "required (secret masked)"
    } else {
        "not required"
    };
    let _ = writeln!(out, "identity proof   {identity}");
    let l = &config.limits;
    let _ = writeln!(
        out,
        "limits           {}/min per IP (burst {}), {}/min per profile (burst {}), queue {}",
        l.per_ip_per_minute,
        l.per_ip_burst,
        l.per_profile_per_minute,
        l.per_profile_burst,
        l.max_queue_depth
    );
    let _ = writeln!(out, "shutdown_grace   {}", show(config.shutdown_grace));
    for (id, w) in &config.webhooks {
        let method = match w.method {
            Method::Post => "POST",
            Method::Get => "GET",
        };
        let fields = if w.fields.is_empty() {
            "(none)".to_owned()
        } else {
            w.fields.join(", ")
        };
        let _ = writeln!(
            out,
            "webhook {id}{}",
            if w.dry_run {
                "  (dry run: never called)"
            } else {
                ""
            }
        );
        let _ = writeln!(out, "  {method} {}", w.url);
        let _ = writeln!(out, "  fields         {fields}");
        for (k, v) in &w.data {
            let _ = writeln!(out, "  data           {k} = {v}");
        }
        for (name, secret) in &w.headers {
            let _ = writeln!(out, "  header         {name}: {}", secret.masked());
        }
        if !w.signing_keys.is_empty() {
            let _ = writeln!(
                out,
                "  signing        {} key(s), masked",
                w.signing_keys.len()
            );
        }
        let _ = writeln!(out, "  timeout        {}", show(w.timeout));
        let schedule: Vec<String> = w.retry_schedule.iter().map(|d| show(*d)).collect();
        let _ = writeln!(
            out,
            "  retries        {} after the first attempt: {}",
            schedule.len(),
            schedule.join(", ")
        );
        let _ = writeln!(out, "  max_in_flight  {}", w.max_in_flight);
        if let Some(triggers) = &w.triggers {
            let _ = writeln!(out, "  triggers       {}", triggers.join(", "));
        }
        match w.restart_after {
            None => {}
            Some(Restart::Never) => {
                let _ = writeln!(out, "  restart_after  never");
            }
            Some(Restart::After(d)) => {
                let _ = writeln!(
                    out,
                    "  restart_after  {}",
                    show(Duration::from_millis(d.as_millis()))
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "CRM_API_KEY").then(|| "s3cret-value".to_owned())
    }

    const GOOD: &str = r#"
listen = "127.0.0.1:9090"
allowed_origins = ["https://shop.example.com"]
data_dir = "/tmp/x"

[webhooks.crm-lead]
url = "https://crm.example.com/api/automation"
method = "POST"
fields = ["profileid", "email"]
data = { automationid = "A-17" }
headers = { "X-Api-Key" = { env = "CRM_API_KEY" } }
restart_after = "30d"
"#;

    #[test]
    fn a_good_config() {
        let c = Config::from_toml(GOOD, &env).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:9090");
        let w = &c.webhooks["crm-lead"];
        assert_eq!(w.method, Method::Post);
        assert_eq!(w.timeout, DEFAULT_TIMEOUT);
        assert_eq!(w.headers[0].1.expose(), "s3cret-value");
        assert!(
            !format!("{c:?}").contains("s3cret"),
            "Debug must mask secrets"
        );
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            (
                GOOD.replace("method = \"POST\"", "methd = \"POST\""),
                "unknown field `methd`",
            ),
            (
                GOOD.replace("method = \"POST\"", "method = \"PUT\""),
                "webhooks.crm-lead.method: \"PUT\" is not supported",
            ),
            (
                GOOD.replace("https://crm.example.com/api/automation", "crm.example.com"),
                "webhooks.crm-lead.url: \"crm.example.com\" is not a URL",
            ),
            (
                GOOD.replace("ftp", "").replace("https://crm", "ftp://crm"),
                "webhooks.crm-lead.url: must be an http:// or https:// URL",
            ),
            (
                GOOD.replace("CRM_API_KEY", "MISSING_KEY"),
                "webhooks.crm-lead.headers.X-Api-Key: environment variable MISSING_KEY is not set",
            ),
            (
                GOOD.replace("\"X-Api-Key\"", "\"Host\""),
                "webhooks.crm-lead.headers.Host: is set by the relay itself",
            ),
            (
                GOOD.replace("{ env = \"CRM_API_KEY\" }", "\"plain\""),
                "invalid type: string \"plain\"",
            ),
            (
                GOOD.replace("\"30d\"", "\"30 days\""),
                "webhooks.crm-lead.restart_after: expected \"never\" or a duration such as \"30d\"",
            ),
            (
                GOOD.replace("127.0.0.1:9090", "localhost"),
                "listen: \"localhost\" is not an address",
            ),
            (
                GOOD.replace(
                    "https://shop.example.com\"",
                    "https://shop.example.com/path\"",
                ),
                "allowed_origins[0]: \"https://shop.example.com/path\" is not an origin",
            ),
            (
                GOOD.replace("[webhooks.crm-lead]", "[webhooks.\"crm lead\"]"),
                "webhooks.crm lead: a webhook id is",
            ),
            (
                GOOD.replace(
                    "https://crm.example.com/api/automation",
                    "http://169.254.169.254/latest/meta-data",
                ),
                "webhooks.crm-lead.url: refusing to connect to 169.254.169.254: not a public address",
            ),
            (
                GOOD.replace(
                    "https://crm.example.com/api/automation",
                    "http://[::ffff:127.0.0.1]:8080/hook",
                ),
                "webhooks.crm-lead.url: refusing to connect to ::ffff:127.0.0.1",
            ),
            (
                format!(
                    "require_https = true\n{}",
                    GOOD.replace("https://crm", "http://crm")
                ),
                "webhooks.crm-lead.url: must be an https:// URL (require_https is set)",
            ),
            (
                format!("dangerously_allow_targets = [\"localhost\"]\n{GOOD}"),
                "dangerously_allow_targets: \"localhost\" is not an IP address",
            ),
        ];
        for (text, want) in cases {
            let got = Config::from_toml(&text, &env)
                .map(|_| ())
                .unwrap_err()
                .to_string();
            assert!(
                got.contains(want),
                "expected an error containing {want:?}, got:\n{got}"
            );
        }
    }

    #[test]
    fn allowed_targets_admit_private_addresses() {
        let text = format!(
            "dangerously_allow_targets = [\"127.0.0.0/8\"]\n{}",
            GOOD.replace(
                "https://crm.example.com/api/automation",
                "http://127.0.0.1:9/hook"
            )
        );
        assert!(Config::from_toml(&text, &env).is_ok());
    }

    #[test]
    fn parse_errors_give_the_line() {
        let got = Config::from_toml(&GOOD.replace("method = \"POST\"", "methd = \"POST\""), &env)
            .unwrap_err()
            .to_string();
        assert!(got.contains("line 8"), "no line number in:\n{got}");
    }

    #[test]
    fn plain_text_secrets_must_say_so() {
        let marked = GOOD.replace(
            "{ env = \"CRM_API_KEY\" }",
            "{ value = \"not-secret\", plain_text = true }",
        );
        assert_eq!(
            Config::from_toml(&marked, &env).unwrap().webhooks["crm-lead"].headers[0]
                .1
                .expose(),
            "not-secret"
        );
        let unmarked = GOOD.replace("{ env = \"CRM_API_KEY\" }", "{ value = \"s3cret\" }");
        let err = Config::from_toml(&unmarked, &env).unwrap_err().to_string();
        assert!(err.starts_with("webhooks.crm-lead.headers.X-Api-Key: a secret written in the config needs plain_text = true"), "{err}");
        assert!(!err.contains("s3cret"), "the value is not repeated: {err}");
        let both = GOOD.replace(
            "{ env = \"CRM_API_KEY\" }",
            "{ env = \"CRM_API_KEY\", value = \"x\", plain_text = true }",
        );
        assert!(
            Config::from_toml(&both, &env)
                .unwrap_err()
                .to_string()
                .contains("give exactly one of")
        );
    }

    #[test]
    fn secrets_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "from-file\n").unwrap();
        let text = GOOD.replace(
            "{ env = \"CRM_API_KEY\" }",
            &format!("{{ file = {:?} }}", path),
        );
        let c = Config::from_toml(&text, &env).unwrap();
        assert_eq!(c.webhooks["crm-lead"].headers[0].1.expose(), "from-file");
    }
}
