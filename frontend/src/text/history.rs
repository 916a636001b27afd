//! The throughput charts' words.

use pulseboard_shared::Lang;

/// A chart's caption: "last 60 min: 8310 done · 12 failed" for `span_s` seconds of points.
pub fn throughput_line(lang: Lang, span_s: u64, done: u64, failed: u64) -> String {
    let span = span(lang, span_s);
    match lang {
        Lang::Ko => format!("최근 {span}: 완료 {done} · 실패 {failed}"),
        Lang::En => format!("last {span}: {done} done · {failed} failed"),
    }
}

/// A sparkline's caption: "last 60 min: 120 done · queue 3" (the queue as it is now).
pub fn spark_line(lang: Lang, span_s: u64, done: u64, queue: u64) -> String {
    let span = span(lang, span_s);
    match lang {
        Lang::Ko => format!("최근 {span}: 완료 {done} · 대기열 {queue}"),
        Lang::En => format!("last {span}: {done} done · queue {queue}"),
    }
}

/// A span in the largest unit that words it whole: minutes up to two hours, hours up to two
/// days, then days.
fn span(lang: Lang, s: u64) -> String {
    let (n, ko, en) = match s {
        s if s <= 7200 => (s.div_ceil(60).max(1), "분", " min"),
        s if s <= 172_800 => (s.div_ceil(3600), "시간", " h"),
        s => (s.div_ceil(86_400), "일", " d"),
    };
    match lang {
        Lang::Ko => format!("{n}{ko}"),
        Lang::En => format!("{n}{en}"),
    }
}

/// A span of history a chart shows, as its buttons name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// The last hour, a point a minute.
    Hour,
    /// The last day, a point an hour.
    Day,
    /// The last 30 days, a point an hour.
    Month,
}

impl Range {
    /// The button's label.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Self::Hour, Lang::Ko) => "1시간",
            (Self::Hour, Lang::En) => "1 h",
            (Self::Day, Lang::Ko) => "24시간",
            (Self::Day, Lang::En) => "24 h",
            (Self::Month, Lang::Ko) => "30일",
            (Self::Month, Lang::En) => "30 d",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caption_words_its_span_in_both_languages() {
        assert_eq!(
            throughput_line(Lang::En, 3600, 8310, 12),
            "last 60 min: 8310 done · 12 failed"
        );
        assert_eq!(
            throughput_line(Lang::Ko, 3600, 8310, 12),
            "최근 60분: 완료 8310 · 실패 12"
        );
        assert_eq!(
            throughput_line(Lang::En, 5, 1, 0),
            "last 1 min: 1 done · 0 failed"
        );
        assert_eq!(
            throughput_line(Lang::En, 86_400, 1, 0),
            "last 24 h: 1 done · 0 failed"
        );
        assert_eq!(
            throughput_line(Lang::Ko, 720 * 3600, 1, 0),
            "최근 30일: 완료 1 · 실패 0"
        );
        assert_eq!(
            spark_line(Lang::En, 3600, 120, 3),
            "last 60 min: 120 done · queue 3"
        );
        assert_eq!(
            spark_line(Lang::Ko, 3600, 120, 3),
            "최근 60분: 완료 120 · 대기열 3"
        );
    }
}
