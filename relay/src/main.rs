//! `sitehook-relay`: serve, check a config, or run the demo.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use sitehook_relay::{Config, demo};
use tokio::net::TcpListener;

/// The sitehook relay: receives the events that matched in visitors' browsers and
/// calls your webhooks with the secret headers only it knows.
#[derive(Parser)]
#[command(name = "sitehook-relay", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the relay with a config file.
    Serve {
        /// The TOML config file.
        #[arg(long, short)]
        config: PathBuf,
        /// Listen here instead of the config's `listen`.
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Validate a config file and print what it sets up (secrets masked).
    Check {
        /// The TOML config file.
        #[arg(long, short)]
        config: PathBuf,
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
    match cli.command {
        Command::Serve { config, listen } => {
            init_logs();
            let mut config = Config::load(&config)
                .with_context(|| format!("invalid config {}", config.display()))?;
            if let Some(listen) = listen {
                config.listen = listen;
            }
            let listener = TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("cannot listen on {}", config.listen))?;
            sitehook_relay::run(config, listener, sitehook_relay::shutdown_signal()).await
        }
        Command::Check { config: path } => {
            let config = Config::load(&path)
                .with_context(|| format!("invalid config {}", path.display()))?;
            print!("{}", sitehook_relay::config::summary(&config));
            println!("{}: OK", path.display());
            Ok(())
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
                 only profileid + email, and automationid = A-17. Product pages fire a GET webhook too.\n\n  \
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

fn init_logs() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .init();
}
