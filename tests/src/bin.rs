//! The real `pulseboard` binary for tests and examples that run it as a separate process
//! (`pulseboard run`, the alert tests).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The real `pulseboard` binary, built (a no-op when it is fresh) into the target directory
/// these tests run from: Cargo hands `CARGO_BIN_EXE_pulseboard` to the server's own tests only.
pub fn pulseboard_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("the test's own path");
        // <target>/<profile>/deps/<test>-<hash> (or <target>/<profile>/examples/<name>)
        let profile = exe.parent().and_then(Path::parent).expect("a profile dir");
        let target = profile.parent().expect("a target dir");
        let mut build = std::process::Command::new(env!("CARGO"));
        // Cargo gives this test its package's variables; build scripts that watch them (ring's)
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
        // Both packages, so features resolve as for these tests and nothing is rebuilt.
        build
            .args(["build", "-p", "pulseboard-server", "-p", "pulseboard-tests"])
            .args(["--bin", "pulseboard", "--target-dir"])
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
        assert!(built.success(), "cargo could not build pulseboard");
        profile.join(format!("pulseboard{}", std::env::consts::EXE_SUFFIX))
    })
}
