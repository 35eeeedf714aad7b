//! Builds the optimised snippet: cargo (size profile) → wasm-bindgen (no-modules
//! glue) → wasm-opt for size → the loader wrapped around the glue → `web/dist/`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context as _;

use crate::tools;

/// One build of the snippet: the visitor build, or the explaining build.
struct Build {
    /// What `dist` calls it.
    name: &'static str,
    /// The cargo profile (one per build, so that neither rebuilds the other).
    profile: &'static str,
    features: &'static [&'static str],
    /// The wasm's file name in `web/dist/`.
    file: &'static str,
}

/// What every page downloads: no error texts, suggestions or explanations.
const VISITOR: Build = Build {
    name: "visitor",
    profile: "wasm-release",
    features: &[],
    file: "sitehook_bg.wasm",
};

/// Started by the loader in the visitor build's place when the config has a problem
/// or debugging is on: the same snippet, with the words.
const EXPLAINING: Build = Build {
    name: "explaining",
    profile: "wasm-explain",
    features: &["explain"],
    file: "sitehook-debug.wasm",
};

/// Builds the snippet into `web/dist/` and prints its sizes.
pub fn build(root: &Path) -> anyhow::Result<()> {
    tools::wasm_target()?;
    let wasm_bindgen = tools::wasm_bindgen(root)?;
    let target = target_dir(root);
    let wasm_opt = tools::wasm_opt(&target)?;
    let esbuild = tools::esbuild(&target)?;
    let work = target.join("snippet");

    let visitor = wasm(
        root,
        &target,
        wasm_bindgen.as_ref(),
        wasm_opt.as_ref(),
        &VISITOR,
    )?;
    let explaining = wasm(
        root,
        &target,
        wasm_bindgen.as_ref(),
        wasm_opt.as_ref(),
        &EXPLAINING,
    )?;
    // One glue serves both wasm files: the explaining build's, since its imports are
    // a superset. Checked, so that a change that breaks it fails here, not in a
    // browser.
    let glue = std::fs::read_to_string(explaining.glue)?;
    let visitor_glue = std::fs::read_to_string(visitor.glue)?;
    check_glue(&visitor_glue, &glue)?;
    let (mut wasm, mut debug_wasm) = (
        std::fs::read(&visitor.wasm)?,
        std::fs::read(&explaining.wasm)?,
    );
    let glue = short_imports(&glue, &mut [&mut debug_wasm, &mut wasm])?;
    let glue = short_exports(&glue, &mut [&mut debug_wasm, &mut wasm])?;
    let glue = trim_glue(&glue)?;
    let loader = std::fs::read_to_string(root.join("web/loader.js"))?;
    anyhow::ensure!(
        loader.contains("/*@GLUE@*/")
            && loader.contains("@WASM_SRI@")
            && loader.contains("@DEBUG_WASM_SRI@"),
        "web/loader.js lost its /*@GLUE@*/, @WASM_SRI@ or @DEBUG_WASM_SRI@ marker"
    );
    // The loader fetches each wasm with its own hash: a site that pins the script
    // with `integrity` pins both.
    let js = loader
        .replacen("/*@GLUE@*/", &glue, 1)
        .replacen("@WASM_SRI@", &sri(&wasm), 1)
        .replacen("@DEBUG_WASM_SRI@", &sri(&debug_wasm), 1);
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

    let dist = root.join("web/dist");
    std::fs::create_dir_all(&dist)?;
    let mut files = Vec::new();
    for (name, bytes) in [
        ("sitehook.js", js.as_bytes()),
        (VISITOR.file, &wasm[..]),
        (EXPLAINING.file, &debug_wasm[..]),
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
    // What a page downloads: the script and the visitor build.
    let total = files[..2]
        .iter()
        .fold((0, 0, 0), |t, f| (t.0 + f.1, t.1 + f.2, t.2 + f.3));
    eprintln!("xtask: web/dist/");
    let row = |name: &str, (raw, gz, br): (usize, usize, usize)| {
        eprintln!(
            "  {name:<20} {:>8.1} KB raw {:>8.1} KB gzip {:>8.1} KB brotli",
            kb(raw),
            kb(gz),
            kb(br)
        );
    };
    for (name, raw, gz, br) in &files[..2] {
        row(name, (*raw, *gz, *br));
    }
    row("total for a visitor", total);
    eprintln!("  (budget: 20 KB gzip in total)");
    let (name, raw, gz, br) = files[2];
    row(name, (raw, gz, br));
    eprintln!(
        "  (the explaining build, fetched instead only when the config has a problem or debugging is on)"
    );
    eprintln!(
        "  integrity of web/dist/sitehook.js served as it is: {}\n  (a relay serves it with its webhooks' field lists in front: `sitehook-relay integrity --config FILE` prints that hash)",
        sri(js.as_bytes())
    );
    Ok(())
}

/// A built and optimised wasm, with its wasm-bindgen glue.
struct Built {
    wasm: PathBuf,
    glue: PathBuf,
}

/// cargo (the build's profile and features) → wasm-bindgen (no-modules glue) →
/// wasm-opt (size passes, see `FLAGS`), in `target/snippet/<name>/`.
fn wasm(
    root: &Path,
    target: &Path,
    wasm_bindgen: &Path,
    wasm_opt: &Path,
    build: &Build,
) -> anyhow::Result<Built> {
    eprintln!(
        "xtask: building the snippet's {} build (wasm32, size profile)…",
        build.name
    );
    let mut cargo = Command::new(tools::cargo());
    cargo.current_dir(root).args([
        "build",
        "--quiet",
        "-p",
        "sitehook-snippet",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        build.profile,
    ]);
    if !build.features.is_empty() {
        cargo.arg("--features").arg(build.features.join(","));
    }
    tools::run(&mut cargo)?;
    let raw = target.join(format!(
        "wasm32-unknown-unknown/{}/sitehook_snippet.wasm",
        build.profile
    ));
    let work = target.join("snippet").join(build.name);
    std::fs::create_dir_all(&work)?;
    tools::run(
        Command::new(wasm_bindgen)
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
    // Flattening and re-looping before two -Oz rounds, and the promise that the first
    // kilobyte of memory is unused (Rust's stack is there, and reaching it means the
    // stack has overflowed), save about 0.5 KB gzip over plain -Oz (visitor build,
    // measured 2026-12-04).
    const FLAGS: [&str; 8] = [
        "--low-memory-unused",
        "--flatten",
        "--rereloop",
        "-Oz",
        "-Oz",
        "--converge",
        "--strip-debug",
        "--strip-producers",
    ];
    // wasm-opt takes seconds; skip it when neither its input nor its flags changed.
    let mut key = FLAGS.join(" ").into_bytes();
    key.extend(std::fs::read(work.join("sitehook_bg.wasm"))?);
    let last_key = work.join("sitehook.opt.input");
    let fresh = optimised.is_file() && std::fs::read(&last_key).is_ok_and(|last| last == key);
    if !fresh {
        tools::run(
            Command::new(wasm_opt)
                .args(FLAGS)
                .arg(work.join("sitehook_bg.wasm"))
                .arg("-o")
                .arg(&optimised),
        )?;
        std::fs::write(&last_key, &key)?;
    }
    Ok(Built {
        wasm: optimised,
        glue: work.join("sitehook.js"),
    })
}

/// Checks that the explaining build's glue also runs the visitor build: every import
/// the visitor build's glue provides is provided by it, and both call the same
/// exports. wasm-bindgen names an import by a hash of its declaration, so the two
/// builds agree on the names of what they share.
fn check_glue(visitor: &str, explaining: &str) -> anyhow::Result<()> {
    let (v_imports, e_imports) = (names(visitor, "__wbg_"), names(explaining, "__wbg_"));
    if let Some(missing) = v_imports.iter().find(|n| !e_imports.contains(*n)) {
        anyhow::bail!(
            "the snippet's visitor build imports {missing}, which its explaining build does not: the one glue cannot serve both. Make both builds use it (or neither)"
        );
    }
    let (v_exports, e_exports) = (names(visitor, "wasm."), names(explaining, "wasm."));
    anyhow::ensure!(
        v_exports == e_exports,
        "the snippet's two builds export different functions ({v_exports:?} vs {e_exports:?}): the one glue cannot serve both"
    );
    Ok(())
}

/// wasm-bindgen's loading code, which `trim_glue` replaces: from here to the end.
const GLUE_LOADING: &str = "    async function __wbg_load(module, imports) {";
/// The end of the glue (wasm-bindgen's init function, with `initSync`).
const GLUE_END: &str =
    "    return Object.assign(__wbg_init, { initSync }, exports);\n})({ __proto__: null });";
/// wasm-bindgen's guess of the wasm's URL from the script's, which the loader never
/// needs: it names the file.
const GLUE_SCRIPT_SRC: &str = "    let script_src;
    if (typeof document !== 'undefined' && document.currentScript !== null) {
        script_src = new URL(document.currentScript.src, location.href).toString();
    }
";
/// A fallback for browsers without `TextEncoder.encodeInto` (before Safari 14.1): there
/// the string passing throws, the loader reports it once and the page carries on.
const GLUE_ENCODE_INTO: &str = "    if (!('encodeInto' in cachedTextEncoder)) {
        cachedTextEncoder.encodeInto = function (arg, view) {
            const buf = cachedTextEncoder.encode(arg);
            view.set(buf);
            return {
                read: arg.length,
                written: buf.length
            };
        };
    }
";
/// What the loading code becomes: instantiate a fetched response. The loader fetches
/// the wasm itself (with its integrity hash), so the URL guessing, `initSync`, the
/// deprecated-parameter warnings and their texts go (about 0.5 KB gzip).
const GLUE_LOAD: &str = "    async function __wbg_init(response) {
        const r = await response;
        if (!r.ok) throw new Error('HTTP ' + r.status);
        const imports = __wbg_get_imports();
        // Streaming compilation needs the wasm's own content type.
        const { instance, module } = WebAssembly.instantiateStreaming && /wasm/.test(r.headers.get('content-type'))
            ? await WebAssembly.instantiateStreaming(r, imports)
            : await WebAssembly.instantiate(await r.arrayBuffer(), imports);
        return __wbg_finalize_init(instance, module);
    }
    return Object.assign(__wbg_init, exports);
})({ __proto__: null });";

/// wasm-bindgen's glue without what the loader does itself: its loading code is
/// replaced by a smaller one that instantiates the response the loader fetched.
/// wasm-bindgen is pinned to one version (see Cargo.toml), so its glue is known text;
/// each part is checked, and a change makes `dist` fail here rather than ship glue that
/// does not load.
fn trim_glue(glue: &str) -> anyhow::Result<String> {
    let mut out = glue.to_owned();
    for part in [GLUE_SCRIPT_SRC, GLUE_ENCODE_INTO] {
        anyhow::ensure!(
            out.matches(part).count() == 1,
            "wasm-bindgen's glue changed (no longer has {:?}): update trim_glue in crates/xtask/src/dist.rs",
            part.lines().next().unwrap_or_default()
        );
        out = out.replacen(part, "", 1);
    }
    let (Some(from), true) = (out.find(GLUE_LOADING), out.trim_end().ends_with(GLUE_END)) else {
        anyhow::bail!(
            "wasm-bindgen's glue changed (its loading code is not where trim_glue expects it): update crates/xtask/src/dist.rs"
        );
    };
    out.truncate(from);
    out.push_str(GLUE_LOAD);
    anyhow::ensure!(
        !out.contains("script_src") && !out.contains("initSync"),
        "wasm-bindgen's glue still refers to what trim_glue took out"
    );
    Ok(out)
}

/// wasm-bindgen's import module.
const GLUE_MODULE: &str = "./sitehook_bg.js";

/// Renames the imports of the wasm files (the first one's are a superset) to short
/// names, `a`, `b`, …, from module `w`, in the files and in the glue.
///
/// wasm-bindgen names each import after its declaration and a 16-digit hash
/// (`__wbg_getItem_9fc74b31b896f95a`), and each name is spelt out twice, in the wasm
/// and in the glue: about 3 KB of nearly incompressible text. The two builds share
/// the glue, so both get the same renaming (wasm-opt's `--minify-imports` would
/// number each file's imports its own way).
fn short_imports(glue: &str, wasms: &mut [&mut Vec<u8>]) -> anyhow::Result<String> {
    let names = wasm_names(wasms[0], false)?;
    let mapping = short_names(&names);
    for wasm in wasms.iter_mut() {
        **wasm = rename_imports(wasm, |module, name| {
            anyhow::ensure!(
                module == GLUE_MODULE,
                "the snippet imports from {module:?}: only {GLUE_MODULE:?} can be renamed"
            );
            mapping.get(name).cloned().with_context(|| {
                format!("the snippet's visitor build imports {name}, which its explaining build does not")
            })
        })?;
    }
    let module_key = format!("\"{GLUE_MODULE}\": import0");
    anyhow::ensure!(
        glue.matches(&module_key).count() == 1,
        "wasm-bindgen's glue no longer says {module_key} once: the import renaming needs updating"
    );
    let mut out = glue.replacen(&module_key, "w: import0", 1);
    for name in &names {
        // The import object's key, which is the name's only use in the glue.
        let key = format!("{name}:");
        anyhow::ensure!(
            out.matches(name.as_str()).count() == 1 && out.matches(&key).count() == 1,
            "wasm-bindgen's glue does not use {name} once, as a key: the import renaming needs updating"
        );
        out = out.replacen(&key, &format!("{}:", mapping[name.as_str()]), 1);
    }
    Ok(out)
}

/// Renames the exports of the wasm files (both builds export the same) to short
/// names, in the files and in the glue, where each is used as `wasm.NAME`:
/// `wasm.__wbindgen_malloc` alone is written out thirteen times.
fn short_exports(glue: &str, wasms: &mut [&mut Vec<u8>]) -> anyhow::Result<String> {
    let names = wasm_names(wasms[0], true)?;
    let mapping = short_names(&names);
    for wasm in wasms.iter_mut() {
        **wasm = rename_exports(wasm, |name| {
            mapping.get(name).cloned().with_context(|| {
                format!("the snippet's builds export different functions ({name})")
            })
        })?;
    }
    // Every use of the exports object is `wasm.NAME`; a use of another form would be
    // left pointing at an old name, so it is refused.
    let mut out = String::with_capacity(glue.len());
    let mut rest = glue;
    while let Some(at) = rest.find("wasm.") {
        out.push_str(&rest[..at + 5]);
        rest = &rest[at + 5..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let name = &rest[..end];
        let short = mapping.get(name).with_context(|| {
            format!("wasm-bindgen's glue uses wasm.{name}, which the snippet does not export")
        })?;
        out.push_str(short);
        rest = &rest[end..];
    }
    out.push_str(rest);
    anyhow::ensure!(
        !names.iter().any(|n| out.contains(&format!("\"{n}\""))),
        "wasm-bindgen's glue names an export in a string: the export renaming needs updating"
    );
    Ok(out)
}

/// The wasm file with each export renamed by `rename(name)`.
fn rename_exports(
    wasm: &[u8],
    mut rename: impl FnMut(&str) -> anyhow::Result<String>,
) -> anyhow::Result<Vec<u8>> {
    rewrite_section(wasm, 7, |body| {
        let mut s = Reader { bytes: body, at: 0 };
        let count = s.leb()?;
        let mut section = Vec::new();
        write_leb(&mut section, count);
        for _ in 0..count {
            let new = rename(s.name()?)?;
            write_leb(&mut section, new.len() as u64);
            section.extend_from_slice(new.as_bytes());
            // The kind and the index, copied as they are.
            let start = s.at;
            s.byte()?;
            s.leb()?;
            section.extend_from_slice(&body[start..s.at]);
        }
        anyhow::ensure!(
            s.at == body.len(),
            "the wasm file's export section has trailing bytes"
        );
        Ok(section)
    })
}

/// The wasm file with the body of section `id` replaced by `rewrite(body)`.
fn rewrite_section(
    wasm: &[u8],
    id: u8,
    mut rewrite: impl FnMut(&[u8]) -> anyhow::Result<Vec<u8>>,
) -> anyhow::Result<Vec<u8>> {
    anyhow::ensure!(wasm.starts_with(b"\0asm\x01\0\0\0"), "not a wasm file");
    let mut r = Reader { bytes: wasm, at: 8 };
    let mut out = wasm[..8].to_vec();
    while r.at < wasm.len() {
        let section = r.byte()?;
        let size = usize::try_from(r.leb()?)?;
        let body = r.take(size)?;
        let new;
        let body = if section == id {
            new = rewrite(body)?;
            &new[..]
        } else {
            body
        };
        out.push(section);
        write_leb(&mut out, body.len() as u64);
        out.extend_from_slice(body);
    }
    Ok(out)
}

/// Each of `names` with its short name, in order.
fn short_names(names: &[String]) -> std::collections::HashMap<&str, String> {
    names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), short_name(i)))
        .collect()
}

/// `a` … `z`, `A` … `Z`, `aa`, `ab`, …: the `i`th short name.
fn short_name(mut i: usize) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut name = Vec::new();
    loop {
        name.insert(0, LETTERS[i % LETTERS.len()]);
        i /= LETTERS.len();
        if i == 0 {
            return String::from_utf8(name).expect("ASCII letters");
        }
        i -= 1;
    }
}

/// The names of a wasm file's imports (`exports` false) or exports, in order.
fn wasm_names(wasm: &[u8], exports: bool) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    let mut note = |name: &str| {
        names.push(name.to_owned());
        Ok(name.to_owned())
    };
    if exports {
        rename_exports(wasm, note)?;
    } else {
        rename_imports(wasm, |_, name| note(name))?;
    }
    Ok(names)
}

/// The wasm file with each import renamed by `rename(module, name)` and its module
/// set to `w`. Only the import section changes (the name section is stripped).
fn rename_imports(
    wasm: &[u8],
    mut rename: impl FnMut(&str, &str) -> anyhow::Result<String>,
) -> anyhow::Result<Vec<u8>> {
    rewrite_section(wasm, 2, |body| {
        let mut s = Reader { bytes: body, at: 0 };
        let count = s.leb()?;
        let mut section = Vec::new();
        write_leb(&mut section, count);
        for _ in 0..count {
            let module = s.name()?;
            let name = s.name()?;
            let new = rename(module, name)?;
            for text in ["w", new.as_str()] {
                write_leb(&mut section, text.len() as u64);
                section.extend_from_slice(text.as_bytes());
            }
            // The import's description, copied as it is.
            let start = s.at;
            match s.byte()? {
                // A function (its type) or a tag (an attribute and its type).
                0x00 => {
                    s.leb()?;
                }
                0x04 => {
                    s.byte()?;
                    s.leb()?;
                }
                // A table (its element type and limits) or a memory (its limits).
                0x01 => {
                    s.byte()?;
                    s.limits()?;
                }
                0x02 => s.limits()?,
                // A global: its value type and mutability.
                0x03 => {
                    s.take(2)?;
                }
                kind => anyhow::bail!("the wasm file has an import of unknown kind {kind:#x}"),
            }
            section.extend_from_slice(&body[start..s.at]);
        }
        anyhow::ensure!(
            s.at == body.len(),
            "the wasm file's import section has trailing bytes"
        );
        Ok(section)
    })
}

/// Reads a wasm file's bytes.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> anyhow::Result<&'a [u8]> {
        let end = self
            .at
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())
            .context("the wasm file ends early")?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    fn byte(&mut self) -> anyhow::Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn leb(&mut self) -> anyhow::Result<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        anyhow::bail!("a number in the wasm file is too long")
    }

    fn name(&mut self) -> anyhow::Result<&'a str> {
        let len = usize::try_from(self.leb()?)?;
        std::str::from_utf8(self.take(len)?).context("a name in the wasm file is not UTF-8")
    }

    /// A table's or a memory's limits: flags, the minimum, and the maximum if flagged.
    fn limits(&mut self) -> anyhow::Result<()> {
        let flags = self.byte()?;
        self.leb()?;
        if flags & 1 != 0 {
            self.leb()?;
        }
        Ok(())
    }
}

fn write_leb(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let b = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// The identifiers in `js` that start with `prefix` (prefix included).
fn names(js: &str, prefix: &str) -> std::collections::BTreeSet<String> {
    js.match_indices(prefix)
        .map(|(at, _)| {
            let rest = &js[at..];
            let end = rest[prefix.len()..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(rest.len(), |e| e + prefix.len());
            rest[..end].to_owned()
        })
        .collect()
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
