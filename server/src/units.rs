//! `pulseboard check-units`: the programs that systemd units (`ExecStart=`) and launchd plists
//! (`ProgramArguments`) start, checked against `[runtime]` before a rollout, so a unit that runs
//! another interpreter or build than the workers should is caught in the deploy repository's CI,
//! not on the host. A unit names its worker through `pulseboard run --name NAME [--kind K]
//! [--version V] -- PROGRAM`; its program (and version) are compared with what `[runtime]`
//! expects of that worker, paths normalised as the server compares them. Pure: no file is run or
//! resolved.

use pulseboard_shared::drift::{normalise, DriftField, Expected};

use crate::config::runtime::RuntimeSettings;
use crate::config::Config;

/// One program a unit starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    /// The line it is on (1-based).
    pub line: usize,
    /// Its arguments, the program first.
    pub argv: Vec<String>,
}

/// What a unit's launch says about the worker it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declares {
    /// `--name`.
    pub worker: Option<String>,
    /// `--kind`.
    pub kind: Option<String>,
    /// `--version`.
    pub version: Option<String>,
    /// The program after `--` (or the unit's own program when it is not `pulseboard run`).
    pub program: String,
}

/// What is wrong with one launch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Where.
    pub line: usize,
    /// The worker, if named.
    pub worker: Option<String>,
    /// The field that differs (none: the launch could not be checked).
    pub field: Option<DriftField>,
    /// What the unit says.
    pub actual: String,
    /// What `[runtime]` expects (or why it could not be checked).
    pub expected: String,
}

/// The `ExecStart=` lines of a systemd unit (systemd's `-@:+!` prefixes dropped, quotes honoured).
pub fn systemd(text: &str) -> Vec<Launch> {
    text.lines()
        .enumerate()
        .filter_map(|(n, line)| {
            let value = line.trim().strip_prefix("ExecStart=")?;
            let value = value.trim_start_matches(['-', '@', ':', '+', '!']);
            let argv = split(value);
            (!argv.is_empty()).then_some(Launch { line: n + 1, argv })
        })
        .collect()
}

/// The `ProgramArguments` of a launchd plist.
pub fn launchd(text: &str) -> Vec<Launch> {
    let Some(key) = text.find("<key>ProgramArguments</key>") else {
        return Vec::new();
    };
    let rest = &text[key..];
    let end = rest.find("</array>").unwrap_or(rest.len());
    let mut argv = Vec::new();
    let mut cursor = &rest[..end];
    while let Some(open) = cursor.find("<string>") {
        let after = &cursor[open + 8..];
        let Some(close) = after.find("</string>") else {
            break;
        };
        let raw = &after[..close];
        argv.push(
            raw.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&"),
        );
        cursor = &after[close..];
    }
    let line = text[..key].lines().count() + 1;
    if argv.is_empty() {
        Vec::new()
    } else {
        vec![Launch { line, argv }]
    }
}

/// Splits a command line on whitespace, with `"..."` and `'...'` as one argument.
fn split(line: &str) -> Vec<String> {
    let (mut argv, mut word, mut quote, mut started) = (Vec::new(), String::new(), None, false);
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => (quote, started) = (Some(c), true),
            (None, c) if c.is_whitespace() => {
                if started || !word.is_empty() {
                    argv.push(std::mem::take(&mut word));
                }
                started = false;
            }
            (None, c) => word.push(c),
        }
    }
    if started || !word.is_empty() {
        argv.push(word);
    }
    argv
}

/// What `argv` runs: through `pulseboard run`, the worker it names and the program after `--`.
pub fn declares(argv: &[String]) -> Declares {
    let is_pulseboard = argv
        .first()
        .is_some_and(|p| p.rsplit('/').next() == Some("pulseboard"));
    if !is_pulseboard || argv.get(1).map(String::as_str) != Some("run") {
        let program = argv.first().cloned().unwrap_or_default();
        return Declares {
            worker: None,
            kind: None,
            version: None,
            program,
        };
    }
    let mut d = Declares {
        worker: None,
        kind: None,
        version: None,
        program: String::new(),
    };
    let mut args = argv[2..].iter();
    while let Some(arg) = args.next() {
        if arg == "--" {
            d.program = args.next().cloned().unwrap_or_default();
            break;
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag, Some(value.to_owned())),
            None => (arg.as_str(), None),
        };
        let slot = match flag {
            "--name" => &mut d.worker,
            "--kind" => &mut d.kind,
            "--version" => &mut d.version,
            _ => continue,
        };
        *slot = inline.or_else(|| args.next().cloned());
    }
    d
}

/// The findings for `launch` against `config`'s `[runtime]`: none when it matches, or when
/// nothing is expected of its worker.
pub fn check(launch: &Launch, config: &Config) -> Vec<Finding> {
    let d = declares(&launch.argv);
    let finding = |field, actual: &str, expected: &str| Finding {
        line: launch.line,
        worker: d.worker.clone(),
        field,
        actual: actual.to_owned(),
        expected: expected.to_owned(),
    };
    let Some(expected) = expected_of(&d, &config.runtime, config) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    if let Some(want) = &expected.executable {
        if !d.program.starts_with('/') {
            found.push(finding(
                None,
                &d.program,
                "an absolute path (a bare name cannot be checked)",
            ));
        } else if normalise(&d.program) != normalise(want) {
            found.push(finding(Some(DriftField::Executable), &d.program, want));
        }
    }
    if let (Some(want), Some(actual)) = (&expected.version, &d.version) {
        if want != actual {
            found.push(finding(Some(DriftField::Version), actual, want));
        }
    }
    found
}

/// What `[runtime]` expects of the worker `d` names (its own entry, else its kind's: from
/// `--kind`, else from `[[workers]]`).
fn expected_of<'a>(
    d: &Declares,
    runtime: &'a RuntimeSettings,
    config: &Config,
) -> Option<&'a Expected> {
    let name = d.worker.as_deref()?;
    if let Some(own) = runtime.workers.get(name) {
        return Some(own);
    }
    let configured = config.topology.workers.iter().find(|w| w.name == name);
    let kind = d
        .kind
        .clone()
        .or_else(|| configured.map(|w| w.kind.as_str().to_owned()))?;
    runtime.kinds.get(kind.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNIT: &str = "[Service]\nExecStartPre=/bin/true\n\
        ExecStart=-/usr/local/bin/pulseboard run --name gpu-1 --kind render --version=1.4.1 -- \"/opt/render/bin/../bin/render\" --port 9000\n";

    #[test]
    fn a_unit_names_its_worker_program_and_version() {
        let launches = systemd(UNIT);
        assert_eq!(launches.len(), 1, "ExecStartPre is not the service");
        assert_eq!(launches[0].line, 3);
        let d = declares(&launches[0].argv);
        assert_eq!(d.worker.as_deref(), Some("gpu-1"));
        assert_eq!(d.kind.as_deref(), Some("render"));
        assert_eq!(d.version.as_deref(), Some("1.4.1"));
        assert_eq!(d.program, "/opt/render/bin/../bin/render");
    }

    #[test]
    fn a_plist_gives_its_program_arguments() {
        let plist = "<plist><dict>\n<key>Label</key><string>x</string>\n<key>ProgramArguments</key>\n<array>\n\
            <string>/usr/local/bin/pulseboard</string><string>run</string><string>--name</string><string>a&amp;b</string>\
            <string>--</string><string>/opt/x</string>\n</array></dict></plist>";
        let launches = launchd(plist);
        assert_eq!(launches[0].line, 3);
        let d = declares(&launches[0].argv);
        assert_eq!(
            (d.worker.as_deref(), d.program.as_str()),
            (Some("a&b"), "/opt/x")
        );
    }

    #[test]
    fn the_same_file_written_another_way_passes_and_another_build_does_not() {
        let mut config = Config::default();
        let expected = Expected {
            version: Some("1.4.2".into()),
            executable: Some("/opt/render/bin/render".into()),
            config_hash: None,
        };
        config.runtime.kinds.insert("render", expected);
        let found = check(&systemd(UNIT)[0], &config);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].field, Some(DriftField::Version));
        let other = UNIT.replace(
            "/opt/render/bin/../bin/render",
            "/opt/render-old/bin/render",
        );
        let found = check(&systemd(&other)[0], &config);
        assert_eq!(found[0].field, Some(DriftField::Executable));
        assert_eq!(found[0].expected, "/opt/render/bin/render");
        assert!(
            check(
                &systemd("ExecStart=/usr/bin/env python3 app.py")[0],
                &config
            )
            .is_empty(),
            "names no worker"
        );
    }
}
