//! The dead-letter section's words: its labels, the confirmation and what the server answered;
//! and the event log's records of dead letters and rescued orphans.

use pulseboard_shared::dead_letters::{DeadLetterAction, DeadLetterOutcome};
use pulseboard_shared::Lang;

use super::recovery::{colon, pick};

/// A fixed phrase of the dead-letter section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)] // the names are the phrases
pub enum DlText {
    Title,
    Loading,
    NeedToken,
    Private,
    Empty,
    ReplaySelected,
    DeleteSelected,
    ReplayAll,
    DeleteAll,
    Confirm,
    NotJson,
    TokenRefused,
}

/// The phrase in `lang`.
pub fn dl(lang: Lang, text: DlText) -> &'static str {
    use DlText as D;
    match text {
        D::Title => pick(lang, "실패한 작업 (dead letter)", "Dead letters"),
        D::Loading => pick(lang, "불러오는 중…", "loading…"),
        D::NeedToken => pick(
            lang,
            "작업 내용에는 고객 데이터가 있을 수 있어 관리자 토큰이 필요합니다",
            "payloads can hold customer data: the admin token is needed",
        ),
        D::Private => pick(
            lang,
            "이 서버는 실패한 작업을 보여주지 않습니다 (관리자 토큰 없음, [dead_letters] public = false)",
            "this server does not show dead letters (no admin tokens, [dead_letters] public = false)",
        ),
        D::Empty => pick(lang, "실패한 작업이 없습니다", "no dead letters"),
        D::ReplaySelected => pick(lang, "선택 재처리", "replay selected"),
        D::DeleteSelected => pick(lang, "선택 삭제", "delete selected"),
        D::ReplayAll => pick(lang, "모두 재처리", "replay all"),
        D::DeleteAll => pick(lang, "모두 삭제", "delete all"),
        D::Confirm => pick(lang, "확인", "confirm"),
        D::NotJson => pick(lang, "(JSON이 아니거나 너무 큼)", "(not JSON, or too large)"),
        D::TokenRefused => pick(
            lang,
            "✗ 토큰이 거부되었습니다: 다시 입력하세요",
            "✗ token refused: enter it again",
        ),
    }
}

/// "showing 50 of 312".
pub fn dl_shown(lang: Lang, shown: usize, total: u64) -> String {
    match lang {
        Lang::Ko => format!("전체 {total}개 중 {shown}개"),
        Lang::En => format!("showing {shown} of {total}"),
    }
}

/// The question before `action` on `count` jobs (`None`: all of them) of `worker`.
pub fn dl_question(
    lang: Lang,
    action: DeadLetterAction,
    count: Option<usize>,
    worker: &str,
) -> String {
    let ko = count.map_or_else(|| "모든 작업".to_owned(), |n| format!("작업 {n}개"));
    let en = match count {
        Some(1) => "1 dead letter".to_owned(),
        Some(n) => format!("{n} dead letters"),
        None => "all dead letters".to_owned(),
    };
    match (lang, action) {
        (Lang::Ko, DeadLetterAction::Replay) => {
            format!("{worker}의 실패한 {ko}을 큐에 다시 넣을까요?")
        }
        (Lang::Ko, DeadLetterAction::Delete) => {
            format!("{worker}의 실패한 {ko}을 영구 삭제할까요?")
        }
        (Lang::En, DeadLetterAction::Replay) => {
            format!("Put {en} of {worker} back on its queue?")
        }
        (Lang::En, DeadLetterAction::Delete) => format!("Delete {en} of {worker} for good?"),
    }
}

/// What the server did.
pub fn dl_done(lang: Lang, o: &DeadLetterOutcome) -> String {
    let missing = o.missing.len();
    let done = match (lang, o.action) {
        (Lang::Ko, DeadLetterAction::Replay) => {
            format!("✓ {}개를 큐에 다시 넣었습니다 ({})", o.count, o.by)
        }
        (Lang::Ko, DeadLetterAction::Delete) => {
            format!("✓ {}개를 삭제했습니다 ({})", o.count, o.by)
        }
        (Lang::En, DeadLetterAction::Replay) => {
            format!("✓ {} put back on the queue by {}", o.count, o.by)
        }
        (Lang::En, DeadLetterAction::Delete) => format!("✓ {} deleted by {}", o.count, o.by),
    };
    let gone = match (lang, missing) {
        (_, 0) => String::new(),
        (Lang::Ko, n) => format!("; {n}개는 이미 처리되어 없었습니다"),
        (Lang::En, 1) => "; 1 was already gone".to_owned(),
        (Lang::En, n) => format!("; {n} were already gone"),
    };
    done + &gone
}

/// The event log's record of a replay or delete.
pub fn dl_logged(
    lang: Lang,
    worker: &str,
    action: DeadLetterAction,
    count: u64,
    by: &str,
) -> String {
    let plural = if count == 1 { "" } else { "s" };
    match (lang, action) {
        (Lang::Ko, DeadLetterAction::Replay) => {
            format!("☠ {worker}: 실패한 작업 {count}개 재처리 ({by})")
        }
        (Lang::Ko, DeadLetterAction::Delete) => {
            format!("☠ {worker}: 실패한 작업 {count}개 삭제 ({by})")
        }
        (Lang::En, DeadLetterAction::Replay) => {
            format!("☠ {by} put {count} dead letter{plural} of {worker} back on its queue")
        }
        (Lang::En, DeadLetterAction::Delete) => {
            format!("☠ {by} deleted {count} dead letter{plural} of {worker}")
        }
    }
}

/// The event log's record of orphaned jobs: `moved` back on the queue (or, `recommended`, that
/// would be), `quarantined` sent to the dead letters.
pub fn rescue_line(
    lang: Lang,
    worker: &str,
    consumer: &str,
    (moved, quarantined): (u64, u64),
    recommended: bool,
) -> String {
    match (lang, recommended) {
        (Lang::Ko, true) => {
            format!("♻ {worker}: 소비자 {consumer}가 남긴 작업을 큐로 돌릴 것을 권장")
        }
        (Lang::En, true) => {
            format!("♻ {worker}: jobs left by consumer {consumer} should go back on the queue")
        }
        (Lang::Ko, false) => format!(
            "♻ {worker}: 소비자 {consumer}가 남긴 작업 {moved}개를 큐로 되돌림{}",
            if quarantined > 0 {
                format!(", {quarantined}개는 실패 목록으로")
            } else {
                String::new()
            }
        ),
        (Lang::En, false) => format!(
            "♻ {worker}: {moved} job(s) left by consumer {consumer} back on the queue{}",
            if quarantined > 0 {
                format!(", {quarantined} to the dead letters")
            } else {
                String::new()
            }
        ),
    }
}

/// A request that failed: its status and the server's words.
pub fn dl_failed(lang: Lang, status: u16, message: &str) -> String {
    match lang {
        Lang::Ko => format!("✗ 실패 (HTTP {status}){}", colon(message)),
        Lang::En => format!("✗ failed (HTTP {status}){}", colon(message)),
    }
}

/// The panel's line on a worker's orphaned jobs: what waits and when it moves (`due_in_s`, `auto`
/// only), then what the rescue did within its window.
pub fn orphans_line(
    lang: Lang,
    v: &pulseboard_shared::rescue::RescueView,
    due_in_s: Option<u64>,
) -> String {
    let window = crate::text::duration(lang, v.window_s);
    let mut parts = Vec::new();
    if v.orphaned_lists > 0 {
        let (lists, jobs) = (v.orphaned_lists, v.orphaned_jobs);
        parts.push(match (lang, due_in_s) {
            (Lang::Ko, Some(s)) => format!(
                "남겨진 작업 {jobs}개 (목록 {lists}개): {}",
                crate::text::duration(lang, s) + " 후 큐로"
            ),
            (Lang::Ko, None) => {
                format!("남겨진 작업 {jobs}개 (목록 {lists}개): 직접 옮기기를 권장")
            }
            (Lang::En, Some(s)) => format!(
                "{jobs} orphaned job(s) in {lists} list(s): back on the queue in {}",
                crate::text::duration(lang, s)
            ),
            (Lang::En, None) => {
                format!("{jobs} orphaned job(s) in {lists} list(s): moving them is up to you")
            }
        });
    }
    if v.rescued + v.quarantined > 0 {
        let (r, q) = (v.rescued, v.quarantined);
        parts.push(match lang {
            Lang::Ko => format!("최근 {window}: {r}개 되돌림, {q}개 실패 목록으로"),
            Lang::En => format!("last {window}: {r} rescued, {q} to the dead letters"),
        });
    }
    format!("♻ {}", parts.join(" · "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outcome_says_how_many_and_what_was_already_gone_in_both_languages() {
        let o = DeadLetterOutcome {
            action: DeadLetterAction::Replay,
            worker: "w".into(),
            count: 3,
            ids: vec![],
            missing: vec!["a".into()],
            by: "ops".into(),
        };
        assert_eq!(
            dl_done(Lang::En, &o),
            "✓ 3 put back on the queue by ops; 1 was already gone"
        );
        assert!(dl_done(Lang::Ko, &o).contains("3개"));
        assert!(dl_question(Lang::En, DeadLetterAction::Delete, None, "w").contains("all"));
    }
}
