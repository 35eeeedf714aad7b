//! Finding and installing the tools the commands need.
//!
//! What can be installed without privileges (a rustup target, a cargo binary) is
//! installed. System packages are installed with apt-get only when running as root
//! on a Debian-like system; otherwise the error gives the exact command to run.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Once;

use anyhow::{Context as _, bail};

/// The `cargo` that runs us, so a toolchain override is respected.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Runs a command with inherited output; fails with the command line if it fails.
pub fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed ({status})");
    }
    Ok(())
}

/// The first line a command prints, if it runs at all.
fn version_of(program: &str) -> Option<String> {
    let out = Command::new(program)
        .arg("--version")
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_owned()
    })
}

fn find(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Installs Debian packages when we can; otherwise says how.
fn apt_install(packages: &[&str], why: &str) -> anyhow::Result<()> {
    let line = packages.join(" ");
    if !is_root() || find("apt-get").is_none() {
        bail!("{why} is missing. Install it with:\n    sudo apt-get install -y {line}");
    }
    static UPDATE: Once = Once::new();
    UPDATE.call_once(|| {
        eprintln!("xtask: apt-get update");
        let _ = Command::new("apt-get").args(["update", "-qq"]).status();
    });
    eprintln!("xtask: apt-get install -y {line}  ({why})");
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))
    .with_context(|| format!("installing {why} failed; try: apt-get install -y {line}"))
}

/// Makes sure the wasm32 target is installed.
pub fn wasm_target() -> anyhow::Result<()> {
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    match out {
        Ok(out)
            if String::from_utf8_lossy(&out.stdout)
                .lines()
                .any(|l| l.trim() == "wasm32-unknown-unknown") =>
        {
            Ok(())
        }
        Ok(_) => {
            eprintln!("xtask: rustup target add wasm32-unknown-unknown");
            run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
        }
        Err(_) => {
            // No rustup: the toolchain may still carry the target (a distribution's rustc).
            eprintln!("xtask: rustup not found; assuming the toolchain has wasm32-unknown-unknown");
            Ok(())
        }
    }
}

/// The wasm-bindgen version the snippet pins, read from the workspace manifest so
/// there is one place to change it.
pub fn pinned_wasm_bindgen(root: &Path) -> anyhow::Result<String> {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml"))?;
    manifest
        .lines()
        .find(|l| l.trim_start().starts_with("wasm-bindgen = "))
        .and_then(|l| l.split("\"=").nth(1))
        .and_then(|rest| rest.split('"').next())
        .map(str::to_owned)
        .context("Cargo.toml must pin wasm-bindgen exactly: `wasm-bindgen = { version = \"=X.Y.Z\", ... }`")
}

/// Makes sure `wasm-bindgen` at exactly the pinned version is on PATH; returns it.
pub fn wasm_bindgen(root: &Path) -> anyhow::Result<String> {
    let want = pinned_wasm_bindgen(root)?;
    let expected = format!("wasm-bindgen {want}");
    if version_of("wasm-bindgen").as_deref() == Some(expected.as_str()) {
        return Ok("wasm-bindgen".into());
    }
    eprintln!(
        "xtask: cargo install wasm-bindgen-cli --version ={want} (it must match the wasm-bindgen crate)"
    );
    // Not `--locked`: the registry index can lag behind the CLI's lock file.
    run(Command::new(cargo()).args([
        "install",
        "wasm-bindgen-cli",
        "--version",
        &format!("={want}"),
    ]))?;
    match version_of("wasm-bindgen") {
        Some(v) if v == expected => Ok("wasm-bindgen".into()),
        other => bail!(
            "wasm-bindgen on PATH is {other:?} after installing {want}; put ~/.cargo/bin first on PATH"
        ),
    }
}

/// The oldest binaryen whose `wasm-opt` keeps wasm-bindgen's externref table intact.
/// Debian bookworm's 108 breaks it even on a plain round trip (the page then fails
/// with "WebAssembly.Table.set(): Argument 1 is invalid for table").
const MIN_BINARYEN: u32 = 116;
/// The npm build of binaryen used when the system has none (or an older one).
const NPM_BINARYEN: &str = "binaryen@132.0.0";

/// Finds a `wasm-opt` that works on our output: the system's if it is recent enough,
/// else the npm package installed under `target/tools/`.
pub fn wasm_opt(target: &Path) -> anyhow::Result<PathBuf> {
    let system = version_of("wasm-opt").and_then(|v| {
        v.split_whitespace()
            .nth(2)
            .and_then(|n| n.parse::<u32>().ok())
    });
    if system.is_some_and(|v| v >= MIN_BINARYEN) {
        return Ok(PathBuf::from("wasm-opt"));
    }
    npm_tool(target, NPM_BINARYEN, "wasm-opt")
}

/// The esbuild used to minify the JS loader and wasm-bindgen's glue.
const NPM_ESBUILD: &str = "esbuild@0.25.12";

/// Finds esbuild, installing it under `target/tools/` from npm.
pub fn esbuild(target: &Path) -> anyhow::Result<PathBuf> {
    npm_tool(target, NPM_ESBUILD, "esbuild")
}

/// The executable `bin` of the npm package `spec`, installed under `target/tools/`
/// (Node.js is installed with apt-get when missing and running as root).
fn npm_tool(target: &Path, spec: &str, bin: &str) -> anyhow::Result<PathBuf> {
    let prefix = target.join("tools");
    let local = prefix.join("node_modules/.bin").join(bin);
    let installed = prefix
        .join("node_modules")
        .join(spec.rsplit_once('@').map_or(spec, |(n, _)| n))
        .join("package.json");
    let version = spec.rsplit_once('@').map_or("", |(_, v)| v);
    let current = std::fs::read_to_string(&installed)
        .is_ok_and(|p| p.contains(&format!("\"version\": \"{version}\"")));
    if local.is_file() && current {
        return Ok(local);
    }
    if find("npm").is_none() {
        apt_install(
            &["nodejs", "npm"],
            "npm (to install build tools from the npm registry)",
        )?;
    }
    eprintln!("xtask: npm install {spec} (into {})", prefix.display());
    std::fs::create_dir_all(&prefix)?;
    run(Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
        .arg(&prefix)
        .arg(spec))
    .with_context(|| {
        format!(
            "installing {bin} failed; try: npm install --prefix {} {spec}",
            prefix.display()
        )
    })?;
    anyhow::ensure!(
        local.is_file(),
        "npm installed {spec} but {} is missing",
        local.display()
    );
    Ok(local)
}

/// twiggy, for the wasm size breakdown; installed with cargo when missing.
pub fn twiggy() -> anyhow::Result<String> {
    if version_of("twiggy").is_none() {
        eprintln!("xtask: cargo install twiggy (for the wasm size breakdown)");
        run(Command::new(cargo()).args(["install", "twiggy"]))?;
    }
    Ok("twiggy".into())
}

/// The browser for end-to-end tests.
pub struct Browser {
    /// The Chromium binary.
    pub chrome: PathBuf,
    /// The matching chromedriver.
    pub chromedriver: PathBuf,
}

/// Finds Chromium and chromedriver, installing Debian's when we can. `SITEHOOK_CHROME`
/// and `SITEHOOK_CHROMEDRIVER` point at others.
pub fn browser() -> anyhow::Result<Browser> {
    let from_env = |var: &str| std::env::var_os(var).map(PathBuf::from);
    let chrome = from_env("SITEHOOK_CHROME")
        .or_else(|| find("chromium"))
        .or_else(|| find("chromium-browser"));
    let driver = from_env("SITEHOOK_CHROMEDRIVER").or_else(|| find("chromedriver"));
    if let (Some(chrome), Some(chromedriver)) = (chrome, driver) {
        return Ok(Browser {
            chrome,
            chromedriver,
        });
    }
    apt_install(
        &["chromium", "chromium-driver"],
        "Chromium and chromedriver (for the browser tests)",
    )?;
    Ok(Browser {
        chrome: find("chromium").context("chromium is still not on PATH")?,
        chromedriver: find("chromedriver").context("chromedriver is still not on PATH")?,
    })
}

/// Finds nginx for the reverse-proxy test (Debian puts it in /usr/sbin, often not on a
/// user's PATH), installing Debian's when we can. `SITEHOOK_NGINX` points at another.
pub fn nginx() -> anyhow::Result<PathBuf> {
    let found = || {
        std::env::var_os("SITEHOOK_NGINX")
            .map(PathBuf::from)
            .or_else(|| find("nginx"))
            .or_else(|| Some(PathBuf::from("/usr/sbin/nginx")).filter(|p| p.is_file()))
    };
    if let Some(nginx) = found() {
        return Ok(nginx);
    }
    apt_install(&["nginx"], "nginx (for the reverse-proxy test)")?;
    found().context("nginx is still not found after installing it")
}
