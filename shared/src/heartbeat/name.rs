//! The one rule for a worker's name, wherever a name comes from: the configuration, a heartbeat
//! key found by discovery, a worker's own SDK. A name ends up in Redis keys, log lines and on the
//! page, so it is short, printable and free of what would make a key pattern ambiguous.

/// Longest worker name, in bytes: long enough for any real name (`host-service-instance`),
/// short enough that a junk key costs nothing to skip.
pub const MAX_NAME_BYTES: usize = 100;

/// Why a name is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BadName {
    /// The name is empty.
    #[error("is empty")]
    Empty,
    /// The name is longer than [`MAX_NAME_BYTES`].
    #[error("is longer than {MAX_NAME_BYTES} bytes")]
    TooLong,
    /// The name holds whitespace, a control character or a glob character (`* ? [ ]`).
    #[error("holds whitespace, a control character or one of * ? [ ]")]
    BadCharacter,
}

/// Checks `name` against the rule: 1 to [`MAX_NAME_BYTES`] bytes, no whitespace, no control
/// character, none of the glob characters `* ? [ ]` (a name inside `SCAN MATCH` must match itself).
pub fn check_name(name: &str) -> Result<(), BadName> {
    if name.is_empty() {
        return Err(BadName::Empty);
    }
    // Length first: a 50 MB name is refused without looking at its characters.
    if name.len() > MAX_NAME_BYTES {
        return Err(BadName::TooLong);
    }
    if name
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || "*?[]".contains(c))
    {
        return Err(BadName::BadCharacter);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_names_pass_and_junk_is_refused() {
        for ok in ["music-render", "ai_trade", "gpu:1/render", "이미지", "a"] {
            assert_eq!(check_name(ok), Ok(()), "{ok}");
        }
        assert_eq!(check_name(&"x".repeat(MAX_NAME_BYTES)), Ok(()));
        assert_eq!(
            check_name(&"x".repeat(MAX_NAME_BYTES + 1)),
            Err(BadName::TooLong)
        );
        // Multi-byte characters count in bytes, as Redis stores them.
        assert_eq!(check_name(&"가".repeat(34)), Err(BadName::TooLong));
        assert_eq!(check_name(""), Err(BadName::Empty));
        for bad in [
            "a b", "a\tb", "a\nb", "a\u{7}", "a*", "a?", "[a]", "a\u{a0}b",
        ] {
            assert_eq!(check_name(bad), Err(BadName::BadCharacter), "{bad:?}");
        }
    }
}
