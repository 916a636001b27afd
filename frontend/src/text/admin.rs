//! The admin API's answers in words: a button's label and what the server said to a request.

use pulseboard_shared::answer::Conflict;
use pulseboard_shared::Lang;

use super::recovery::{colon, pick};
use crate::admin::{AdminAction, Outcome};

/// A button's words.
pub fn admin_action_label(lang: Lang, action: AdminAction) -> &'static str {
    match action {
        AdminAction::Restart => pick(lang, "재시작", "restart"),
        AdminAction::Quiet => pick(lang, "작업 중단", "quiet"),
        AdminAction::Hold => pick(lang, "1시간 보류", "hold 1 h"),
        AdminAction::LiftHold => pick(lang, "보류 해제", "lift the hold"),
        AdminAction::Reset => pick(lang, "복구 초기화", "reset the guard"),
    }
}

/// What the server said to `action` on `worker`.
pub fn outcome_line(lang: Lang, outcome: &Outcome, action: AdminAction, worker: &str) -> String {
    let what = admin_action_label(lang, action);
    match (lang, outcome) {
        (Lang::Ko, Outcome::Sending) => format!("{worker}: {what} 보내는 중…"),
        (Lang::En, Outcome::Sending) => format!("sending {what} for {worker}…"),
        (Lang::Ko, Outcome::Accepted { id, by }) => {
            let id = id.as_ref().map(|i| format!(", {i}")).unwrap_or_default();
            format!("✓ 접수됨: {worker} {what} ({by}{id})")
        }
        (Lang::En, Outcome::Accepted { id, by }) => {
            let id = id.as_ref().map(|i| format!(" as {i}")).unwrap_or_default();
            format!("✓ accepted: {what} for {worker}{id} by {by}")
        }
        (Lang::Ko, Outcome::NotFound) => format!("✗ {worker} 워커가 서버에 없습니다"),
        (Lang::En, Outcome::NotFound) => format!("✗ the server knows no worker {worker}"),
        (_, other) => failure_line(lang, other),
    }
}

/// What acknowledging an alert from the timeline came to, in `lang`.
pub fn ack_line(lang: Lang, outcome: &Outcome) -> String {
    match (lang, outcome) {
        (Lang::Ko, Outcome::Sending) => "확인 보내는 중…".into(),
        (Lang::En, Outcome::Sending) => "acknowledging…".into(),
        (Lang::Ko, Outcome::Accepted { by, .. }) => format!("✅ {by} 님이 확인함"),
        (Lang::En, Outcome::Accepted { by, .. }) => format!("✅ acknowledged by {by}"),
        (Lang::Ko, Outcome::NotFound) => "이미 해결된 경보입니다".into(),
        (Lang::En, Outcome::NotFound) => "already resolved".into(),
        (_, other) => failure_line(lang, other),
    }
}

/// What setting or ending a silence came to, in `lang`.
pub fn done_line(lang: Lang, outcome: &Outcome) -> String {
    match (lang, outcome) {
        (Lang::Ko, Outcome::Sending) => "보내는 중…".into(),
        (Lang::En, Outcome::Sending) => "sending…".into(),
        (Lang::Ko, Outcome::Accepted { .. }) => "✓ 완료".into(),
        (Lang::En, Outcome::Accepted { .. }) => "✓ done".into(),
        (Lang::Ko, Outcome::NotFound) => "이미 끝났습니다".into(),
        (Lang::En, Outcome::NotFound) => "already ended".into(),
        (_, other) => failure_line(lang, other),
    }
}

/// A request's failure in `lang`, whatever was asked.
fn failure_line(lang: Lang, outcome: &Outcome) -> String {
    match (lang, outcome) {
        (Lang::Ko, Outcome::Refused) => "✗ 토큰이 거부되었습니다: 다시 입력하세요".into(),
        (Lang::En, Outcome::Refused) => "✗ token refused: enter it again".into(),
        (Lang::Ko, Outcome::Off) => "✗ 이 서버에서는 조치가 꺼져 있습니다".into(),
        (Lang::En, Outcome::Off) => "✗ actions are off on this server".into(),
        (_, Outcome::Conflict(conflict, message)) => {
            format!("✗ {}", conflict_words(lang, conflict.as_ref(), message))
        }
        (Lang::Ko, Outcome::Failed(status, message)) => {
            format!("✗ 실패 (HTTP {status}){}", colon(message))
        }
        (Lang::En, Outcome::Failed(status, message)) => {
            format!("✗ failed (HTTP {status}){}", colon(message))
        }
        (Lang::Ko, Outcome::Network) => "✗ 네트워크 오류: 서버가 응답하지 않았습니다".into(),
        (Lang::En, Outcome::Network) => "✗ network error: the server did not answer".into(),
        (Lang::Ko, _) => "✗ 실패".into(),
        (Lang::En, _) => "✗ failed".into(),
    }
}

/// A 409's reason, in `lang`; from a server that sends only words, its words.
fn conflict_words(lang: Lang, conflict: Option<&Conflict>, message: &str) -> String {
    match (lang, conflict) {
        (Lang::En, Some(c)) => c.words(),
        (Lang::Ko, Some(Conflict::InFlight { id, by })) => {
            format!("같은 조치({id}, {by})가 아직 진행 중입니다")
        }
        (Lang::Ko, Some(Conflict::NoRoute)) => {
            "신호가 없고 에이전트를 둘 호스트도 설정되지 않아 재시작할 수 없습니다".into()
        }
        (Lang::Ko, Some(Conflict::NoAgentKey)) => {
            "신호가 없는데 서버에 에이전트 키가 없어 에이전트에 요청할 수 없습니다 (PULSEBOARD_AGENT_KEY)"
                .into()
        }
        (Lang::En, None) => message.to_owned(),
        (Lang::Ko, None) => format!("충돌: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_conflict_is_worded_in_both_languages() {
        for c in Conflict::examples() {
            let en = conflict_words(Lang::En, Some(&c), "");
            let ko = conflict_words(Lang::Ko, Some(&c), "");
            assert_eq!(en, c.words(), "the page says what the API says");
            assert!(ko.chars().any(|c| ('가'..='힣').contains(&c)), "{ko}");
            assert_ne!(en, ko);
        }
        let conflict = Outcome::Conflict(
            Some(Conflict::InFlight {
                id: "c-1".into(),
                by: "ops".into(),
            }),
            String::new(),
        );
        assert_eq!(
            outcome_line(Lang::Ko, &conflict, AdminAction::Restart, "w"),
            "✗ 같은 조치(c-1, ops)가 아직 진행 중입니다"
        );
        let accepted = Outcome::Accepted {
            id: Some("c-9".into()),
            by: "ops".into(),
        };
        assert_eq!(
            outcome_line(Lang::En, &accepted, AdminAction::Restart, "render-1"),
            "✓ accepted: restart for render-1 as c-9 by ops"
        );
    }
}
