//! Who may act: `PULSEBOARD_ADMIN_TOKENS` (or `--admin-tokens`), comma-separated `name:token`
//! pairs such as `ops:…,ci:…`. Without any, every action answers 403. A token is never logged,
//! echoed or shown by `Debug`; it is compared in constant time (no length shows either), and a
//! guessable one (`aaaaaaaaaaaaaaaa`, under [`MIN_TOKEN_BITS`] as its characters show) is refused.

use std::fmt;

/// The shortest token accepted: a guessable token is no lock.
pub const MIN_TOKEN_LEN: usize = 16;

/// The least a token's estimated entropy may be, in bits: `openssl rand -hex 8` has 64 in
/// truth, and a thief's guesses at a thousand a second would take half a billion years.
pub const MIN_TOKEN_BITS: f64 = 64.0;

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
    /// A token of enough characters that is still guessable (`aaaaaaaaaaaaaaaa`), by its name.
    #[error(
        "the token of {0:?} looks guessable (about {1} bits, at least {MIN_TOKEN_BITS} needed): \
         make one with `openssl rand -hex 24`"
    )]
    Weak(String, u32),
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
            let bits = estimated_bits(token);
            if bits < MIN_TOKEN_BITS {
                return Err(AdminTokensError::Weak(name.to_owned(), bits as u32));
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

/// Whether `presented` is `secret`, in a time that depends on `presented`'s length alone: every
/// presented byte is compared (against the secret, cycled), so neither a prefix that matches nor
/// the secret's length shows in how long the answer takes. Also checks the Telegram webhook's
/// secret token.
pub fn constant_time_eq(secret: &[u8], presented: &[u8]) -> bool {
    if secret.is_empty() {
        return false; // never configured: tokens have at least MIN_TOKEN_LEN characters
    }
    let mut diff = u8::from(secret.len() != presented.len());
    for (i, p) in presented.iter().enumerate() {
        diff |= secret[i % secret.len()] ^ p;
    }
    diff == 0 && !presented.is_empty()
}

/// A token's entropy as its own characters show it: its length times the Shannon entropy of its
/// character frequencies. A random token scores about what it holds (16 hex digits: about 53 to
/// 64); a repeated or patterned one scores low (`aaaaaaaaaaaaaaaa`: 0, `abababababababab`: 16).
pub fn estimated_bits(token: &str) -> f64 {
    let mut counts = std::collections::HashMap::<char, u32>::new();
    let mut len = 0u32;
    for c in token.chars() {
        *counts.entry(c).or_default() += 1;
        len += 1;
    }
    let n = f64::from(len.max(1));
    let per_char: f64 = counts
        .values()
        .map(|&k| {
            let p = f64::from(k) / n;
            -p * p.log2()
        })
        .sum();
    per_char * f64::from(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_tokens_score_what_they_hold_and_patterns_score_low() {
        // `openssl rand -hex 24`, as the README says.
        let hex48 = "3f9a0c7be15d4826af0b93c7de5812ab4c6f0e9d27b3a158";
        assert!(estimated_bits(hex48) > 150.0, "{}", estimated_bits(hex48));
        assert_eq!(estimated_bits("aaaaaaaaaaaaaaaa"), 0.0);
        assert_eq!(estimated_bits("abababababababab"), 16.0);
        assert_eq!(estimated_bits("0123456789abcdef"), 64.0);
        assert_eq!(estimated_bits(""), 0.0);
    }

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
        // Another length, a prefix, a longer one: no match, in a time set by what was presented.
        assert_eq!(t.name_of("0123456789abcdef0123456789abcdef"), None);
        assert_eq!(t.name_of("0123456789abcde"), None);
        for (bad, says) in [
            ("ops", "not name:token"),
            ("ops:short", "shorter than 16"),
            (":0123456789abcdef", "the name must be"),
            ("a:0123456789abcdef,a:0123456789abcdeg", "named twice"),
            ("ops:aaaaaaaaaaaaaaaa", "looks guessable (about 0 bits"),
            ("ops:abababababababababab", "looks guessable (about 20 bits"),
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
