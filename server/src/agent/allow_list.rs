//! The agent's allow-list: the only programs it will ever run, per worker, read once at start-up.
//!
//! ```toml
//! [workers.render-1]
//! restart = ["/bin/systemctl", "restart", "render-1.service"]
//! reset = ["/bin/systemctl", "reset-failed", "render-1.service"]   # optional
//! timeout_s = 60                                                    # optional
//! ```
//!
//! Every mistake is found here rather than at the first request, when it would matter most: an
//! unknown key, an empty argv, a `timeout_s` of 0, or a program that cannot be found or run.
//! A bare program name (`systemctl`) is looked up in `PATH` once, now, and a relative path
//! (`bin/x`) is taken from the agent's working directory: what runs later is the absolute path
//! found here, whatever `PATH` or the directory become.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pulseboard_shared::agent::AgentAction;
use serde::Deserialize;

/// How long a command may run when its entry does not say.
pub const DEFAULT_TIMEOUT_S: u64 = 60;

/// Why the allow-list cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AllowListError {
    /// The file could not be read.
    #[error("cannot read the allow-list {path}: {cause}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// It is not TOML of the expected shape (toml's message names the key and the line).
    #[error("the allow-list {path} is not valid: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What toml said.
        message: String,
    },
    /// A value is wrong.
    #[error("the allow-list {path}: {key}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The key, dotted (`workers.render-1.restart`).
        key: String,
        /// What is wrong with it.
        message: String,
    },
}

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    workers: BTreeMap<String, RawEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    restart: Vec<String>,
    #[serde(default)]
    reset: Option<Vec<String>>,
    #[serde(default = "default_timeout_s")]
    timeout_s: u64,
}

fn default_timeout_s() -> u64 {
    DEFAULT_TIMEOUT_S
}

/// What the agent may do for one worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The supervisor's restart; `restart[0]` is an absolute path.
    pub restart: Vec<String>,
    /// Clears the supervisor's give-up state; run before `restart` for `reset_and_restart`.
    pub reset: Option<Vec<String>>,
    /// Each command's process group is killed after this.
    pub timeout: Duration,
}

/// One command of an action: which step it is, and its argv.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step<'a> {
    /// `reset` or `restart`.
    pub name: &'static str,
    /// The program (absolute) and its arguments.
    pub argv: &'a [String],
}

impl Entry {
    /// The commands `action` runs, in order. Without a `reset`, `reset_and_restart` is a restart.
    pub fn steps(&self, action: AgentAction) -> Vec<Step<'_>> {
        let restart = Step {
            name: "restart",
            argv: &self.restart,
        };
        match (action, &self.reset) {
            (AgentAction::ResetAndRestart, Some(reset)) => vec![
                Step {
                    name: "reset",
                    argv: reset,
                },
                restart,
            ],
            _ => vec![restart],
        }
    }
}

/// Every worker the agent may act for, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    workers: BTreeMap<String, Entry>,
}

impl AllowList {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<Self, AllowListError> {
        let text = std::fs::read_to_string(path).map_err(|cause| AllowListError::Read {
            path: path.to_owned(),
            cause,
        })?;
        Self::from_toml(&text, path)
    }

    /// Checks `text`, the content of `path` (named in the errors).
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, AllowListError> {
        let file: File = toml::from_str(text).map_err(|e| AllowListError::Parse {
            path: path.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        let invalid = |key: String, message: String| AllowListError::Invalid {
            path: path.to_owned(),
            key,
            message,
        };
        let mut workers = BTreeMap::new();
        for (name, raw) in file.workers {
            let key = |field: &str| format!("workers.{name}.{field}");
            if raw.timeout_s == 0 {
                return Err(invalid(
                    key("timeout_s"),
                    "must be at least 1 (seconds)".into(),
                ));
            }
            let restart =
                checked_argv(raw.restart).map_err(|e| invalid(key("restart"), e.to_string()))?;
            let reset = match raw.reset {
                Some(argv) => {
                    Some(checked_argv(argv).map_err(|e| invalid(key("reset"), e.to_string()))?)
                }
                None => None,
            };
            let entry = Entry {
                restart,
                reset,
                timeout: Duration::from_secs(raw.timeout_s),
            };
            workers.insert(name, entry);
        }
        Ok(Self { workers })
    }

    /// What the agent may do for `worker`, if anything.
    pub fn get(&self, worker: &str) -> Option<&Entry> {
        self.workers.get(worker)
    }

    /// The workers' names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.workers.keys().cloned().collect()
    }
}

/// Why an argv of the allow-list cannot be run (the message follows the key it is about).
#[derive(Debug, thiserror::Error)]
pub enum ArgvError {
    /// No program at all.
    #[error("is empty: give the program and its arguments, as a list")]
    Empty,
    /// The first element is "".
    #[error("the program (its first element) is empty")]
    EmptyProgram,
    /// A relative path, and the working directory cannot be known.
    #[error("{program}: the working directory is unknown: {cause}")]
    NoWorkingDirectory {
        /// The program as written.
        program: String,
        /// Why.
        cause: std::io::Error,
    },
    /// A bare name that no directory of `PATH` holds as an executable file.
    #[error("{0} is not found in PATH; give its absolute path")]
    NotInPath(String),
    /// The path cannot be read.
    #[error("{}: {cause}", path.display())]
    Unreadable {
        /// The program's path.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// The path is a directory or something else that is not a file.
    #[error("{} is not a file", .0.display())]
    NotAFile(PathBuf),
    /// The file has no execute permission.
    #[error("{} is not executable", .0.display())]
    NotExecutable(PathBuf),
}

/// `argv` with its program made absolute, or why it cannot be run.
fn checked_argv(mut argv: Vec<String>) -> Result<Vec<String>, ArgvError> {
    let Some(program) = argv.first() else {
        return Err(ArgvError::Empty);
    };
    if program.is_empty() {
        return Err(ArgvError::EmptyProgram);
    }
    let found = find_program(program)?;
    argv[0] = found.to_string_lossy().into_owned();
    Ok(argv)
}

/// The absolute path of `program`: itself when absolute, else from the working directory (a
/// path with a `/`) or from `PATH` (a bare name).
fn find_program(program: &str) -> Result<PathBuf, ArgvError> {
    let path = Path::new(program);
    if path.is_absolute() {
        return executable(path).map(|()| path.to_owned());
    }
    if program.contains('/') {
        let cwd = std::env::current_dir().map_err(|cause| ArgvError::NoWorkingDirectory {
            program: program.to_owned(),
            cause,
        })?;
        let full = cwd.join(path);
        return executable(&full).map(|()| full);
    }
    let dirs = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&dirs)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(program))
        .find(|candidate| executable(candidate).is_ok())
        .ok_or_else(|| ArgvError::NotInPath(program.to_owned()))
}

/// Whether `path` is a file this process could run.
fn executable(path: &Path) -> Result<(), ArgvError> {
    let meta = std::fs::metadata(path).map_err(|cause| ArgvError::Unreadable {
        path: path.to_owned(),
        cause,
    })?;
    if !meta.is_file() {
        return Err(ArgvError::NotAFile(path.to_owned()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o111 == 0 {
            return Err(ArgvError::NotExecutable(path.to_owned()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<AllowList, String> {
        AllowList::from_toml(text, Path::new("agent.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn a_worker_with_both_commands_and_one_with_defaults() {
        let list = parse(
            r#"
            [workers.render-1]
            restart = ["/bin/sh", "-c", "exit 0"]
            reset = ["sh", "reset"]
            timeout_s = 5

            [workers.a-watcher]
            restart = ["/bin/sh"]
            "#,
        )
        .unwrap();
        assert_eq!(list.names(), ["a-watcher", "render-1"], "sorted");
        let render = list.get("render-1").unwrap();
        assert_eq!(render.timeout, Duration::from_secs(5));
        let reset = render.reset.as_ref().unwrap();
        assert!(
            reset[0].starts_with('/') && reset[0].ends_with("/sh"),
            "{reset:?}"
        );
        assert_eq!(reset[1], "reset");
        let watcher = list.get("a-watcher").unwrap();
        assert_eq!(watcher.timeout, Duration::from_secs(DEFAULT_TIMEOUT_S));
        assert_eq!(watcher.reset, None);
        assert!(list.get("nobody").is_none());
    }

    #[test]
    fn steps_run_reset_first_and_fall_back_to_restart() {
        let entry = Entry {
            restart: vec!["/r".into()],
            reset: Some(vec!["/z".into()]),
            timeout: Duration::from_secs(1),
        };
        let names = |a| entry.steps(a).iter().map(|s| s.name).collect::<Vec<_>>();
        assert_eq!(names(AgentAction::Restart), ["restart"]);
        assert_eq!(names(AgentAction::ResetAndRestart), ["reset", "restart"]);
        let plain = Entry {
            reset: None,
            ..entry.clone()
        };
        assert_eq!(
            plain.steps(AgentAction::ResetAndRestart),
            [Step {
                name: "restart",
                argv: &["/r".to_owned()]
            }]
        );
    }

    #[test]
    fn mistakes_name_their_key() {
        let cases = [
            (
                "[workers.w]\nrestart = [\"/bin/sh\"]\nshell = true\n",
                "unknown field `shell`",
            ),
            (
                "[worker.w]\nrestart = [\"/bin/sh\"]\n",
                "unknown field `worker`",
            ),
            (
                "[workers.w]\nreset = [\"/bin/sh\"]\n",
                "missing field `restart`",
            ),
            ("[workers.w]\nrestart = []\n", "workers.w.restart: is empty"),
            (
                "[workers.w]\nrestart = [\"/bin/sh\"]\nreset = [\"\"]\n",
                "workers.w.reset: the program",
            ),
            (
                "[workers.w]\nrestart = [\"/bin/sh\"]\ntimeout_s = 0\n",
                "workers.w.timeout_s: must be at least 1",
            ),
            (
                "[workers.w]\nrestart = [\"no-such-program-here\", \"x\"]\n",
                "workers.w.restart: no-such-program-here is not found in PATH",
            ),
            (
                "[workers.w]\nrestart = [\"./no/such/file\"]\n",
                "workers.w.restart: ",
            ),
            (
                "[workers.w]\nrestart = [\"/no/such/file\"]\n",
                "workers.w.restart: /no/such/file",
            ),
            ("[workers.w]\nrestart = [\"/\"]\n", "/ is not a file"),
        ];
        for (text, expected) in cases {
            let error = parse(text).expect_err(text);
            assert!(error.contains(expected), "{text}: {error}");
            assert!(error.contains("agent.toml"), "{error}");
        }
    }

    #[test]
    fn a_program_that_cannot_run_is_refused() {
        let dir = std::env::temp_dir().join(format!("pb-allow-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("not-executable");
        std::fs::write(&file, "#!/bin/sh\n").unwrap();
        let text = format!(
            "[workers.w]\nrestart = [{:?}]\n",
            file.display().to_string()
        );
        let error = parse(&text).unwrap_err();
        assert!(error.contains("is not executable"), "{error}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_example_in_deploy_is_valid() {
        let text = include_str!("../../../deploy/agent.example.toml")
            .replace("/bin/systemctl", "/bin/sh")
            .replace("/bin/launchctl", "/bin/sh");
        let list = parse(&text).unwrap();
        assert_eq!(list.names(), ["gpu-1", "render-1"]);
        assert_eq!(
            list.get("render-1").unwrap().reset.as_deref().unwrap()[1..],
            ["reset-failed", "render-1.service"]
        );
    }

    #[test]
    fn an_empty_list_is_valid_and_names_nobody() {
        assert!(parse("").unwrap().names().is_empty());
    }
}
