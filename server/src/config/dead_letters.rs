//! The `[dead_letters]` section: who may read the payloads of dead letters, and which of their
//! keys are masked when they are shown.

use serde::Deserialize;

use super::error::{invalid, ConfigError};

/// Keys masked in every preview unless `redact` says otherwise: the usual names of secrets.
pub const DEFAULT_REDACT: [&str; 8] = [
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "authorization",
    "cookie",
];

/// `[dead_letters]`, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetterSettings {
    /// Whether anyone may list the payloads (else the admin token is needed: they can hold
    /// customer data).
    pub public: bool,
    /// Object keys whose values are masked in what is shown, lowercase (matched ignoring case).
    pub redact: Vec<String>,
}

impl Default for DeadLetterSettings {
    fn default() -> Self {
        Self {
            public: false,
            redact: DEFAULT_REDACT.iter().map(|k| (*k).to_owned()).collect(),
        }
    }
}

/// `[dead_letters]` in the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileDeadLetters {
    public: Option<bool>,
    redact: Option<Vec<String>>,
}

/// Resolves `[dead_letters]` over the defaults.
pub(super) fn resolve(file: Option<FileDeadLetters>) -> Result<DeadLetterSettings, ConfigError> {
    let file = file.unwrap_or_default();
    let defaults = DeadLetterSettings::default();
    let redact = match file.redact {
        Some(keys) => {
            if let Some(bad) = keys.iter().find(|k| k.trim().is_empty() || k.len() > 128) {
                return Err(invalid(
                    "dead_letters.redact",
                    format!("{bad:?} is not a key name (1 to 128 characters)"),
                ));
            }
            keys.iter().map(|k| k.trim().to_lowercase()).collect()
        }
        None => defaults.redact,
    };
    Ok(DeadLetterSettings {
        public: file.public.unwrap_or(defaults.public),
        redact,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_private_and_mask_the_usual_secrets() {
        let s = resolve(None).unwrap();
        assert!(!s.public);
        assert!(s.redact.contains(&"password".to_owned()));
    }

    #[test]
    fn keys_are_matched_in_lowercase_and_an_empty_one_is_refused() {
        let file: FileDeadLetters = toml::from_str("public = true\nredact = [\"SSN\"]").unwrap();
        let s = resolve(Some(file)).unwrap();
        assert_eq!((s.public, s.redact), (true, vec!["ssn".to_owned()]));
        let file: FileDeadLetters = toml::from_str("redact = [\" \"]").unwrap();
        let err = resolve(Some(file)).unwrap_err().to_string();
        assert!(err.contains("dead_letters.redact"), "{err}");
    }
}
