//! The key the server and the host agents share (`PULSEBOARD_AGENT_KEY`, or a key file): hex,
//! at least 16 bytes of it (`openssl rand -hex 32` makes a good one). During a rotation it holds
//! two keys, `new,old` (or one per line): the first signs, either verifies.
//!
//! A key is never shown: `Debug` says how many keys there are and a short fingerprint (a hash
//! of the signing key, enough to tell two configurations apart, useless to find the key).

use sha2::{Digest, Sha256};

/// The fewest bytes a key may have (32 hex characters).
pub const MIN_KEY_BYTES: usize = 16;

/// The most bytes a key may have.
pub const MAX_KEY_BYTES: usize = 128;

/// How many keys may be given at once: the new one and the old one, during a rotation.
pub const MAX_KEYS: usize = 2;

/// How a good key is made (said by every error about one).
pub const HOW_TO_MAKE_ONE: &str = "make one with `openssl rand -hex 32`";

/// Why a key cannot be used; never carries any of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentKeyError {
    /// Nothing given.
    Empty,
    /// Key `n` (from 1) is not hexadecimal (an even number of 0-9, a-f).
    NotHex(usize),
    /// Key `n` is shorter than [`MIN_KEY_BYTES`].
    TooShort(usize),
    /// Key `n` is longer than [`MAX_KEY_BYTES`].
    TooLong(usize),
    /// Key `n` repeats too few distinct bytes to be random.
    LowEntropy(usize),
    /// More than [`MAX_KEYS`] keys.
    TooMany(usize),
    /// The same key given twice.
    Twice,
}

impl std::fmt::Display for AgentKeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Empty => write!(f, "no key given; {HOW_TO_MAKE_ONE}"),
            Self::NotHex(n) => write!(f, "key {n} is not hexadecimal; {HOW_TO_MAKE_ONE}"),
            Self::TooShort(n) => write!(
                f,
                "key {n} is shorter than {MIN_KEY_BYTES} bytes ({} hex characters); {HOW_TO_MAKE_ONE}",
                MIN_KEY_BYTES * 2
            ),
            Self::TooLong(n) => write!(f, "key {n} is longer than {MAX_KEY_BYTES} bytes"),
            Self::LowEntropy(n) => write!(
                f,
                "key {n} has too few distinct bytes to be random; {HOW_TO_MAKE_ONE}"
            ),
            Self::TooMany(count) => write!(
                f,
                "{count} keys given; at most {MAX_KEYS} (new,old during a rotation)"
            ),
            Self::Twice => f.write_str("the same key is given twice"),
        }
    }
}

impl std::error::Error for AgentKeyError {}

/// The shared keys: the first signs, every one verifies.
#[derive(Clone, PartialEq, Eq)]
pub struct AgentKeys(Vec<Vec<u8>>);

impl std::fmt::Debug for AgentKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "AgentKeys({} key(s), signing {}, redacted)",
            self.0.len(),
            self.fingerprint()
        )
    }
}

impl AgentKeys {
    /// Reads one or two hex keys separated by commas, spaces or lines (a key file's text or the
    /// environment's value); says which one is wrong, never what it holds.
    pub fn parse(text: &str) -> Result<Self, AgentKeyError> {
        let parts: Vec<&str> = text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|p| !p.is_empty())
            .collect();
        if parts.len() > MAX_KEYS {
            return Err(AgentKeyError::TooMany(parts.len()));
        }
        let mut keys: Vec<Vec<u8>> = Vec::new();
        for (i, part) in parts.into_iter().enumerate() {
            let n = i + 1;
            let key = decode_hex(part).ok_or(AgentKeyError::NotHex(n))?;
            if key.len() < MIN_KEY_BYTES {
                return Err(AgentKeyError::TooShort(n));
            }
            if key.len() > MAX_KEY_BYTES {
                return Err(AgentKeyError::TooLong(n));
            }
            if low_entropy(&key) {
                return Err(AgentKeyError::LowEntropy(n));
            }
            if keys.contains(&key) {
                return Err(AgentKeyError::Twice);
            }
            keys.push(key);
        }
        if keys.is_empty() {
            return Err(AgentKeyError::Empty);
        }
        Ok(Self(keys))
    }

    /// The key that signs.
    pub fn signing(&self) -> &[u8] {
        &self.0[0]
    }

    /// Every key that verifies, the signing one first.
    pub fn all(&self) -> impl Iterator<Item = &[u8]> {
        self.0.iter().map(Vec::as_slice)
    }

    /// How many keys (2 during a rotation).
    pub fn count(&self) -> usize {
        self.0.len()
    }

    /// Eight hex characters of a hash of the signing key: the same on every side that holds
    /// the same key, for logs; says nothing usable about the key.
    pub fn fingerprint(&self) -> String {
        let mut hash = Sha256::new();
        hash.update(b"pulseboard agent key fingerprint\0");
        hash.update(self.signing());
        hash.finalize()[..4]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// The bytes of even-length hex text, either case.
pub(super) fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// Too few distinct bytes for random ones: 16 random bytes have 15 or 16 distinct values
/// (fewer than 10 happens about once in 10^10), a key typed by hand (`00…`, `abab…`,
/// `0123456789abcdef` twice) far fewer.
fn low_entropy(key: &[u8]) -> bool {
    let mut seen = [false; 256];
    for b in key {
        seen[*b as usize] = true;
    }
    let distinct = seen.iter().filter(|s| **s).count();
    distinct < (key.len() * 5 / 8).min(16)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 32 bytes, as `openssl rand -hex 32` prints them.
    pub const KEY: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    const OLD: &str = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";

    #[test]
    fn good_keys_parse_and_never_show() {
        let one = AgentKeys::parse(KEY).unwrap();
        assert_eq!(one.count(), 1);
        assert_eq!(one.signing().len(), 32);
        let shown = format!("{one:?}");
        assert!(
            !shown.contains("9f86") && shown.contains("redacted"),
            "{shown}"
        );
        assert_eq!(one.fingerprint().len(), 8);
        let rotation = AgentKeys::parse(&format!("{KEY},{OLD}")).unwrap();
        assert_eq!(rotation.count(), 2);
        assert_eq!(rotation.signing(), one.signing(), "the first signs");
        let lines = AgentKeys::parse(&format!("{}\n{OLD}\n", KEY.to_uppercase())).unwrap();
        assert_eq!(lines, rotation, "one per line, either case");
        assert_eq!(one.fingerprint(), rotation.fingerprint());
        assert_ne!(
            one.fingerprint(),
            AgentKeys::parse(OLD).unwrap().fingerprint()
        );
    }

    #[test]
    fn weak_or_wrong_keys_are_refused_and_say_how_to_make_one() {
        for (bad, want) in [
            ("", AgentKeyError::Empty),
            (" , \n", AgentKeyError::Empty),
            ("secret-password-secret-password!", AgentKeyError::NotHex(1)),
            (&KEY[..31], AgentKeyError::NotHex(1)),
            (&KEY[..30], AgentKeyError::TooShort(1)),
            (&"0".repeat(64), AgentKeyError::LowEntropy(1)),
            (&"ab".repeat(32), AgentKeyError::LowEntropy(1)),
            (
                "0123456789abcdef0123456789abcdef",
                AgentKeyError::LowEntropy(1),
            ),
            (&format!("{KEY},{KEY}"), AgentKeyError::Twice),
            (&format!("{KEY},{OLD},{KEY}"), AgentKeyError::TooMany(3)),
            (&format!("{KEY},xyz"), AgentKeyError::NotHex(2)),
            (&"a1".repeat(200), AgentKeyError::TooLong(1)),
        ] {
            let error = AgentKeys::parse(bad).unwrap_err();
            assert_eq!(error, want, "{bad:?}");
            assert!(!error.to_string().contains(&KEY[..8]), "{error}");
        }
        assert!(AgentKeyError::TooShort(1)
            .to_string()
            .contains("openssl rand -hex 32"));
        // Random 16-byte keys pass (the threshold is far below what chance gives).
        assert!(AgentKeys::parse("5e884898da28047151d0e56f8dc62927").is_ok());
    }
}
