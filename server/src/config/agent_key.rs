//! The agent key, as the server and `pulseboard agent` find it: `PULSEBOARD_AGENT_KEY` (the
//! hex itself), or a key file (`--agent-key-file` / `agent_key_file` for the server,
//! `--key-file` for the agent; under systemd, a credential: `LoadCredential=`). One source, not
//! two. The key is read once at start-up and never written anywhere: not to Redis, not to a
//! log (only its fingerprint), not to `check-config`'s output (only the file's path).

use std::path::{Path, PathBuf};

use pulseboard_shared::agent::key::{AgentKeyError, AgentKeys};

/// Why the agent key cannot be used; never carries any of it.
#[derive(Debug, thiserror::Error)]
pub enum AgentKeyLoadError {
    /// The key is given twice.
    #[error("the agent key is given both by PULSEBOARD_AGENT_KEY and by a key file ({}); give one", .0.display())]
    Twice(PathBuf),
    /// The key file cannot be read.
    #[error("cannot read the agent key file {path}: {cause}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// The key is not a good one.
    #[error("the agent key from {from}: {why}")]
    Bad {
        /// Where it came from (the variable's name or the file's path).
        from: String,
        /// What is wrong with it.
        why: AgentKeyError,
    },
}

/// The keys given by `value` (the environment's, or a flag's) or in `file`; `None` when neither
/// is given.
pub fn load(
    value: Option<&str>,
    file: Option<&Path>,
) -> Result<Option<AgentKeys>, AgentKeyLoadError> {
    match (value, file) {
        (Some(_), Some(path)) => Err(AgentKeyLoadError::Twice(path.to_owned())),
        (Some(text), None) => {
            AgentKeys::parse(text)
                .map(Some)
                .map_err(|why| AgentKeyLoadError::Bad {
                    from: "PULSEBOARD_AGENT_KEY".into(),
                    why,
                })
        }
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|cause| AgentKeyLoadError::Read {
                path: path.to_owned(),
                cause,
            })?;
            warn_if_readable_by_others(path);
            AgentKeys::parse(&text)
                .map(Some)
                .map_err(|why| AgentKeyLoadError::Bad {
                    from: path.display().to_string(),
                    why,
                })
        }
        (None, None) => Ok(None),
    }
}

/// A key file anyone on the host can read is a key anyone on the host has.
fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(
                    file = %path.display(),
                    "the agent key file can be read by others than its owner; chmod 600 it"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    #[test]
    fn one_source_read_and_checked_and_never_echoed() {
        assert!(load(None, None).unwrap().is_none());
        assert_eq!(load(Some(KEY), None).unwrap().unwrap().count(), 1);
        let dir = std::env::temp_dir().join(format!("pb-agent-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("agent.key");
        std::fs::write(&file, format!("{KEY}\n")).unwrap();
        assert_eq!(load(None, Some(&file)).unwrap().unwrap().count(), 1);
        let twice = load(Some(KEY), Some(&file)).unwrap_err().to_string();
        assert!(twice.contains("give one"), "{twice}");
        std::fs::write(&file, "0123456789abcdef").unwrap();
        let weak = load(None, Some(&file)).unwrap_err().to_string();
        assert!(
            weak.contains("agent.key") && weak.contains("openssl rand -hex 32"),
            "{weak}"
        );
        assert!(!weak.contains("0123456789abcdef"), "{weak}");
        let missing = load(None, Some(&dir.join("nope"))).unwrap_err().to_string();
        assert!(missing.contains("cannot read"), "{missing}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
