//! `sitehook-bench`: measurements for `cargo xtask bench`.
//!
//! # Layout
//!
//! - `main.rs`: the subcommands; `all` runs everything and writes the report.
//! - [`load`]: an HTTP load generator with unique event ids per request, an optional
//!   rate, and latency percentiles.
//! - [`servers`]: the baselines (a bare axum handler answering 202, a counting
//!   receiver) and the bare reqwest → axum loop.
//! - [`eval`]: trigger evaluation cost, natively and in headless Chromium.
//!
//! Every comparison is made side by side in one run: absolute rates on a shared
//! 2-core machine say little, ratios against a baseline measured a moment earlier say
//! more. Each figure is the median of several runs.

mod eval;
mod load;
mod servers;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use serde_json::{Value, json};

#[derive(Parser)]
#[command(
    name = "sitehook-bench",
    about = "sitehook's benchmarks (run them with `cargo xtask bench`)"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run every benchmark and write target/bench/latest.{json,md}.
    All {
        /// The release build of sitehook-relay.
        #[arg(long)]
        relay: PathBuf,
        /// The built snippet (web/dist).
        #[arg(long)]
        dist: PathBuf,
        /// Where to write the report.
        #[arg(long)]
        out: PathBuf,
        /// Seconds per load run.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// Runs per figure (the median is reported).
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Delivery of two relay builds side by side (runs interleaved, medians), to
    /// measure a change to the delivery worker: prints each one's rate and their
    /// ratio.
    CompareDelivery {
        /// The release build before the change.
        #[arg(long)]
        before: PathBuf,
        /// The release build after the change.
        #[arg(long)]
        after: PathBuf,
        /// Where to put the stores.
        #[arg(long)]
        out: PathBuf,
        /// Runs of each (alternating).
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// A bare axum handler that answers 202 (the ingest baseline).
    BareIngest {
        #[arg(long)]
        listen: String,
    },
    /// A receiver that answers 200 and counts (GET /count).
    Receiver {
        #[arg(long)]
        listen: String,
    },
    /// Load `POST /v1/events` at BASE (unique event ids) and print rate and latency.
    Load {
        /// The server's base URL, e.g. http://127.0.0.1:8080.
        base: String,
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Requests per second in total (default: as fast as it goes).
        #[arg(long)]
        rate: Option<f64>,
        /// Events per request.
        #[arg(long, default_value_t = 1)]
        batch: usize,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Runtime::new()?;
    sitehook_relay::install_crypto_provider();
    match cli.command {
        Cmd::BareIngest { listen } => rt.block_on(servers::bare_ingest(&listen)),
        Cmd::Receiver { listen } => rt.block_on(servers::receiver(&listen)),
        Cmd::Load {
            base,
            seconds,
            concurrency,
            rate,
            batch,
        } => rt.block_on(async {
            let prefix = format!("load{}", std::process::id());
            let l = load::run(
                &base,
                concurrency,
                Duration::from_secs(seconds),
                rate,
                batch,
                &prefix,
            )
            .await?;
            println!(
                "{:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms",
                l.rps, l.p50_ms, l.p99_ms
            );
            Ok(())
        }),
        Cmd::All {
            relay,
            dist,
            out,
            seconds,
            runs,
        } => rt.block_on(all(&relay, &dist, &out, seconds, runs)),
        Cmd::CompareDelivery {
            before,
            after,
            out,
            runs,
        } => rt.block_on(compare_delivery(&before, &after, &out, runs)),
    }
}

/// See [`Cmd::CompareDelivery`]: the delivery figure's method, for two builds.
async fn compare_delivery(
    before: &Path,
    after: &Path,
    out: &Path,
    runs: usize,
) -> anyhow::Result<()> {
    let (_receiver, receiver_url) = start_receiver(&std::env::current_exe()?).await?;
    let n = 20_000;
    let mut rates = [Vec::new(), Vec::new()];
    for r in 0..runs {
        for (k, bin) in [before, after].into_iter().enumerate() {
            let (rate, _) =
                delivery_run(bin, out, &format!("compare{r}-{k}"), &receiver_url, n).await?;
            rates[k].push(rate);
        }
    }
    let [b, a] = rates.map(median);
    println!(
        "delivery of {n} events, {runs} runs each, medians: before {b:.0}/s, after {a:.0}/s, after/before {:.2}",
        a / b
    );
    Ok(())
}

/// The counting webhook receiver (this binary's `receiver`), up, and its URL.
async fn start_receiver(me: &Path) -> anyhow::Result<(Proc, String)> {
    let port = free_port();
    let receiver =
        spawn(Command::new(me).args(["receiver", "--listen", &format!("127.0.0.1:{port}")]))?;
    let url = format!("http://127.0.0.1:{port}");
    wait_up(&format!("{url}/count")).await?;
    Ok((receiver, url))
}

/// One delivery run: `n` events put into a new store, `relay_bin` started on it, and
/// the rate at which the receiver counts them all, with the relay's peak RSS (MB).
async fn delivery_run(
    relay_bin: &Path,
    out: &Path,
    name: &str,
    receiver_url: &str,
    n: u64,
) -> anyhow::Result<(f64, f64)> {
    let work = tempdir(out, name)?;
    let config = relay_config(&work, free_port(), receiver_url, false)?;
    servers::fill(&work.join("data"), n).await?;
    servers::reset_count(receiver_url).await?;
    let started = Instant::now();
    let relay = serve_relay(relay_bin, &config)?;
    servers::wait_count(receiver_url, n, Duration::from_secs(300)).await?;
    let rate = n as f64 / started.elapsed().as_secs_f64();
    Ok((rate, relay.peak_rss_mb().unwrap_or(f64::NAN)))
}

/// A child process killed on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    /// Peak resident memory (VmHWM) in MB, from /proc.
    fn peak_rss_mb(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.0.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024.0)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

fn spawn(cmd: &mut Command) -> anyhow::Result<Proc> {
    Ok(Proc(
        cmd.stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {cmd:?}"))?,
    ))
}

async fn wait_up(url: &str) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if http
            .get(url)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("{url} did not come up within 30s")
}

/// The median of some measurements.
pub fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    match xs.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => xs[n / 2],
        n => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

/// Waits until the relay at `base` has nothing left to deliver (its
/// `sitehook_queue_depth` is 0), so that its worker is idle during the next run.
async fn wait_drained(base: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let text = client
            .get(format!("{base}/metrics"))
            .send()
            .await?
            .text()
            .await?;
        let depth = text
            .lines()
            .find_map(|l| l.strip_prefix("sitehook_queue_depth "))
            .and_then(|n| n.trim().parse::<u64>().ok());
        if depth == Some(0) {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the relay at {base} still had {depth:?} events to deliver after 120 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `sitehook-relay serve --config CONFIG`, quiet.
fn serve_relay(relay_bin: &Path, config: &Path) -> anyhow::Result<Proc> {
    spawn(
        Command::new(relay_bin)
            .args(["serve", "--config"])
            .arg(config)
            .env("RUST_LOG", "error"),
    )
}

/// A relay on a free port with its config and data in `work` (see [`relay_config`]),
/// once it is ready; and its base URL.
async fn start_relay(
    relay_bin: &Path,
    work: &Path,
    receiver: &str,
    dry_run: bool,
) -> anyhow::Result<(Proc, String)> {
    let port = free_port();
    let relay = serve_relay(relay_bin, &relay_config(work, port, receiver, dry_run)?)?;
    let url = format!("http://127.0.0.1:{port}");
    wait_up(&format!("{url}/readyz")).await?;
    Ok((relay, url))
}

/// A relay config for the bench. With `dry_run`, the webhook is delivered in dry-run
/// mode: the worker claims every event and records its attempt in the store as
/// always, but makes no outbound call.
fn relay_config(dir: &Path, port: u16, receiver: &str, dry_run: bool) -> anyhow::Result<PathBuf> {
    let path = dir.join("relay.toml");
    std::fs::write(
        &path,
        format!(
            "listen = \"127.0.0.1:{port}\"\ndata_dir = {:?}\ndangerously_allow_targets = [\"127.0.0.1\"]\n\n# One load generator on one IP: no per-IP limit.\n[limits]\nper_ip_per_minute = 0\n\n[webhooks.hook]\nurl = \"{receiver}/hook\"\n\
             fields = [\"profileid\", \"email\"]\ndata = {{ automationid = \"A-17\" }}\nmax_in_flight = 64\ndry_run = {dry_run}\n",
            dir.join("data")
        ),
    )?;
    Ok(path)
}

async fn all(
    relay_bin: &Path,
    dist: &Path,
    out: &Path,
    seconds: u64,
    runs: usize,
) -> anyhow::Result<()> {
    let me = std::env::current_exe()?;
    std::fs::create_dir_all(out)?;
    let mut report = json!({
        "date": servers::today(),
        "machine": servers::machine(),
    });

    eprintln!("bench: snippet size");
    report["size"] = eval::sizes(dist)?;

    eprintln!("bench: evaluation, native");
    report["eval_native"] = eval::native();

    eprintln!("bench: evaluation in headless Chromium");
    report["eval_browser"] = match eval::browser(dist, runs.max(5)).await {
        Ok(v) => v,
        Err(e) => json!({ "error": format!("{e:#}") }),
    };

    // Ingest: the bare handler, then the relay, side by side.
    let work = tempdir(out, "ingest")?;
    let (receiver, receiver_url) = start_receiver(&me).await?;
    let bare_port = free_port();
    let bare = spawn(Command::new(&me).args([
        "bare-ingest",
        "--listen",
        &format!("127.0.0.1:{bare_port}"),
    ]))?;
    let bare_url = format!("http://127.0.0.1:{bare_port}");
    wait_up(&format!("{bare_url}/healthz")).await?;
    // Ingest is measured with the webhook in dry-run mode: the relay stores, commits
    // and acknowledges every event, and its worker claims and records each one, but
    // the outbound calls (and the local receiver answering them, a third process on
    // the same cores that the bare handler's run does not have) are left out; they
    // are the delivery figure. A second relay that does deliver gives the
    // "while delivering" figure beside it.
    let (relay, relay_url) = start_relay(relay_bin, &work, &receiver_url, true).await?;
    let delivering_work = tempdir(out, "ingest-delivering")?;
    let (delivering, delivering_url) =
        start_relay(relay_bin, &delivering_work, &receiver_url, false).await?;

    eprintln!(
        "bench: ingest, {runs} × {seconds}s each for the bare handler, the relay, and a relay delivering"
    );
    let run = Duration::from_secs(seconds);
    let mut bare_rps = Vec::new();
    let mut relay_rps = Vec::new();
    let mut delivering_rps = Vec::new();
    for r in 0..runs {
        bare_rps.push(
            load::run(&bare_url, 32, run, None, 1, &format!("b{r}"))
                .await?
                .rps,
        );
        relay_rps.push(
            load::run(&relay_url, 32, run, None, 1, &format!("r{r}"))
                .await?
                .rps,
        );
        wait_drained(&relay_url).await?;
        delivering_rps.push(
            load::run(&delivering_url, 32, run, None, 1, &format!("d{r}"))
                .await?
                .rps,
        );
        // The next bare run must not share the cores with this relay's backlog.
        wait_drained(&delivering_url).await?;
    }
    drop(delivering);
    let (bare_peak, relay_peak) = (median(bare_rps), median(relay_rps));
    let delivering_peak = median(delivering_rps);
    eprintln!(
        "bench: latency at half the relay's peak ({:.0}/s)",
        relay_peak / 2.0
    );
    let half = load::run(&relay_url, 32, run, Some(relay_peak / 2.0), 1, "half").await?;
    let mut batches = Vec::new();
    for batch in [1usize, 10, 100] {
        let l = load::run(&relay_url, 32, run, None, batch, &format!("batch{batch}")).await?;
        batches.push(json!({ "batch": batch, "requests_per_s": l.rps, "events_per_s": l.rps * batch as f64, "p99_ms": l.p99_ms }));
    }
    report["ingest"] = json!({
        "bare_rps": bare_peak,
        "relay_rps": relay_peak,
        "ratio": relay_peak / bare_peak,
        "delivering_rps": delivering_peak,
        "delivering_ratio": delivering_peak / bare_peak,
        "half_load_rps": half.rps,
        "half_load_p50_ms": half.p50_ms,
        "half_load_p99_ms": half.p99_ms,
        "relay_peak_rss_mb": relay.peak_rss_mb(),
        "by_batch": batches,
    });
    drop(relay);
    drop(bare);

    // Delivery: a filled outbox drained to the receiver, next to a bare reqwest loop.
    eprintln!("bench: delivery");
    let n = 20_000;
    let mut relay_rates = Vec::new();
    let mut bare_rates = Vec::new();
    let mut rss = Vec::new();
    for r in 0..runs {
        let (rate, peak) =
            delivery_run(relay_bin, out, &format!("delivery{r}"), &receiver_url, n).await?;
        relay_rates.push(rate);
        rss.push(peak);
        servers::reset_count(&receiver_url).await?;
        bare_rates.push(servers::reqwest_loop(&format!("{receiver_url}/hook"), n, 64).await?);
    }
    let (relay_rate, bare_rate) = (median(relay_rates), median(bare_rates));
    report["delivery"] = json!({
        "events": n,
        "relay_per_s": relay_rate,
        "bare_reqwest_per_s": bare_rate,
        "ratio": relay_rate / bare_rate,
        "relay_peak_rss_mb": median(rss),
    });
    drop(receiver);

    let md = render(&report);
    std::fs::write(
        out.join("latest.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    std::fs::write(out.join("latest.md"), &md)?;
    println!("{md}");
    Ok(())
}

fn tempdir(out: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let dir = out.join("work").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "**missed**" }
}

/// The report as a Markdown table, each figure with its budget.
fn render(r: &Value) -> String {
    let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    let mut md = format!(
        "Measured {} on {}.\n\n| figure | measured | budget | |\n| --- | --- | --- | --- |\n",
        r["date"].as_str().unwrap_or("?"),
        r["machine"].as_str().unwrap_or("?")
    );
    let s = &r["size"];
    let gz = f(&s["total_gzip"]) / 1024.0;
    md += &format!(
        "| snippet transfer (JS + wasm, gzip) | {gz:.1} KB | ≤ 20 KB (goal ≤ 12 KB) | {} |\n",
        met(gz <= 20.0)
    );
    md += &format!(
        "| snippet, brotli / raw | {:.1} KB / {:.1} KB | | |\n",
        f(&s["total_brotli"]) / 1024.0,
        f(&s["total_raw"]) / 1024.0
    );
    md += &format!(
        "| explaining build instead (config with a problem, or debugging), gzip | {:.1} KB wasm | | |\n",
        f(&s["explaining"]["gzip"]) / 1024.0
    );
    if let Some(rows) = r["eval_browser"]["by_triggers"].as_array() {
        for row in rows {
            let n = row["triggers"].as_u64().unwrap_or(0);
            let ms = f(&row["eval_ms"]);
            let with_storage = f(&row["with_storage_ms"]);
            let budget = if n == 100 { "≤ 1 ms" } else { "" };
            let verdict = if n == 100 { met(ms <= 1.0) } else { "" };
            md += &format!(
                "| page view, {n} triggers, full history (Chromium) | {ms:.3} ms (with storage: {with_storage:.3} ms) | {budget} | {verdict} |\n"
            );
        }
        md += &format!(
            "| script start → first evaluation done (Chromium, 100 triggers) | {:.1} ms | | |\n",
            f(&r["eval_browser"]["start_to_first_eval_ms"])
        );
    } else {
        md += &format!(
            "| evaluation in Chromium | not measured: {} | ≤ 1 ms | |\n",
            r["eval_browser"]["error"]
        );
    }
    for row in r["eval_native"].as_array().into_iter().flatten() {
        md += &format!(
            "| page view natively (sitehook-core), {} triggers, {} visits | {:.3} ms | | |\n",
            row["triggers"],
            row["history"],
            f(&row["ms"])
        );
    }
    let i = &r["ingest"];
    md += &format!(
        "| ingest, relay vs bare axum 202 | {:.0}/s vs {:.0}/s = {:.2} | ≥ 0.25 | {} |\n",
        f(&i["relay_rps"]),
        f(&i["bare_rps"]),
        f(&i["ratio"]),
        met(f(&i["ratio"]) >= 0.25)
    );
    md += &format!(
        "| ingest while delivering to a local receiver, vs bare | {:.0}/s vs {:.0}/s = {:.2} | | |\n",
        f(&i["delivering_rps"]),
        f(&i["bare_rps"]),
        f(&i["delivering_ratio"]),
    );
    md += &format!(
        "| ingest latency at half peak ({:.0}/s) | p50 {:.2} ms, p99 {:.2} ms | p99 ≤ 10 ms | {} |\n",
        f(&i["half_load_rps"]),
        f(&i["half_load_p50_ms"]),
        f(&i["half_load_p99_ms"]),
        met(f(&i["half_load_p99_ms"]) <= 10.0)
    );
    for b in i["by_batch"].as_array().into_iter().flatten() {
        md += &format!(
            "| ingest, {} event(s) per request | {:.0} events/s (p99 {:.1} ms) | | |\n",
            b["batch"],
            f(&b["events_per_s"]),
            f(&b["p99_ms"])
        );
    }
    let d = &r["delivery"];
    md += &format!(
        "| delivery, relay vs bare reqwest → axum | {:.0}/s vs {:.0}/s = {:.2} | ≥ 0.2 | {} |\n",
        f(&d["relay_per_s"]),
        f(&d["bare_reqwest_per_s"]),
        f(&d["ratio"]),
        met(f(&d["ratio"]) >= 0.2)
    );
    let rss = f(&d["relay_peak_rss_mb"]);
    md += &format!(
        "| relay peak RSS while delivering | {rss:.1} MB | ≤ 50 MB | {} |\n",
        met(rss <= 50.0)
    );
    md
}
