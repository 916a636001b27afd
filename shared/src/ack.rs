//! Acknowledgements: "I am on it". An alert that wants a person (a worker down, failed to
//! start, unhealthy or stalled, a host down) is re-sent while it stays true and nobody has
//! acknowledged it; an acknowledgement, from a Telegram button or the admin API, stops that and
//! says who. Pure data; the server stores them and the alerts' judge reads them.

use serde::{Deserialize, Serialize};

/// The most acknowledgements kept at once (the oldest go first; the judge has seen them).
pub const MAX_ACKS: usize = 200;
/// How long an acknowledgement is kept, in seconds.
pub const KEEP_ACKS_S: u64 = 7 * 86_400;
/// The longest name of who acknowledged, in characters.
pub const MAX_BY_CHARS: usize = 64;
/// The longest alert id an acknowledgement names, in bytes.
pub const MAX_ID_BYTES: usize = 48;

/// Where an acknowledgement came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AckVia {
    /// A button under the Telegram message.
    Telegram,
    /// `POST /api/agent-office/alerts/{id}/ack`.
    Api,
}

/// One acknowledgement, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ack {
    /// The alert (or host incident) acknowledged.
    pub id: String,
    /// Who: a Telegram user (`@name (id)`) or the admin token's name.
    pub by: String,
    /// How.
    pub via: AckVia,
    /// When, unix seconds.
    pub at: u64,
    /// Whether the press also silenced it for an hour.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub silenced: bool,
}

/// `text` fit to be shown as a name: control characters dropped, at most [`MAX_BY_CHARS`].
pub fn clean_name(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(MAX_BY_CHARS)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Whether `id` can name an alert: short, and only the characters alert ids use.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_BYTES
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned_and_ids_checked() {
        assert_eq!(clean_name(" @bob\n\u{7}(42) "), "@bob(42)");
        assert_eq!(clean_name(&"x".repeat(100)).len(), MAX_BY_CHARS);
        assert!(valid_id("1764780000000-0a1b2c3d") && valid_id("i-1764780000000-0"));
        assert!(!valid_id("") && !valid_id("a b") && !valid_id(&"1".repeat(49)));
    }
}
