//! Why a host agent refused a stream entry: typed, worded, and coded on the answer
//! ([`super::AgentResult::refused`]) so the server can tell a refusal of its own request from a
//! refusal of something it never sent.

use serde::{Deserialize, Serialize};

/// Why an entry of a host's request stream was refused; nothing was run.
///
/// The checks run in this order, and a request is refused at the first that fails: its size,
/// its fields, its shape, its signature, its host, its time, whether it was seen before, the
/// allow-list, the churn limit. So every reason from [`Refusal::WrongHost`] on concerns a request
/// whose signature is good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The entry's field is larger than [`super::MAX_ENTRY_BYTES`]; it was not parsed.
    TooLarge {
        /// Its size.
        bytes: usize,
    },
    /// The entry has no fields (it was deleted while pending).
    NoFields,
    /// The entry has other fields than `request` alone (their names, in order).
    OtherFields(Vec<String>),
    /// Not JSON of a request (garbage, a field too many such as an argv); the parser's words.
    NotARequest(String),
    /// Its id is empty or longer than 64 characters.
    BadId,
    /// It carries no signature.
    Unsigned,
    /// Its signature is not one the agent's key makes over its fields.
    BadSignature,
    /// It was signed for another host (named).
    WrongHost(String),
    /// Its time is not an RFC 3339 time.
    BadTime,
    /// It was signed longer ago than the window allows.
    Stale {
        /// How long ago, in seconds.
        age_s: u64,
    },
    /// Its time lies further ahead than clocks may disagree.
    Future {
        /// How far ahead, in seconds.
        ahead_s: u64,
    },
    /// Its id was already handled within the window (a copy of a signed request).
    Replayed,
    /// The allow-list does not name its worker.
    NotAllowListed(String),
    /// The worker was restarted as often as the agent allows in an hour.
    ChurnLimit {
        /// The limit (`--max-restarts-per-hour`).
        max: u32,
    },
}

/// [`Refusal`] without its data: the answer's `refused` code and the agent's log key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RefusalKind {
    /// Larger than the agent reads.
    TooLarge,
    /// Not exactly one field, `request`.
    NotOneField,
    /// Not a request (its shape or its id).
    NotARequest,
    /// No signature.
    Unsigned,
    /// A signature the key does not make.
    BadSignature,
    /// Signed for another host.
    WrongHost,
    /// No readable time.
    BadTime,
    /// Too old.
    Stale,
    /// Too far ahead.
    Future,
    /// Already handled.
    Replayed,
    /// Not in the allow-list.
    NotAllowListed,
    /// Over the agent's churn limit.
    ChurnLimit,
}

impl Refusal {
    /// Which kind of refusal.
    pub fn kind(&self) -> RefusalKind {
        match self {
            Self::TooLarge { .. } => RefusalKind::TooLarge,
            Self::NoFields | Self::OtherFields(_) => RefusalKind::NotOneField,
            Self::NotARequest(_) | Self::BadId => RefusalKind::NotARequest,
            Self::Unsigned => RefusalKind::Unsigned,
            Self::BadSignature => RefusalKind::BadSignature,
            Self::WrongHost(_) => RefusalKind::WrongHost,
            Self::BadTime => RefusalKind::BadTime,
            Self::Stale { .. } => RefusalKind::Stale,
            Self::Future { .. } => RefusalKind::Future,
            Self::Replayed => RefusalKind::Replayed,
            Self::NotAllowListed(_) => RefusalKind::NotAllowListed,
            Self::ChurnLimit { .. } => RefusalKind::ChurnLimit,
        }
    }

    /// One of each variant, for table tests.
    pub fn examples() -> Vec<Self> {
        vec![
            Self::TooLarge { bytes: 5000 },
            Self::NoFields,
            Self::OtherFields(vec!["request".into(), "argv".into()]),
            Self::NotARequest("expected value at line 1 column 1".into()),
            Self::BadId,
            Self::Unsigned,
            Self::BadSignature,
            Self::WrongHost("gpu-2".into()),
            Self::BadTime,
            Self::Stale { age_s: 600 },
            Self::Future { ahead_s: 900 },
            Self::Replayed,
            Self::NotAllowListed("mallory".into()),
            Self::ChurnLimit { max: 6 },
        ]
    }
}

impl RefusalKind {
    /// The wire spelling (the same as the serde form; a test checks).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TooLarge => "too_large",
            Self::NotOneField => "not_one_field",
            Self::NotARequest => "not_a_request",
            Self::Unsigned => "unsigned",
            Self::BadSignature => "bad_signature",
            Self::WrongHost => "wrong_host",
            Self::BadTime => "bad_time",
            Self::Stale => "stale",
            Self::Future => "future",
            Self::Replayed => "replayed",
            Self::NotAllowListed => "not_allow_listed",
            Self::ChurnLimit => "churn_limit",
        }
    }

    /// Whether a refusal of this kind can answer a request pulseboard sent. Refusals of entries
    /// whose signature is missing or wrong, and of copies of a signed request, answer whoever
    /// wrote them: someone who knows an in-flight request's id could otherwise have the agent
    /// "answer" it with a refusal of their own entry.
    pub fn answers_a_signed_request(self) -> bool {
        matches!(
            self,
            Self::WrongHost
                | Self::BadTime
                | Self::Stale
                | Self::Future
                | Self::NotAllowListed
                | Self::ChurnLimit
        )
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooLarge { bytes } => write!(
                f,
                "the entry is {bytes} bytes, over the {} the agent reads; not parsed",
                super::MAX_ENTRY_BYTES
            ),
            Self::NoFields => f.write_str("the entry has no fields (deleted?)"),
            Self::OtherFields(names) => write!(
                f,
                "an entry carries exactly one field, `request`; this one has {}",
                names.join(", ")
            ),
            Self::NotARequest(why) => write!(f, "not a request: {why}"),
            Self::BadId => f.write_str("a request's id must be 1 to 64 characters"),
            Self::Unsigned => f.write_str("the request is not signed"),
            Self::BadSignature => {
                f.write_str("the request's signature is not the agent key's (forged or altered)")
            }
            Self::WrongHost(host) => write!(f, "the request was signed for host {host:?}"),
            Self::BadTime => f.write_str("the request's time is not an RFC 3339 time"),
            Self::Stale { age_s } => write!(
                f,
                "the request was signed {age_s} s ago, over the {} s window",
                super::REQUEST_WINDOW_S
            ),
            Self::Future { ahead_s } => write!(
                f,
                "the request's time is {ahead_s} s ahead, over the {} s clocks may differ",
                super::CLOCK_SKEW_S
            ),
            Self::Replayed => f.write_str("the request id was already handled (a replayed copy)"),
            Self::NotAllowListed(worker) => write!(f, "{worker} is not in the allow-list"),
            Self::ChurnLimit { max } => write!(
                f,
                "the worker was restarted {max} times in the last hour, the agent's limit"
            ),
        }
    }
}

impl std::error::Error for Refusal {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_spelled_as_serde_writes_it_and_worded() {
        for r in Refusal::examples() {
            let kind = r.kind();
            let serde = serde_json::to_value(kind).unwrap();
            assert_eq!(serde.as_str(), Some(kind.as_str()));
            assert!(!r.to_string().is_empty());
        }
        assert_eq!(
            Refusal::NotAllowListed("mallory".into()).to_string(),
            "mallory is not in the allow-list"
        );
        assert!(!RefusalKind::BadSignature.answers_a_signed_request());
        assert!(!RefusalKind::Replayed.answers_a_signed_request());
        assert!(RefusalKind::ChurnLimit.answers_a_signed_request());
    }
}
