//! The event log's recovery records as sentences, worded from their structure (`what` and the
//! typed fields beside it); a record written before those fields existed shows its English
//! `detail` as it is.

use pulseboard_shared::recovery::{AuditEntry, AuditWhat, Mode};
use pulseboard_shared::Lang;

use super::duration;
use super::recovery::{
    action_name, block_words, colon, mode_name, outcome_words, pick, route_name, who,
};

/// An event-log recovery record about `worker`, as one line.
pub fn recovery_line(lang: Lang, worker: &str, e: &AuditEntry) -> String {
    use AuditWhat as W;
    let by = who(lang, &e.by);
    let action = action_name(lang, e.action.as_deref().unwrap_or("restart"));
    let detail = e.detail.as_str();
    match (lang, e.what) {
        (Lang::Ko, W::Acted) => {
            let route = e.route.map(|r| format!("{}, ", route_name(lang, r)));
            format!("🔧 {worker} {action} ({}{by})", route.unwrap_or_default())
        }
        (Lang::En, W::Acted) => {
            let verb = match e.action.as_deref() {
                Some("reset_and_restart") => "reset and restarted",
                Some("quiet") => "quieted",
                Some("stop") => "stopped",
                _ => "restarted",
            };
            let route = e.route.map(|r| format!(" {}", route_name(lang, r)));
            format!("🔧 {by} {verb} {worker}{}", route.unwrap_or_default())
        }
        (_, W::Result) => {
            let ok = e.ok == Some(true);
            let words = e
                .outcome
                .as_ref()
                .map_or_else(|| detail.to_owned(), |o| outcome_words(lang, o));
            let words = colon(&words);
            match (lang, ok) {
                (Lang::Ko, true) => format!("✓ {worker} {action} 성공{words}"),
                (Lang::Ko, false) => format!("✗ {worker} {action} 실패{words}"),
                (Lang::En, true) => format!("✓ {action} of {worker} worked{words}"),
                (Lang::En, false) => format!("✗ {action} of {worker} failed{words}"),
            }
        }
        (Lang::Ko, W::CircuitOpen) => {
            format!("⛔ {worker} 차단: 재시작으로 해결되지 않아 자동 조치를 멈춥니다")
        }
        (Lang::En, W::CircuitOpen) => {
            format!("⛔ circuit open on {worker}: restarts did not help; no more automatic ones")
        }
        (_, W::CircuitClosed) => {
            let healthy = match (lang, e.healthy_s) {
                (Lang::Ko, Some(s)) => format!("{s}초 동안 정상"),
                (Lang::En, Some(s)) => format!("healthy for {s} s"),
                (_, None) => detail.to_owned(),
            };
            match lang {
                Lang::Ko => format!("✓ {worker} 차단 해제{}", colon(&healthy)),
                Lang::En => format!("✓ circuit closed on {worker}{}", colon(&healthy)),
            }
        }
        (_, W::Blocked) => {
            let why = e
                .blocked
                .as_ref()
                .map_or_else(|| detail.to_owned(), |b| block_words(lang, b));
            match lang {
                Lang::Ko => format!("⏸ {worker} 복구 보류{}", colon(&why)),
                Lang::En => format!("⏸ recovery of {worker} blocked{}", colon(&why)),
            }
        }
        (Lang::Ko, W::Recommend) => format!("💡 {worker} 재시작 권장"),
        (Lang::En, W::Recommend) => format!("💡 restart recommended for {worker}"),
        (_, W::Hold) => {
            let span = e.hold_s.map(|s| duration(lang, s));
            let reason = e.reason.as_deref().unwrap_or_default();
            match lang {
                Lang::Ko => format!(
                    "✋ {worker} 보류 ({by}{}){}",
                    span.map(|s| format!(", {s}")).unwrap_or_default(),
                    colon(reason)
                ),
                Lang::En => format!(
                    "✋ {by} held {worker}{}{}",
                    span.map(|s| format!(" for {s}")).unwrap_or_default(),
                    colon(reason)
                ),
            }
        }
        (Lang::Ko, W::HoldLifted) => format!("▶ {worker} 보류 해제 ({by})"),
        (Lang::En, W::HoldLifted) => format!("▶ {by} lifted the hold on {worker}"),
        (Lang::Ko, W::Reset) => format!("↺ {worker} 복구 초기화 ({by}): 시도 횟수 삭제, 차단 해제"),
        (Lang::En, W::Reset) => {
            format!("↺ {by} reset the guard of {worker}: attempts forgotten, circuit closed")
        }
        (_, W::Mode) => {
            let Some(mode) = e.mode.as_deref() else {
                return format!("⚙ {worker}{}", colon(detail));
            };
            let mode = match Mode::parse(mode) {
                Some(m) => mode_name(lang, m).to_owned(),
                None if mode == "default" => pick(lang, "설정값", "the configured one").into(),
                None => mode.to_owned(),
            };
            let reason = e.reason.as_deref().unwrap_or_default();
            match lang {
                Lang::Ko => format!("⚙ {worker} 복구 방식: {mode} ({by}){}", colon(reason)),
                Lang::En => format!(
                    "⚙ {by} set {worker}'s recovery mode to {mode}{}",
                    colon(reason)
                ),
            }
        }
        (_, W::Other) => format!("{worker}{}", colon(detail)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulseboard_shared::recovery::{ActionOutcome, Block, Route};

    fn hangul(text: &str) -> bool {
        text.chars().any(|c| ('가'..='힣').contains(&c))
    }

    #[test]
    fn every_record_is_worded_in_both_languages() {
        for what in AuditWhat::ALL {
            let e = AuditEntry {
                action: Some("restart".into()),
                route: Some(Route::Agent),
                ok: Some(false),
                outcome: Some(ActionOutcome::NoAnswer { within_s: 300 }),
                blocked: Some(Block::HostDown("gpu-1".into())),
                hold_s: Some(3600),
                healthy_s: Some(600),
                mode: Some("auto".into()),
                ..AuditEntry::new(what, "ops")
            };
            let (en, ko) = (
                recovery_line(Lang::En, "render-1", &e),
                recovery_line(Lang::Ko, "render-1", &e),
            );
            assert!(!en.is_empty() && !ko.is_empty(), "{what:?}");
            if what != AuditWhat::Other {
                assert_ne!(en, ko, "{what:?}");
                assert!(hangul(&ko), "{what:?}: {ko}");
                assert!(!hangul(&en), "{what:?}: {en}");
            }
        }
    }

    #[test]
    fn recovery_records_read_as_sentences() {
        let acted = AuditEntry {
            action: Some("restart".into()),
            route: Some(Route::Heartbeat),
            ..AuditEntry::new(AuditWhat::Acted, "auto")
        };
        assert_eq!(
            recovery_line(Lang::En, "render-1", &acted),
            "🔧 auto restarted render-1 through its heartbeat"
        );
        assert_eq!(
            recovery_line(Lang::Ko, "render-1", &acted),
            "🔧 render-1 재시작 (하트비트 경유, 자동)"
        );
        let held = AuditEntry {
            hold_s: Some(3600),
            reason: Some("deploy".into()),
            ..AuditEntry::new(AuditWhat::Hold, "ops")
        };
        assert_eq!(
            recovery_line(Lang::En, "render-1", &held),
            "✋ ops held render-1 for 60 min: deploy"
        );
        let failed = AuditEntry {
            ok: Some(false),
            action: Some("restart".into()),
            outcome: Some(ActionOutcome::NoAnswer { within_s: 300 }),
            ..AuditEntry::new(AuditWhat::Result, "auto")
        };
        assert_eq!(
            recovery_line(Lang::Ko, "render-1", &failed),
            "✗ render-1 재시작 실패: 300초 안에 응답 없음"
        );
        assert_eq!(
            recovery_line(
                Lang::En,
                "render-1",
                &AuditEntry::new(AuditWhat::CircuitOpen, "auto")
            ),
            "⛔ circuit open on render-1: restarts did not help; no more automatic ones"
        );
        let mode = AuditEntry {
            mode: Some("auto".into()),
            ..AuditEntry::new(AuditWhat::Mode, "ops")
        };
        assert_eq!(
            recovery_line(Lang::En, "render-1", &mode),
            "⚙ ops set render-1's recovery mode to automatic"
        );
    }
}
