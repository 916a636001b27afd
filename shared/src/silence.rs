//! Silences: "I am swapping the disk on gpu-01 for an hour". A silence matches a worker, a host
//! or a kind until a time; alerts about what it matches are recorded but not sent, and one still
//! true when the silence ends is sent then. Pure; the server stores them and applies them.

use serde::{Deserialize, Serialize};

/// The most silences at once (the store refuses more).
pub const MAX_SILENCES: usize = 100;
/// The longest reason kept, in characters.
pub const MAX_REASON_CHARS: usize = 200;
/// The longest silence, in seconds (30 days).
pub const MAX_FOR_S: u64 = 30 * 86_400;

/// What a silence covers: one worker, every worker of a host, or every worker of a kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SilenceMatch {
    /// A worker by name.
    Worker(String),
    /// Every worker of a host.
    Host(String),
    /// Every worker of a kind (`render`).
    Kind(String),
}

impl SilenceMatch {
    /// Whether it covers a worker named `name`, of `kind`, on `host`.
    pub fn covers(&self, name: &str, kind: &str, host: Option<&str>) -> bool {
        match self {
            Self::Worker(w) => w == name,
            Self::Host(h) => host == Some(h.as_str()),
            Self::Kind(k) => k == kind,
        }
    }

    /// The name it matches, whatever its kind.
    pub fn value(&self) -> &str {
        match self {
            Self::Worker(v) | Self::Host(v) | Self::Kind(v) => v,
        }
    }
}

/// A silence as stored and served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Silence {
    /// Its id (`s-` and 16 hex digits).
    pub id: String,
    /// What it covers.
    #[serde(rename = "match")]
    pub matches: SilenceMatch,
    /// When it ends, unix seconds.
    pub until: u64,
    /// Why, in the operator's words.
    pub reason: String,
    /// Planned work: also holds the recovery guard and the orphan rescue for what it covers.
    #[serde(default)]
    pub maintenance: bool,
    /// Who set it (the admin token's name).
    pub by: String,
    /// When it was set, unix seconds.
    pub created: u64,
}

impl Silence {
    /// Whether it is in force at `now`.
    pub fn active(&self, now: u64) -> bool {
        now < self.until
    }
}

/// Contract 2's `workers[].silence`: the silence in force over the worker, as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SilenceMark {
    /// The silence's id.
    pub id: String,
    /// When it ends, unix seconds.
    pub until: u64,
    /// Why.
    pub reason: String,
    /// Planned work (the guard and the rescue hold too).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub maintenance: bool,
    /// Who set it.
    pub by: String,
}

impl From<&Silence> for SilenceMark {
    fn from(s: &Silence) -> Self {
        Self {
            id: s.id.clone(),
            until: s.until,
            reason: s.reason.clone(),
            maintenance: s.maintenance,
            by: s.by.clone(),
        }
    }
}

/// The silences in force at `now` that cover a worker named `name`, of `kind`, on `host`: the
/// first one, if any.
pub fn covering<'a>(
    silences: &'a [Silence],
    now: u64,
    (name, kind, host): (&str, &str, Option<&str>),
) -> Option<&'a Silence> {
    silences
        .iter()
        .find(|s| s.active(now) && s.matches.covers(name, kind, host))
}

/// Why a new silence is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SilenceError {
    /// The name it matches is empty or over 100 bytes.
    #[error("match: the name must be 1 to 100 characters")]
    BadName,
    /// `for_s` is 0 or over [`MAX_FOR_S`].
    #[error("for_s: must be 1 to {MAX_FOR_S} seconds")]
    BadDuration,
    /// The reason is empty or too long.
    #[error("reason: say why, in 1 to {MAX_REASON_CHARS} characters")]
    BadReason,
}

/// A silence as asked for (`POST /api/agent-office/silences`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewSilence {
    /// What it covers: `{"worker": "..."}`, `{"host": "..."}` or `{"kind": "..."}`.
    #[serde(rename = "match")]
    pub matches: SilenceMatch,
    /// How long, in seconds.
    pub for_s: u64,
    /// Why.
    pub reason: String,
    /// Planned work: hold the recovery guard and the orphan rescue too.
    #[serde(default)]
    pub maintenance: bool,
}

impl NewSilence {
    /// The silence it asks for, set by `by` at `now` with `id`, if it is valid.
    pub fn into_silence(self, id: String, by: &str, now: u64) -> Result<Silence, SilenceError> {
        let name = self.matches.value();
        if name.is_empty() || name.len() > 100 {
            return Err(SilenceError::BadName);
        }
        if self.for_s == 0 || self.for_s > MAX_FOR_S {
            return Err(SilenceError::BadDuration);
        }
        let reason = self.reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
            return Err(SilenceError::BadReason);
        }
        Ok(Silence {
            id,
            matches: self.matches,
            until: now.saturating_add(self.for_s),
            reason: reason.to_owned(),
            maintenance: self.maintenance,
            by: by.to_owned(),
            created: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(matches: SilenceMatch, for_s: u64, reason: &str) -> NewSilence {
        NewSilence {
            matches,
            for_s,
            reason: reason.into(),
            maintenance: false,
        }
    }

    #[test]
    fn a_silence_covers_its_worker_host_or_kind_until_it_ends() {
        let by_host = new(SilenceMatch::Host("gpu-01".into()), 60, " disk swap ")
            .into_silence("s-1".into(), "ops", 1000)
            .unwrap();
        assert_eq!(
            (by_host.until, by_host.reason.as_str()),
            (1060, "disk swap")
        );
        let by_kind = new(SilenceMatch::Kind("trader".into()), 10, "market closed")
            .into_silence("s-2".into(), "ops", 1000)
            .unwrap();
        let all = [by_host, by_kind];
        let on_gpu = ("r1", "render", Some("gpu-01"));
        assert_eq!(
            covering(&all, 1059, on_gpu).map(|s| s.id.as_str()),
            Some("s-1")
        );
        assert_eq!(covering(&all, 1060, on_gpu), None, "ended");
        assert_eq!(covering(&all, 1000, ("r1", "render", Some("gpu-02"))), None);
        assert_eq!(covering(&all, 1000, ("r1", "render", None)), None);
        assert!(covering(&all, 1005, ("bot", "trader", None)).is_some());
        assert!(SilenceMatch::Worker("a".into()).covers("a", "render", None));
    }

    #[test]
    fn a_bad_silence_says_which_field() {
        let bad = |n: NewSilence| n.into_silence("s".into(), "ops", 0).unwrap_err();
        assert_eq!(
            bad(new(SilenceMatch::Worker(String::new()), 60, "x")),
            SilenceError::BadName
        );
        assert_eq!(
            bad(new(SilenceMatch::Worker("a".into()), 0, "x")),
            SilenceError::BadDuration
        );
        assert_eq!(
            bad(new(SilenceMatch::Worker("a".into()), MAX_FOR_S + 1, "x")),
            SilenceError::BadDuration
        );
        assert_eq!(
            bad(new(SilenceMatch::Worker("a".into()), 60, "  ")),
            SilenceError::BadReason
        );
        let json = r#"{"match": {"host": "gpu-01"}, "for_s": 3600, "reason": "disk"}"#;
        let parsed: NewSilence = serde_json::from_str(json).unwrap();
        assert_eq!(parsed.matches, SilenceMatch::Host("gpu-01".into()));
        assert!(serde_json::from_str::<NewSilence>(
            r#"{"match": {"planet": "x"}, "for_s": 1, "reason": "r"}"#
        )
        .is_err());
    }
}
