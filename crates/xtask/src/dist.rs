//! Builds the optimised snippet: cargo (size profile) → wasm-bindgen (no-modules
//! glue) → wasm-opt -Oz → the loader wrapped around the glue → `web/dist/`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context as _;

use crate::tools;

/// Builds the snippet into `web/dist/` and prints its sizes.
pub fn build(root: &Path) -> anyhow::Result<()> {
    tools::wasm_target()?;
    let wasm_bindgen = tools::wasm_bindgen(root)?;
    let target = target_dir(root);
    let wasm_opt = tools::wasm_opt(&target)?;
    let esbuild = tools::esbuild(&target)?;

    eprintln!("xtask: building the snippet (wasm32, size profile)…");
    tools::run(Command::new(tools::cargo()).current_dir(root).args([
        "build",
        "--quiet",
        "-p",
        "sitehook-snippet",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "wasm-release",
    ]))?;
    let raw = target.join("wasm32-unknown-unknown/wasm-release/sitehook_snippet.wasm");
    let work = target.join("snippet");
    std::fs::create_dir_all(&work)?;
    tools::run(
        Command::new(&wasm_bindgen)
            .args([
                "--target",
                "no-modules",
                "--no-typescript",
                "--out-name",
                "sitehook",
                "--out-dir",
            ])
            .arg(&work)
            .arg(&raw),
    )?;
    let optimised = work.join("sitehook.opt.wasm");
    let input = std::fs::read(work.join("sitehook_bg.wasm"))?;
    let last_input = work.join("sitehook.opt.input.wasm");
    // wasm-opt takes seconds; skip it when its input has not changed.
    let fresh = optimised.is_file() && std::fs::read(&last_input).is_ok_and(|last| last == input);
    if !fresh {
        tools::run(
            Command::new(&wasm_opt)
                .args(["-Oz", "--strip-debug", "--strip-producers"])
                .arg(work.join("sitehook_bg.wasm"))
                .arg("-o")
                .arg(&optimised),
        )?;
        std::fs::write(&last_input, &input)?;
    }

    let glue = std::fs::read_to_string(work.join("sitehook.js"))?;
    let loader = std::fs::read_to_string(root.join("web/loader.js"))?;
    anyhow::ensure!(
        loader.contains("/*@GLUE@*/") && loader.contains("@WASM_SRI@"),
        "web/loader.js lost its /*@GLUE@*/ or @WASM_SRI@ marker"
    );
    // The loader fetches the wasm with the wasm's own hash: a site that pins the
    // script with `integrity` pins the wasm too.
    let wasm_sri = sri(&std::fs::read(&optimised)?);
    let js = loader
        .replacen("/*@GLUE@*/", &glue, 1)
        .replacen("@WASM_SRI@", &wasm_sri, 1);
    let unminified = work.join("sitehook.full.js");
    std::fs::write(&unminified, &js)?;
    let minified = work.join("sitehook.min.js");
    // ES2017: the oldest syntax wasm-bindgen's glue uses (async functions).
    tools::run(
        Command::new(&esbuild)
            .args([
                "--minify",
                "--target=es2017",
                "--log-level=warning",
                "--legal-comments=inline",
            ])
            .arg(format!("--outfile={}", minified.display()))
            .arg(&unminified),
    )?;
    let js = std::fs::read_to_string(&minified)?;
    let wasm = std::fs::read(&optimised)?;

    let dist = root.join("web/dist");
    std::fs::create_dir_all(&dist)?;
    let mut files = Vec::new();
    for (name, bytes) in [
        ("sitehook.js", js.as_bytes()),
        ("sitehook_bg.wasm", &wasm[..]),
    ] {
        write_if_changed(&dist.join(name), bytes)?;
        let (gz, br) = (gzip(bytes), brotli(bytes));
        // The relay serves the wasm as it is; it prefixes the script with the
        // config's field lists, so it compresses that one itself.
        if name.ends_with(".wasm") {
            write_if_changed(&dist.join(format!("{name}.gz")), &gz)?;
            write_if_changed(&dist.join(format!("{name}.br")), &br)?;
        }
        files.push((name, bytes.len(), gz.len(), br.len()));
    }
    let total = files
        .iter()
        .fold((0, 0, 0), |t, f| (t.0 + f.1, t.1 + f.2, t.2 + f.3));
    eprintln!("xtask: web/dist/");
    for (name, raw, gz, br) in files
        .into_iter()
        .chain([("total", total.0, total.1, total.2)])
    {
        eprintln!(
            "  {name:<18} {:>8.1} KB raw {:>8.1} KB gzip {:>8.1} KB brotli",
            kb(raw),
            kb(gz),
            kb(br)
        );
    }
    eprintln!("  (budget: 20 KB gzip in total)");
    eprintln!(
        "  integrity of web/dist/sitehook.js served as it is: {}\n  (a relay serves it with its webhooks' field lists in front: `sitehook-relay integrity --config FILE` prints that hash)",
        sri(js.as_bytes())
    );
    Ok(())
}

/// A Subresource Integrity value: `sha384-` and the base64 digest.
fn sri(bytes: &[u8]) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(bytes))
    )
}

fn kb(bytes: usize) -> f64 {
    bytes as f64 / 1024.0
}

/// Only touch files whose bytes changed, so the relay (which embeds them) is not
/// rebuilt for nothing.
fn write_if_changed(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// gzip at level 9, what web servers use for static assets.
fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to a Vec cannot fail.
    enc.write_all(bytes).expect("writing to memory");
    enc.finish().expect("writing to memory")
}

/// brotli at quality 11, as the relay serves it.
fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        ..Default::default()
    };
    // Reading from a slice and writing to a Vec cannot fail.
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).expect("compressing in memory");
    out
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}
