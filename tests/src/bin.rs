//! The real `pulseboard` binary for tests and examples that run it as a separate process
//! (`pulseboard run`, the agent, the alert tests).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The real `pulseboard` command: this package's `pulseboard-e2e` binary, compiled from the
/// server's own `main.rs` (Cargo hands `CARGO_BIN_EXE_*` to integration tests, not to this
/// library). An integration test finds it fresh next to itself: `cargo test` builds a package's
/// binaries before its tests. An example builds it first (a no-op when it is fresh), together
/// with the example itself, so features resolve exactly as for the example and nothing else is
/// rebuilt.
pub fn pulseboard_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("the test's own path");
        // <target>/<profile>/deps/<test>-<hash> or <target>/<profile>/examples/<name>
        let dir = exe.parent().expect("the test's folder");
        let profile = dir.parent().expect("a profile dir");
        let bin = profile.join(format!("pulseboard-e2e{}", std::env::consts::EXE_SUFFIX));
        if dir.file_name().is_some_and(|d| d == "examples") {
            let example = exe.file_stem().and_then(|n| n.to_str()).expect("a name");
            build(profile, example);
        }
        assert!(bin.is_file(), "{} is missing", bin.display());
        bin
    })
}

/// `cargo build` of `pulseboard-e2e` and of the example `example`, in `profile`.
fn build(profile: &Path, example: &str) {
    let target = profile.parent().expect("a target dir");
    let mut build = std::process::Command::new(env!("CARGO"));
    // Cargo gives this program its package's variables; build scripts that watch them (ring's)
    // would rerun, and rebuild half the tree, if the build saw them.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if [
            "CARGO_PKG_",
            "CARGO_MANIFEST_",
            "CARGO_CRATE_",
            "CARGO_BIN_",
        ]
        .iter()
        .any(|p| name.starts_with(p))
        {
            build.env_remove(&*name);
        }
    }
    build
        .args(["build", "-p", "pulseboard-tests", "--bin", "pulseboard-e2e"])
        .args(["--example", example, "--target-dir"])
        .arg(target)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    match profile.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => {}
        Some("release") => {
            build.arg("--release");
        }
        Some(other) => {
            build.args(["--profile", other]);
        }
    }
    let built = build.status().expect("cargo runs");
    assert!(built.success(), "cargo could not build pulseboard-e2e");
}

/// `pulseboard run` with `args` (name, part, flags) beating into `redis`, around `program`
/// (run directly, never through a shell), its output dropped: a program outliving its killed
/// wrapper would otherwise hold the test's pipe open. Killed with the handle.
pub fn pulseboard_run(redis: &str, args: &[&str], program: &[&str]) -> tokio::process::Child {
    tokio::process::Command::new(pulseboard_bin())
        .args(["run", "--redis", redis])
        .args(args)
        .arg("--")
        .args(program)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("pulseboard run starts")
}
