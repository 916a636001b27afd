//! Who may act: `PULSEBOARD_ADMIN_TOKENS` (or `--admin-tokens`), comma-separated `name:token`
//! pairs such as `ops:…,ci:…`. Without any, every action answers 403. A token is never logged,
//! echoed or shown by `Debug`; it is compared in constant time.

use std::fmt;

/// The shortest token accepted: a guessable token is no lock.
pub const MIN_TOKEN_LEN: usize = 16;

/// Why `PULSEBOARD_ADMIN_TOKENS` cannot be used; never carries a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminTokensError {
    /// A pair without a `:` (numbered from 1).
    #[error("pair {0} is not name:token")]
    NotAPair(usize),
    /// A name that is empty, too long or has other characters (numbered from 1).
    #[error("pair {0}: the name must be 1 to 32 letters, digits, '-', '_' or '.'")]
    BadName(usize),
    /// A token shorter than [`MIN_TOKEN_LEN`], by its name.
    #[error("the token of {0:?} is shorter than {MIN_TOKEN_LEN} characters")]
    TooShort(String),
    /// A name given twice.
    #[error("{0:?} is named twice")]
    Twice(String),
}

/// The admin tokens, by name.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AdminTokens(Vec<(String, String)>);

impl fmt::Debug for AdminTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|(name, _)| name.as_str()).collect();
        write!(f, "AdminTokens({names:?}, tokens redacted)")
    }
}

impl AdminTokens {
    /// Parses `name:token,name:token`; says which pair is wrong (by position and name, never the
    /// token) when one is.
    pub fn parse(text: &str) -> Result<Self, AdminTokensError> {
        let mut tokens = Vec::new();
        for (i, pair) in text.split(',').map(str::trim).enumerate() {
            if pair.is_empty() {
                continue;
            }
            let Some((name, token)) = pair.split_once(':') else {
                return Err(AdminTokensError::NotAPair(i + 1));
            };
            let name = name.trim();
            let name_ok = !name.is_empty()
                && name.len() <= 32
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
            if !name_ok {
                return Err(AdminTokensError::BadName(i + 1));
            }
            if token.len() < MIN_TOKEN_LEN {
                return Err(AdminTokensError::TooShort(name.to_owned()));
            }
            if tokens.iter().any(|(n, _)| n == name) {
                return Err(AdminTokensError::Twice(name.to_owned()));
            }
            tokens.push((name.to_owned(), token.to_owned()));
        }
        Ok(Self(tokens))
    }

    /// Whether any token is configured (else actions are off).
    pub fn enabled(&self) -> bool {
        !self.0.is_empty()
    }

    /// The name of the token `presented`, if it is one; every token is compared, in constant
    /// time, whatever matches.
    pub fn name_of(&self, presented: &str) -> Option<&str> {
        let mut found = None;
        for (name, token) in &self.0 {
            if constant_time_eq(token.as_bytes(), presented.as_bytes()) {
                found = Some(name.as_str());
            }
        }
        found
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_parse_match_by_name_and_never_show() {
        let t = AdminTokens::parse("ops:0123456789abcdef, ci:fedcba9876543210").unwrap();
        assert!(t.enabled());
        assert_eq!(t.name_of("0123456789abcdef"), Some("ops"));
        assert_eq!(t.name_of("fedcba9876543210"), Some("ci"));
        assert_eq!(t.name_of("0123456789abcdeX"), None);
        assert_eq!(t.name_of(""), None);
        let shown = format!("{t:?}");
        assert!(!shown.contains("0123") && shown.contains("ops"), "{shown}");
        assert!(!AdminTokens::parse("").unwrap().enabled());
        for (bad, says) in [
            ("ops", "not name:token"),
            ("ops:short", "shorter than 16"),
            (":0123456789abcdef", "the name must be"),
            ("a:0123456789abcdef,a:0123456789abcdeg", "named twice"),
        ] {
            let error = AdminTokens::parse(bad).unwrap_err().to_string();
            assert!(error.contains(says), "{bad}: {error}");
            assert!(
                !error.contains("0123456789"),
                "the token is never echoed: {error}"
            );
        }
    }
}
