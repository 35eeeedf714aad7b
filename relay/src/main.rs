//! `sitehook-relay`: serve, check a config, or run the demo.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use std::sync::Arc;

use sitehook_relay::clock::{Clock, SystemClock};
use sitehook_relay::reload::{Overrides, Reloader, Shared};
use sitehook_relay::store::{Filter, Next, SqliteStore, Status, Store};
use sitehook_relay::{Config, demo};
use tokio::net::TcpListener;

/// The sitehook relay: receives the events that matched in visitors' browsers and
/// calls your webhooks with the secret headers only it knows.
#[derive(Parser)]
#[command(name = "sitehook-relay", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// How the relay logs to stderr: `text` for people, `json` (one object a line) for
    /// log collectors. `RUST_LOG` picks what is logged (default: info).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

/// See [`Cli::log_format`].
#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the relay with a config file; SIGHUP reloads the file.
    ///
    /// On SIGHUP the relay reads the file again, validates it as `check` does and, if
    /// it is valid, applies it to new requests and the next delivery attempts without
    /// dropping events: webhooks, secrets from `file` sources (read again), allowed
    /// origins, limits and the rest. `env` secrets come from the relay's own
    /// environment, which a reload cannot change: rotate those with a restart. A
    /// broken file, or one that changes listen, data_dir or base_path (they need a
    /// restart), is refused with a logged reason and the running config is kept.
    Serve {
        /// The TOML config file.
        #[arg(long, short)]
        config: PathBuf,
        /// Listen here instead of the config's `listen`.
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Do everything but call the webhooks (as if every webhook had `dry_run = true`).
        #[arg(long)]
        dry_run: bool,
    },
    /// Validate a config file and print what it sets up (secrets masked).
    Check {
        /// The TOML config file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Print the Subresource Integrity hash of /sitehook.js as this config serves it,
    /// and a script tag that pins it (the script pins the wasm in turn).
    Integrity {
        /// The TOML config file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Send one sample event to a webhook and show the request (secrets masked), the
    /// response and a verdict; exits non-zero when the webhook does not answer 2xx.
    Test {
        /// The webhook id (or use --all).
        webhook: Option<String>,
        /// The TOML config file.
        #[arg(long, short)]
        config: PathBuf,
        /// Test every webhook in the config.
        #[arg(long)]
        all: bool,
        /// The profile to send, as JSON or @file [default: a sample with the webhook's fields].
        #[arg(long, value_name = "JSON|@FILE")]
        profile: Option<String>,
        /// Trigger data to send along, as JSON or @file.
        #[arg(long, value_name = "JSON|@FILE")]
        data: Option<String>,
        /// Print the request without sending it.
        #[arg(long)]
        dry_run: bool,
    },
    /// List recent events and their deliveries (newest first), or one event's attempts.
    Deliveries {
        /// The TOML config file (for `data_dir`).
        #[arg(long, short)]
        config: PathBuf,
        /// Only this status: pending, delivered, failed (dead letters), suppressed or dry-run.
        #[arg(long)]
        status: Option<String>,
        /// Only this webhook.
        #[arg(long)]
        webhook: Option<String>,
        /// Only this profile id.
        #[arg(long)]
        profile: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Show every attempt at this event instead.
        #[arg(long)]
        id: Option<String>,
    },
    /// Put failed events (dead letters) back in the queue with a fresh set of attempts.
    /// A running relay picks them up within a second.
    Replay {
        /// The TOML config file (for `data_dir`).
        #[arg(long, short)]
        config: PathBuf,
        /// The event ids to replay.
        ids: Vec<String>,
        /// Replay every event that failed within this long, e.g. "2h" or "7d".
        #[arg(long, value_name = "DURATION")]
        failed_since: Option<String>,
    },
    /// Resume deliveries to a webhook that answered 410 Gone.
    Enable {
        /// The webhook id.
        webhook: String,
        /// The TOML config file (for `data_dir`).
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Run a local webhook receiver that records and shows every request it gets: point
    /// a webhook at http://ADDR/hook/<anything> while setting up.
    Receiver {
        /// Where to listen.
        #[arg(long, default_value = "127.0.0.1:9000")]
        listen: SocketAddr,
        /// The HTTP status to answer every webhook with (e.g. 503 to watch the relay retry).
        #[arg(long, default_value_t = 200)]
        status: u16,
    },
    /// Run the demo shop, the relay and a local webhook receiver in one process.
    Demo {
        /// Where to listen.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Where to store events [default: a new temporary folder, removed on exit].
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The chain on one line ("invalid config x.toml: webhooks.crm.url: ..."),
            // without a backtrace: these are a user's errors, not the program's.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let init_logs = || init_logs(cli.log_format);
    match cli.command {
        Command::Serve {
            config: path,
            listen,
            dry_run,
        } => {
            init_logs();
            let mut config = Config::load(&path)
                .with_context(|| format!("invalid config {}", path.display()))?;
            let overrides = Overrides { listen, dry_run };
            overrides.apply(&mut config);
            let listener = TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("cannot listen on {}", config.listen))?;
            let reloader = Arc::new(Reloader::new(
                &path,
                overrides,
                Arc::new(Shared::new(config)),
            ));
            let on_hup = sitehook_relay::reload::on_sighup(reloader.clone())
                .context("cannot listen for SIGHUP (config reload)")?;
            tokio::spawn(on_hup);
            sitehook_relay::run_shared(
                reloader.config(),
                listener,
                sitehook_relay::shutdown_signal(),
                Arc::new(SystemClock),
            )
            .await
        }
        Command::Check { config: path } => {
            let config = Config::load(&path)
                .with_context(|| format!("invalid config {}", path.display()))?;
            print!("{}", sitehook_relay::config::summary(&config));
            if config.webhooks.is_empty() {
                eprintln!("warning: {}", sitehook_relay::config::NO_WEBHOOKS);
            }
            println!("{}: OK", path.display());
            Ok(())
        }
        Command::Integrity { config: path } => {
            let config = Config::load(&path)
                .with_context(|| format!("invalid config {}", path.display()))?;
            let Some(hash) = sitehook_relay::http::snippet::integrity(&config) else {
                anyhow::bail!(
                    "the snippet is not built into this relay: run `cargo xtask dist`, then rebuild the relay"
                );
            };
            println!("{hash}");
            println!(
                "<script async src=\"https://RELAY{}/sitehook.js\" integrity=\"{hash}\" crossorigin=\"anonymous\"></script>",
                config.base_path
            );
            eprintln!(
                "The hash changes with the relay's version and with the webhooks' `fields` in the config: run this again after either changes."
            );
            Ok(())
        }
        Command::Test {
            webhook,
            config: path,
            all,
            profile,
            data,
            dry_run,
        } => {
            sitehook_relay::install_crypto_provider();
            let config = Config::load(&path)
                .with_context(|| format!("invalid config {}", path.display()))?;
            let trial = sitehook_relay::trial::Trial {
                profile: profile
                    .as_deref()
                    .map(|p| sitehook_relay::trial::parse_fields(p, "--profile"))
                    .transpose()?,
                data: data
                    .as_deref()
                    .map(|d| sitehook_relay::trial::parse_fields(d, "--data"))
                    .transpose()?
                    .unwrap_or_default(),
                dry_run,
            };
            let ids: Vec<String> = match (webhook, all) {
                (Some(id), false) => vec![id],
                (None, true) => config.webhooks.keys().cloned().collect(),
                _ => anyhow::bail!("name one webhook, or use --all"),
            };
            let mut failed = Vec::new();
            for (i, id) in ids.iter().enumerate() {
                if i > 0 {
                    println!();
                }
                if !sitehook_relay::trial::run(&config, id, &trial).await? {
                    failed.push(id.as_str());
                }
            }
            anyhow::ensure!(
                failed.is_empty(),
                "the test failed for: {}",
                failed.join(", ")
            );
            Ok(())
        }
        Command::Deliveries {
            config,
            status,
            webhook,
            profile,
            limit,
            id,
        } => {
            let store = open_store(&config)?;
            if let Some(id) = id {
                let attempts = store.attempts(&id)?;
                if attempts.is_empty() {
                    anyhow::bail!("no attempts recorded for event {id}");
                }
                println!(
                    "{:<31} {:>8} {:>6}  {:<13} error",
                    "at", "took", "status", "then"
                );
                for a in attempts {
                    let then = match a.next {
                        Next::Delivered => "delivered".to_owned(),
                        Next::RetryAt(_) => "retry".to_owned(),
                        Next::DeadLetter => "dead letter".to_owned(),
                        Next::DryRun => "dry run".to_owned(),
                        Next::WebhookGone => "webhook gone".to_owned(),
                    };
                    let status = a.status.map_or("-".to_owned(), |s| s.to_string());
                    println!(
                        "{:<31} {:>6}ms {:>6}  {then:<13} {}",
                        time(a.at),
                        a.duration_ms,
                        status,
                        a.error.unwrap_or_default()
                    );
                }
                return Ok(());
            }
            let status = match status.as_deref() {
                None => None,
                Some(s) => Some(Status::parse(s).with_context(|| {
                    format!("--status {s:?}: use pending, delivered, failed, suppressed or dry-run")
                })?),
            };
            let filter = Filter {
                status,
                webhook,
                profileid: profile,
                limit,
            };
            println!(
                "{:<36}  {:<29}  {:<10}  {:>8}  {:<16} {:<16} {:<12} last error",
                "event", "received", "status", "attempts", "webhook", "trigger", "profile"
            );
            for r in store.list(&filter)? {
                println!(
                    "{:<36}  {:<29}  {:<10}  {:>8}  {:<16} {:<16} {:<12} {}",
                    r.id,
                    time(r.received_at),
                    r.status.as_str(),
                    r.attempts,
                    r.webhook,
                    r.trigger,
                    r.profileid,
                    r.last_error.unwrap_or_default()
                );
            }
            for (webhook, reason) in store.disabled()? {
                println!(
                    "\nwebhook {webhook} is paused: {reason}. Resume with: sitehook-relay enable {webhook} --config ..."
                );
            }
            Ok(())
        }
        Command::Replay {
            config,
            ids,
            failed_since,
        } => {
            let since = match failed_since.as_deref() {
                None => None,
                Some(text) => {
                    let d = sitehook_core::Duration::parse(text)
                        .map_err(|m| anyhow::anyhow!("--failed-since {text:?}: {m}"))?;
                    Some(SystemClock.now_ms().saturating_sub(d.as_millis()))
                }
            };
            anyhow::ensure!(
                !ids.is_empty() || since.is_some(),
                "name event ids to replay, or --failed-since DURATION"
            );
            let n = open_store(&config)?.replay(&ids, since)?;
            println!("{n} failed event(s) queued again");
            Ok(())
        }
        Command::Enable { webhook, config } => {
            if open_store(&config)?.enable(&webhook)? {
                println!("webhook {webhook}: deliveries resume");
            } else {
                println!("webhook {webhook} was not paused");
            }
            Ok(())
        }
        Command::Receiver { listen, status } => {
            init_logs();
            let answer = axum::http::StatusCode::from_u16(status)
                .ok()
                .filter(|s| (200..600).contains(&s.as_u16()))
                .with_context(|| {
                    format!("--status {status}: give an HTTP status from 200 to 599")
                })?;
            let listener = TcpListener::bind(listen).await.with_context(|| {
                format!("cannot listen on {listen}: is the port taken? Try --listen 127.0.0.1:9001")
            })?;
            let addr = listener.local_addr()?;
            let app: axum::Router = sitehook_relay::receiver::Receiver::new(answer).router("");
            println!(
                "\n  sitehook webhook receiver\n\n  \
                 Point a webhook at  http://{addr}/hook/<anything>\n  \
                 (a relay needs dangerously_allow_targets = [\"{ip}\"] to deliver to this machine)\n  \
                 See what arrives at http://{addr}/  (JSON: /requests). Every request is answered {answer}.\n  \
                 Stop with Ctrl-C.\n",
                ip = addr.ip(),
            );
            axum::serve(listener, app)
                .with_graceful_shutdown(sitehook_relay::shutdown_signal())
                .await
                .context("serving HTTP")
        }
        Command::Demo { listen, data_dir } => {
            init_logs();
            let api_key = std::env::var(demo::API_KEY_ENV)
                .unwrap_or_else(|_| demo::DEFAULT_API_KEY.to_owned());
            let temp;
            let data_dir = match data_dir {
                Some(dir) => dir,
                None => {
                    temp = tempdir()?;
                    temp.0.clone()
                }
            };
            let listener = TcpListener::bind(listen).await.with_context(|| {
                format!("cannot listen on {listen}: is another demo running? Try --listen 127.0.0.1:8081")
            })?;
            let addr = listener.local_addr()?;
            let config = demo::config(addr, &data_dir, &api_key)?;
            if !sitehook_relay::http::snippet::is_built() {
                eprintln!(
                    "warning: this relay was built without the snippet; run `cargo xtask demo` instead"
                );
            }
            println!(
                "\n  sitehook demo running\n\n  1. Open  http://{addr}/  (the demo shop; you are signed in as Ann, p-123)\n  \
                 2. Open  http://{addr}/pricing  three times (reload it): the pricing-interest trigger fires\n  \
                 3. Watch http://{addr}/demo/receiver : the webhook arrives with the X-Api-Key header,\n     \
                 only profileid + email, and automationid = A-17. Product pages fire a GET webhook too.\n  \
                 4. Inspect http://{addr}/admin : every event, its attempts and the request as sent.\n\n  \
                 The secret header comes from ${} (now {}). Stop with Ctrl-C.\n",
                demo::API_KEY_ENV,
                if std::env::var(demo::API_KEY_ENV).is_ok() {
                    "set"
                } else {
                    "unset: using the demo default"
                },
            );
            sitehook_relay::run(config, listener, sitehook_relay::shutdown_signal()).await
        }
    }
}

/// Opens the store of the relay configured in `path` (safe while it runs: SQLite in
/// WAL mode takes readers and writers from several processes).
fn open_store(path: &std::path::Path) -> anyhow::Result<SqliteStore> {
    let data_dir =
        Config::data_dir_of(path).with_context(|| format!("invalid config {}", path.display()))?;
    anyhow::ensure!(
        data_dir.join("sitehook.sqlite").is_file(),
        "no store in {}: has a relay with this config run yet?",
        data_dir.display()
    );
    SqliteStore::open(&data_dir, std::sync::Arc::new(SystemClock))
        .with_context(|| format!("opening the store in {}", data_dir.display()))
}

/// A time in ms since the epoch, as an HTTP date (UTC).
fn time(ms: u64) -> String {
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms))
}

/// A temporary folder removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempdir() -> anyhow::Result<TempDir> {
    let dir = std::env::temp_dir().join(format!("sitehook-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(TempDir(dir))
}

fn init_logs(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => logs.init(),
        // Fields at the top level, beside "timestamp", "level" and "message".
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
}
