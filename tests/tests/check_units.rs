//! `pulseboard check-units` as a deploy repository's CI runs it: the real binary on real unit
//! files and a real config; exit 0 for units that start what `[runtime]` expects, 1 naming the
//! file, line and field of each that does not, 2 for a file it cannot read.

use std::process::Command;

const CONFIG: &str = r#"
[[workers]]
name = "gpu-1"
kind = "render"
[runtime.render]
executable = "/opt/render/bin/render"
version = "1.4.2"
"#;

fn unit(program: &str, version: &str) -> String {
    format!(
        "[Service]\nExecStart=/usr/local/bin/pulseboard run --name gpu-1 --version {version} -- {program} --port 9000\nRestart=always\n"
    )
}

#[test]
fn a_matching_unit_passes_and_a_drifted_one_is_named_by_file_and_line() {
    let dir = std::env::temp_dir().join(format!("pb-units-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("pulseboard.toml"), CONFIG).unwrap();
    let good = dir.join("good.service");
    std::fs::write(&good, unit("/opt/render/bin/../bin/render", "1.4.2")).unwrap();
    let bad = dir.join("bad.service");
    std::fs::write(&bad, unit("/opt/render-old/bin/render", "1.4.2")).unwrap();
    let check = |units: &[&std::path::Path]| {
        Command::new(pulseboard_tests::pulseboard_bin())
            .arg("check-units")
            .arg("--config")
            .arg(dir.join("pulseboard.toml"))
            .args(units)
            .env_remove("PULSEBOARD_CONFIG")
            .output()
            .unwrap()
    };
    let ok = check(&[&good]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let drifted = check(&[&good, &bad]);
    assert_eq!(drifted.status.code(), Some(1));
    let out = String::from_utf8(drifted.stdout).unwrap();
    assert_eq!(
        out.trim(),
        format!("{}:2: worker gpu-1: executable /opt/render-old/bin/render (expected /opt/render/bin/render)", bad.display())
    );
    let missing = check(&[&dir.join("nope.service")]);
    assert_eq!(missing.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}
