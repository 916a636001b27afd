//! The throughput strip's words.

use pulseboard_shared::Lang;

/// The strip's caption: "last 60 min: 8310 done · 12 failed".
pub fn throughput_line(lang: Lang, minutes: u64, done: u64, failed: u64) -> String {
    match lang {
        Lang::Ko => format!("최근 {minutes}분: 완료 {done} · 실패 {failed}"),
        Lang::En => format!("last {minutes} min: {done} done · {failed} failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caption_in_both_languages() {
        assert_eq!(
            throughput_line(Lang::En, 60, 8310, 12),
            "last 60 min: 8310 done · 12 failed"
        );
        assert_eq!(
            throughput_line(Lang::Ko, 60, 8310, 12),
            "최근 60분: 완료 8310 · 실패 12"
        );
    }
}
