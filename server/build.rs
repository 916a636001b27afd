//! Embeds the dashboard bundle (trunk's `dist/`) into the binary, each file with its brotli and
//! gzip forms compressed once here, so a deployment is one file and no request compresses.
//!
//! The bundle is read from `PULSEBOARD_EMBED_DIST` or else `dist/` at the workspace root. Without
//! one (a fresh clone before `scripts/build-dashboard.sh`), nothing is embedded and `/infra/`
//! says how to build it; the build never fails for it.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-env-changed=PULSEBOARD_EMBED_DIST");
    let dist = std::env::var_os("PULSEBOARD_EMBED_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
            manifest.parent().unwrap().join("dist")
        });
    // Watching the folder catches files added or removed; each file is watched below.
    println!("cargo:rerun-if-changed={}", dist.display());
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    let mut files = Vec::new();
    if dist.join("index.html").is_file() {
        collect(&dist, &dist, &mut files);
    }
    files.sort();
    let mut code = String::from("&[\n");
    for (n, (path, relative)) in files.iter().enumerate() {
        println!("cargo:rerun-if-changed={}", path.display());
        let raw = std::fs::read(path).unwrap();
        let gzip = smaller(&raw, gzip(&raw)).map(|b| write_out(&out, &format!("{n}.gz"), &b));
        let brotli = smaller(&raw, brotli(&raw)).map(|b| write_out(&out, &format!("{n}.br"), &b));
        writeln!(
            code,
            "    Asset {{ path: {relative:?}, raw: include_bytes!({:?}), gzip: {}, brotli: {}, \
             etag: \"\\\"{:016x}\\\"\" }},",
            path.display().to_string(),
            included(gzip),
            included(brotli),
            fnv1a(&raw),
        )
        .unwrap();
    }
    code.push(']');
    std::fs::write(out.join("embedded_bundle.rs"), code).unwrap();
}

/// Every file under `dir`, with its path relative to `root` (`/`-separated).
fn collect(root: &Path, dir: &Path, files: &mut Vec<(PathBuf, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(root, &path, files);
        } else {
            let relative = path.strip_prefix(root).unwrap();
            let relative = relative.to_string_lossy().replace('\\', "/");
            files.push((path, relative));
        }
    }
}

/// `compressed` when it saves at least a tenth (small or incompressible files are sent as is).
fn smaller(raw: &[u8], compressed: Vec<u8>) -> Option<Vec<u8>> {
    (compressed.len() < raw.len() - raw.len() / 10).then_some(compressed)
}

fn gzip(raw: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(raw).unwrap();
    encoder.finish().unwrap()
}

fn brotli(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &raw[..], &mut out, &params).unwrap();
    out
}

fn write_out(out: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = out.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn included(path: Option<PathBuf>) -> String {
    match path {
        Some(path) => format!("Some(include_bytes!({:?}))", path.display().to_string()),
        None => "None".into(),
    }
}

/// A content hash for the ETag: FNV-1a, stable across builds and platforms.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
