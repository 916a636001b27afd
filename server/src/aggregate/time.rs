//! Contract 2's times: how they are written, read and turned into ages.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};

/// Contract 2's time format: UTC, seconds, `Z`.
pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Now, in unix seconds (the guard's, the rescue's and the silences' clock).
pub fn unix_now() -> u64 {
    Utc::now().timestamp().max(0) as u64
}

pub(super) fn age_s(beat: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    // A beat from a clock running ahead reads as "just now", not as a negative age.
    (now - beat).num_seconds().max(0) as u64
}

/// A heartbeat `ts`: RFC 3339 (`...Z` or with an offset), or a naive ISO time taken as UTC.
pub fn parse_ts(ts: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(ts)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(ts, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert!(parse_ts("2026-06-29T00:00:00Z").is_some());
        assert!(parse_ts("2026-06-29T09:00:00+09:00").is_some());
        assert_eq!(
            parse_ts("2026-06-29T00:00:00.5"),
            parse_ts("2026-06-29T00:00:00.5Z")
        );
        assert!(parse_ts("yesterday").is_none());
    }
}
