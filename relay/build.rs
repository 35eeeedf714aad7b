//! Embeds the built snippet (`web/dist/`) into the relay, so that one binary serves it.
//!
//! The snippet is built by `cargo xtask dist`, not here: a build script cannot run
//! wasm-bindgen and wasm-opt portably. When the files are missing, the relay still
//! builds and answers their URLs with a 503 that says how to build them.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let dist = manifest.join("../web/dist");
    // Watched paths relative to the package, so that cargo watches this checkout's
    // files: with absolute ones, a clone sharing the target directory would keep
    // the snippet embedded from the checkout that built it first.
    println!("cargo:rerun-if-changed=../web/dist");
    println!("cargo:rerun-if-changed=../web/demo");

    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));
    let mut out = String::new();
    for (name, file) in [
        ("JS", "sitehook.js"),
        ("WASM", "sitehook_bg.wasm"),
        // Precompressed by `cargo xtask dist`; the relay compresses what is missing.
        ("WASM_GZ", "sitehook_bg.wasm.gz"),
        ("WASM_BR", "sitehook_bg.wasm.br"),
        // The explaining build, which the script fetches instead when the page's
        // config has a problem or debugging is on.
        ("DEBUG_WASM", "sitehook-debug.wasm"),
        ("DEBUG_WASM_GZ", "sitehook-debug.wasm.gz"),
        ("DEBUG_WASM_BR", "sitehook-debug.wasm.br"),
    ] {
        let path = dist.join(file);
        println!("cargo:rerun-if-changed=../web/dist/{file}");
        // Embedded from a copy in OUT_DIR, not from the checkout: the compiled
        // relay then names no file of a checkout that may be gone when the target
        // directory is shared.
        if path.is_file() {
            fs::copy(&path, out_dir.join(file)).expect("OUT_DIR is writable");
            writeln!(
                out,
                "pub const {name}: Option<&[u8]> = Some(include_bytes!(concat!(env!(\"OUT_DIR\"), \"/{file}\")));"
            )
            .unwrap();
        } else {
            writeln!(out, "pub const {name}: Option<&[u8]> = None;").unwrap();
        }
    }
    fs::write(out_dir.join("snippet.rs"), out).expect("OUT_DIR is writable");
}
