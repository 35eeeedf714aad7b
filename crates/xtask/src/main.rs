//! `cargo xtask`: sitehook's build, demo and test orchestration.
//!
//! # Layout
//!
//! - `main.rs`: the commands (`dist`, `demo`, `test`).
//! - [`tools`]: finding, and where possible installing, what the commands need:
//!   the wasm target, wasm-bindgen's CLI (at the exact version the snippet pins),
//!   wasm-opt, Chromium and chromedriver.
//! - [`dist`]: building the optimised snippet into `web/dist/`.

mod dist;
mod tools;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const HELP: &str = "\
cargo xtask <command>

Commands:
  demo [ARGS]   build the snippet and the relay, then run the demo shop on
                http://127.0.0.1:8080 (ARGS go to `sitehook-relay demo`, e.g. --listen)
  test [ARGS]   run every test: unit, relay, end-to-end in headless Chromium, and
                through nginx (ARGS go to `cargo test`, e.g. a test name filter)
  dist           build the optimised snippet into web/dist/ and print its sizes
  bench         measure the snippet's size, evaluation cost (native and in headless
                Chromium), relay ingest and delivery against bare baselines; prints
                a table and writes target/bench/latest.{json,md}
  help          this text

Each command installs what it needs when it can (rustup target, wasm-bindgen-cli,
binaryen from npm, and, as root, chromium / chromium-driver / nginx with apt-get), or says the
exact command to run.
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = args
        .split_first()
        .map_or(("help", &[][..]), |(c, r)| (c.as_str(), r));
    let result = match command {
        "dist" => dist::build(&root()),
        "demo" => demo(rest),
        "test" => test(rest),
        "bench" => bench(),
        "help" | "--help" | "-h" => {
            print!("{HELP}");
            Ok(())
        }
        other => Err(anyhow::anyhow!("unknown command {other:?}\n\n{HELP}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root.
///
/// Read at run time first: `cargo run` sets `CARGO_MANIFEST_DIR` to this checkout's
/// crate, while the compile-time value is the checkout that built the binary, which
/// cargo reuses unbuilt for another clone sharing the same `CARGO_TARGET_DIR`.
pub fn root() -> PathBuf {
    let manifest =
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
    Path::new(&manifest)
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists")
}

fn demo(args: &[String]) -> anyhow::Result<()> {
    let root = root();
    dist::build(&root)?;
    println!("building the relay…");
    tools::run(
        Command::new(tools::cargo())
            .current_dir(&root)
            .args(["run", "--quiet", "-p", "sitehook-relay", "--", "demo"])
            .args(args),
    )
}

fn bench() -> anyhow::Result<()> {
    let root = root();
    let browser = tools::browser()?;
    dist::build(&root)?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let out = target.join("bench");
    std::fs::create_dir_all(&out)?;
    if let Ok(twiggy) = tools::twiggy() {
        // The biggest contributors to the visitor build's wasm, by name: optimise
        // again keeping names.
        let named = out.join("sitehook.named.wasm");
        let wasm_opt = tools::wasm_opt(&target)?;
        tools::run(
            Command::new(&wasm_opt)
                .args(["-Oz", "--debuginfo"])
                // The visitor build, before wasm-opt stripped its names.
                .arg(target.join("snippet/visitor/sitehook_bg.wasm"))
                .arg("-o")
                .arg(&named),
        )?;
        let top = Command::new(twiggy)
            .args(["top", "-n", "25"])
            .arg(&named)
            .output()?;
        std::fs::write(out.join("twiggy.txt"), &top.stdout)?;
        println!(
            "The wasm's biggest items (twiggy top, names kept):\n{}",
            String::from_utf8_lossy(&top.stdout)
        );
    }
    eprintln!("xtask: building the relay and the benchmarks (release)…");
    tools::run(Command::new(tools::cargo()).current_dir(&root).args([
        "build",
        "--quiet",
        "--release",
        "-p",
        "sitehook-relay",
        "-p",
        "sitehook-bench",
    ]))?;
    tools::run(
        Command::new(target.join("release/sitehook-bench"))
            .args(["all", "--relay"])
            .arg(target.join("release/sitehook-relay"))
            .arg("--dist")
            .arg(root.join("web/dist"))
            .arg("--out")
            .arg(&out)
            .env("SITEHOOK_CHROME", &browser.chrome)
            .env("SITEHOOK_CHROMEDRIVER", &browser.chromedriver),
    )
}

fn test(args: &[String]) -> anyhow::Result<()> {
    let root = root();
    let browser = tools::browser()?;
    let nginx = tools::nginx()?;
    dist::build(&root)?;
    let mut workspace = Command::new(tools::cargo());
    workspace
        .current_dir(&root)
        .args(["test", "--workspace"])
        .args(args)
        .env("SITEHOOK_CHROME", &browser.chrome)
        .env("SITEHOOK_CHROMEDRIVER", &browser.chromedriver)
        .env("SITEHOOK_NGINX", &nginx);
    let mut total = cargo_test(&mut workspace)?;
    if args.is_empty() {
        // The core as the snippet's visitor build compiles it (no `explain`): it
        // must refuse the same configs, without the words.
        let mut wordless = Command::new(tools::cargo());
        wordless.current_dir(&root).args([
            "test",
            "-p",
            "sitehook-core",
            "--no-default-features",
            "--lib",
            "wordless",
        ]);
        let (p, f, ok) = cargo_test(&mut wordless)?;
        total = (total.0 + p, total.1 + f, total.2 && ok);
    }
    let (passed, failed, ok) = total;
    println!("tests: {passed} passed, {failed} failed");
    anyhow::ensure!(ok, "cargo test failed");
    Ok(())
}

/// Runs a `cargo test` command, passing its output through and adding up cargo's
/// per-binary "test result" lines, so the run ends with one total (the last binary
/// is often a doc-test run of 0): (passed, failed, whether it succeeded).
fn cargo_test(command: &mut Command) -> anyhow::Result<(u64, u64, bool)> {
    use std::io::{BufRead as _, Write as _};
    let mut child = command.stdout(std::process::Stdio::piped()).spawn()?;
    let (mut passed, mut failed) = (0u64, 0u64);
    let stdout = child.stdout.take().expect("piped");
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line?;
        println!("{line}");
        if let Some(rest) = line.strip_prefix("test result: ") {
            let count = |word: &str| {
                rest.split(';').find_map(|part| {
                    part.trim()
                        .strip_suffix(word)
                        .and_then(|n| n.trim().rsplit(' ').next()?.parse::<u64>().ok())
                })
            };
            passed += count(" passed").unwrap_or(0);
            failed += count(" failed").unwrap_or(0);
        }
    }
    let _ = std::io::stdout().flush();
    let status = child.wait()?;
    Ok((passed, failed, status.success()))
}
