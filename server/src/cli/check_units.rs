//! `pulseboard check-units`: the flags, and the report.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use pulseboard_server::config::{Config, Overrides};
use pulseboard_server::units;

pub const CHECK_UNITS_HELP: &str = "\
Each unit's ExecStart= (a launchd plist's ProgramArguments) that runs `pulseboard run --name NAME
[--kind K] [--version V] -- PROGRAM` is checked against [runtime] for that worker (its own
[runtime.workers.NAME], else its kind's): PROGRAM against `executable` (paths compared with `.`
and `..` resolved; a bare name cannot be checked and is reported), --version against `version`.
A unit that names no worker, or a worker nothing is expected of, passes.

Exit 0: every unit matches. Exit 1: each mismatch on a line `FILE:LINE: worker NAME: FIELD
ACTUAL (expected EXPECTED)`. Exit 2: a file cannot be read, or the config is wrong.

Example, in the deploy repository's CI before a rollout:
  pulseboard check-units --config deploy/pulseboard.toml deploy/systemd/*.service";

#[derive(Args)]
pub struct CheckUnitsArgs {
    /// The configuration with `[runtime]` (as `serve` reads it).
    #[arg(long, env = "PULSEBOARD_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// systemd units (`.service`) or launchd plists (`.plist`).
    #[arg(required = true, value_name = "UNIT")]
    pub units: Vec<PathBuf>,
}

/// The most bytes of a unit read.
const MAX_UNIT_BYTES: u64 = 1 << 20;

impl CheckUnitsArgs {
    /// Checks every unit and prints what differs; the exit code.
    pub fn run(self) -> anyhow::Result<i32> {
        let config = Config::load(self.config.as_deref(), &Overrides::default())?;
        let mut mismatches = 0;
        for path in &self.units {
            let size = std::fs::metadata(path)
                .with_context(|| format!("{}", path.display()))?
                .len();
            anyhow::ensure!(
                size <= MAX_UNIT_BYTES,
                "{}: over 1 MiB: not a unit",
                path.display()
            );
            let text =
                std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
            let plist = path.extension().is_some_and(|e| e == "plist") || text.contains("<plist");
            let launches = if plist {
                units::launchd(&text)
            } else {
                units::systemd(&text)
            };
            for launch in &launches {
                for f in units::check(launch, &config) {
                    mismatches += 1;
                    let field = f.field.map_or("program", |d| d.as_str());
                    let worker = f.worker.as_deref().unwrap_or("?");
                    println!(
                        "{}:{}: worker {worker}: {field} {} (expected {})",
                        path.display(),
                        f.line,
                        f.actual,
                        f.expected
                    );
                }
            }
        }
        let checked = self.units.len();
        if mismatches == 0 {
            eprintln!("pulseboard: {checked} unit(s) match [runtime]");
            Ok(0)
        } else {
            eprintln!("pulseboard: {mismatches} mismatch(es) in {checked} unit(s)");
            Ok(1)
        }
    }
}
