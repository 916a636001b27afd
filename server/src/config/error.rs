//! What a configuration that cannot be used says about itself: what is wrong and which key.

use std::path::PathBuf;

/// A configuration that cannot be used, with what is wrong and where.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {cause}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// The file is not valid TOML or has an unknown key or a value of the wrong type.
    #[error("config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, which names the key and the line.
        message: String,
    },
    /// A value is of the right type but not usable.
    #[error("config: {key}: {message}")]
    Invalid {
        /// The key, e.g. `workers[2].host`.
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// `key`'s value is of the right type but not usable.
pub(crate) fn invalid(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        message: message.into(),
    }
}
