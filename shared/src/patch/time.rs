//! Contract 2's times as seconds, for moving ages on between two snapshots.

/// Whole seconds from `from` to `to` (contract 2 times, `YYYY-MM-DDTHH:MM:SSZ`); 0 when either
/// cannot be read or `to` is earlier.
pub fn elapsed_s(from: &str, to: &str) -> u64 {
    match (unix_s(from), unix_s(to)) {
        (Some(a), Some(b)) if b > a => (b - a) as u64,
        _ => 0,
    }
}

/// Seconds since 1970 of a contract 2 time (`2026-06-29T00:00:03Z`).
fn unix_s(time: &str) -> Option<i64> {
    let b = time.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[19] != b'Z' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| time.get(range)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_times_read_as_unix_seconds() {
        assert_eq!(unix_s("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(unix_s("2026-06-29T00:00:03Z"), Some(1_782_691_203));
        assert_eq!(unix_s("2024-02-29T23:59:59Z"), Some(1_709_251_199));
        assert_eq!(unix_s("2000-03-01T00:00:00Z"), Some(951_868_800));
        assert_eq!(unix_s("2026-06-29T00:00:03.5Z"), None);
        assert_eq!(unix_s("yesterday"), None);
        assert_eq!(
            elapsed_s("2026-06-29T00:00:03Z", "2026-06-29T00:01:00Z"),
            57
        );
        assert_eq!(elapsed_s("2026-06-29T00:01:00Z", "2026-06-29T00:00:03Z"), 0);
    }
}
