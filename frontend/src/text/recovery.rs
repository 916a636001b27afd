//! The recovery guard's words in Korean and English: its state, countdowns, the last action,
//! the advice (from its structure, never the server's English sentence), what stands in the way,
//! all from the guard's structures (`ActionOutcome`, `Block`, `Advice`), never the server's
//! English sentences; anything else (an agent's or an operator's own words) is shown as written.
//! The answers to a person's request are in `admin`, the event log's records in `audit`.

use pulseboard_shared::agent::Outcome as AgentOutcome;
use pulseboard_shared::recovery::{
    ActionOutcome, Advice, Block, GuardState, LastAction, Mode, Route,
};
use pulseboard_shared::Lang;

pub(super) fn pick(lang: Lang, ko: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Ko => ko,
        Lang::En => en,
    }
}

/// Where the guard stands, in words.
pub fn guard_state(lang: Lang, state: GuardState) -> &'static str {
    use GuardState as G;
    match state {
        G::Idle => pick(lang, "할 일 없음", "nothing to do"),
        G::Waiting => pick(lang, "상태 지속 확인 중", "waiting for the state to last"),
        G::Backoff => pick(lang, "재시도 간격 대기", "backing off"),
        G::Acting => pick(lang, "🔧 조치 중", "🔧 acting"),
        G::Recommending => pick(lang, "조치 권장", "action recommended"),
        G::Blocked => pick(lang, "보류됨", "blocked"),
        G::Held => pick(lang, "운영자 보류", "held by an operator"),
        G::CircuitOpen => pick(
            lang,
            "⛔ 차단 (자동 조치 중단)",
            "⛔ circuit open: no automatic action",
        ),
    }
}

/// What the guard may do on its own.
pub fn mode_name(lang: Lang, mode: Mode) -> &'static str {
    match mode {
        Mode::Off => pick(lang, "끔", "off"),
        Mode::Recommend => pick(lang, "권장만", "recommend only"),
        Mode::Auto => pick(lang, "자동", "automatic"),
    }
}

/// A time left that visibly ticks every second: "42 s", "12 min 05 s", "2 h 03 min 09 s".
pub fn countdown(lang: Lang, s: u64) -> String {
    let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60);
    match (lang, h, s) {
        (Lang::Ko, 0, s) if s < 60 => format!("{s}초"),
        (Lang::Ko, 0, _) => format!("{m}분 {sec:02}초"),
        (Lang::Ko, h, _) => format!("{h}시간 {m:02}분 {sec:02}초"),
        (Lang::En, 0, s) if s < 60 => format!("{s} s"),
        (Lang::En, 0, _) => format!("{m} min {sec:02} s"),
        (Lang::En, h, _) => format!("{h} h {m:02} min {sec:02} s"),
    }
}

/// "next attempt in 12 s".
pub fn next_attempt(lang: Lang, left_s: u64) -> String {
    match (lang, left_s) {
        (Lang::Ko, 0) => "다음 시도 곧".into(),
        (Lang::En, 0) => "next attempt now".into(),
        (Lang::Ko, s) => format!("다음 시도까지 {}", countdown(lang, s)),
        (Lang::En, s) => format!("next attempt in {}", countdown(lang, s)),
    }
}

/// "window resets in 28 min 10 s": when the oldest attempt stops counting.
pub fn window_resets(lang: Lang, left_s: u64) -> String {
    match lang {
        Lang::Ko => format!("시도 횟수 초기화까지 {}", countdown(lang, left_s)),
        Lang::En => format!("window resets in {}", countdown(lang, left_s)),
    }
}

/// "held for 59 min 58 s more", with who and why when known.
pub fn held_for(lang: Lang, left_s: u64, reason: Option<&str>) -> String {
    let why = reason.map(|r| format!(" ({r})")).unwrap_or_default();
    match lang {
        Lang::Ko => format!("보류 {} 남음{why}", countdown(lang, left_s)),
        Lang::En => format!("held for {} more{why}", countdown(lang, left_s)),
    }
}

/// Who asked: an admin token's name, or the guard itself.
pub fn who(lang: Lang, by: &str) -> String {
    match (lang, by) {
        (Lang::Ko, "auto") => "자동".into(),
        (_, by) => by.to_owned(),
    }
}

/// An action's name: `restart`, `quiet`, `stop`, `reset_and_restart`.
pub fn action_name(lang: Lang, action: &str) -> String {
    match action {
        "restart" => pick(lang, "재시작", "restart").into(),
        "quiet" => pick(lang, "작업 중단", "quiet").into(),
        "stop" => pick(lang, "정지", "stop").into(),
        "reset_and_restart" => pick(lang, "초기화 후 재시작", "reset and restart").into(),
        other => other.to_owned(),
    }
}

/// How an action travels.
pub fn route_name(lang: Lang, route: Route) -> &'static str {
    match route {
        Route::Heartbeat => pick(lang, "하트비트 경유", "through its heartbeat"),
        Route::Agent => pick(lang, "호스트 에이전트 경유", "through its host's agent"),
    }
}

/// How an action ended, in `lang` ("answered after 12 s", "failed on gpu-1, exit 1: oom");
/// an agent's own words are shown as it wrote them.
pub fn outcome_words(lang: Lang, outcome: &ActionOutcome) -> String {
    match (lang, outcome) {
        (Lang::En, o) => o.words(),
        (Lang::Ko, ActionOutcome::Answered { after_s }) => format!("{after_s}초 만에 응답"),
        (Lang::Ko, ActionOutcome::NoAnswer { within_s }) => format!("{within_s}초 안에 응답 없음"),
        (
            Lang::Ko,
            ActionOutcome::Agent {
                outcome,
                host,
                exit_code,
                detail,
            },
        ) => {
            let outcome = match outcome {
                AgentOutcome::Done => "완료",
                AgentOutcome::Failed => "실패",
                AgentOutcome::Refused => "거부됨",
                AgentOutcome::Interrupted => "중단됨",
            };
            let code = exit_code
                .map(|c| format!(", 종료 코드 {c}"))
                .unwrap_or_default();
            format!("{host}에서 {outcome}{code}{}", colon(detail))
        }
    }
}

/// How `last` ended, in `lang`: from its structure, or (a server that sends only words) its
/// English words as they are.
pub fn result_of(lang: Lang, last: &LastAction) -> Option<String> {
    match &last.outcome {
        Some(o) => Some(outcome_words(lang, o)),
        None => last.result.clone(),
    }
}

/// "restart by ops · 2 min ago · ✓ answered after 12 s" (or "⏳ no answer yet").
pub fn last_action_line(lang: Lang, last: &LastAction, ago_s: Option<u64>) -> String {
    let action = action_name(lang, &last.action);
    let when = ago_s
        .map(|s| format!(" · {}", super::ago(lang, Some(s))))
        .unwrap_or_default();
    let by = who(lang, &last.by);
    let result = match (last.ok, result_of(lang, last)) {
        (None, _) => pick(lang, "⏳ 응답 기다리는 중", "⏳ no answer yet").to_owned(),
        (Some(ok), result) => {
            let mark = if ok { "✓" } else { "✗" };
            match result {
                Some(r) => format!("{mark} {r}"),
                None => mark.to_owned(),
            }
        }
    };
    match lang {
        Lang::Ko => format!("{action} ({by}){when} · {result}"),
        Lang::En => format!("{action} by {by}{when} · {result}"),
    }
}

/// What a person should do about `worker`, from the guard's structured advice.
pub fn advice_line(lang: Lang, advice: &Advice, worker: &str) -> String {
    match (lang, advice) {
        (Lang::En, a) => a.words(worker),
        (Lang::Ko, Advice::Restart { route: Route::Heartbeat }) => format!(
            "{worker} 재시작: 작업을 마무리하고 종료하면 감독 프로세스가 다시 시작합니다"
        ),
        (Lang::Ko, Advice::Restart { route: Route::Agent }) => {
            format!("{worker} 재시작: 호스트 에이전트가 감독 프로세스의 명령으로 다시 시작합니다")
        }
        (Lang::Ko, Advice::CheckHost { host }) => {
            format!("{host}의 모든 워커가 다운: 먼저 호스트를 확인하세요")
        }
        (Lang::Ko, Advice::AgentUnreachable { host }) => format!(
            "호스트 {host} 연결 불가 (에이전트 신호 없음): 호스트에서 {worker}을(를) 직접 재시작하세요"
        ),
        (Lang::Ko, Advice::NotAllowListed { host }) => format!(
            "{host} 에이전트의 허용 목록에 {worker} 없음: 목록에 추가하거나 직접 조치하세요"
        ),
        (Lang::Ko, Advice::CrashLoop { .. }) => format!(
            "재시작으로 해결되지 않음: {worker} 로그를 보고 원인을 고친 뒤 복구를 초기화하세요"
        ),
    }
}

/// What stands in the way, in `lang`.
pub fn block_words(lang: Lang, block: &Block) -> String {
    match (lang, block) {
        (Lang::En, b) => b.words(),
        (Lang::Ko, Block::RedisLost) => "집계 서버가 Redis를 잃어 지금 상태를 믿을 수 없음".into(),
        (Lang::Ko, Block::Paused) => "큐 일시 정지 중 (일시 정지는 다운이 아님)".into(),
        (Lang::Ko, Block::Held(_)) => "운영자가 보류함".into(),
        (Lang::Ko, Block::InFlight) => "지난 조치의 응답을 기다리는 중".into(),
        (Lang::Ko, Block::AgentUnreachable(host)) => {
            format!("호스트 {host} 연결 불가 (에이전트 신호 없음)")
        }
        (Lang::Ko, Block::HostDown(host)) => format!("{host}의 모든 워커 다운"),
        (Lang::Ko, Block::NotAllowListed(host)) => format!("{host} 에이전트의 허용 목록에 없음"),
        (Lang::Ko, Block::NoAgentKey) => {
            "서버에 에이전트 키가 없어 에이전트 요청이 꺼져 있음 (PULSEBOARD_AGENT_KEY)".into()
        }
    }
}

/// ": words", or nothing when there are none.
pub(super) fn colon(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countdowns_tick_every_second() {
        assert_eq!(countdown(Lang::En, 42), "42 s");
        assert_eq!(countdown(Lang::En, 3599), "59 min 59 s");
        assert_eq!(countdown(Lang::Ko, 125), "2분 05초");
        assert_eq!(countdown(Lang::En, 7389), "2 h 03 min 09 s");
        assert_eq!(next_attempt(Lang::En, 12), "next attempt in 12 s");
        assert_eq!(held_for(Lang::Ko, 30, Some("ops")), "보류 30초 남음 (ops)");
    }

    #[test]
    fn every_advice_is_worded_in_both_languages_without_the_other() {
        let all = [
            Advice::Restart {
                route: Route::Heartbeat,
            },
            Advice::Restart {
                route: Route::Agent,
            },
            Advice::CheckHost {
                host: "gpu-1".into(),
            },
            Advice::AgentUnreachable {
                host: "gpu-1".into(),
            },
            Advice::NotAllowListed {
                host: "gpu-1".into(),
            },
            Advice::CrashLoop {
                route: Route::Agent,
            },
        ];
        for a in &all {
            let en = advice_line(Lang::En, a, "render-1");
            let ko = advice_line(Lang::Ko, a, "render-1");
            assert_eq!(en, a.words("render-1"), "the page says what the API says");
            assert!(ko.chars().any(|c| ('가'..='힣').contains(&c)), "{ko}");
            let latin_words = ko
                .split(|c: char| !c.is_ascii_alphabetic())
                .filter(|w| w.len() > 2 && !["render", "gpu"].contains(w))
                .count();
            assert_eq!(latin_words, 0, "no English in {ko}");
        }
    }

    fn hangul(text: &str) -> bool {
        text.chars().any(|c| ('가'..='힣').contains(&c))
    }

    #[test]
    fn every_outcome_and_block_is_worded_in_both_languages() {
        for o in ActionOutcome::examples() {
            let (en, ko) = (outcome_words(Lang::En, &o), outcome_words(Lang::Ko, &o));
            assert_eq!(en, o.words(), "the page says what the API says");
            assert!(hangul(&ko) && !hangul(&en), "{en} / {ko}");
        }
        for b in Block::examples() {
            let (en, ko) = (block_words(Lang::En, &b), block_words(Lang::Ko, &b));
            assert_eq!(en, b.words(), "the page says what the API says");
            assert!(hangul(&ko) && !hangul(&en), "{en} / {ko}");
        }
        assert_eq!(
            outcome_words(Lang::Ko, &ActionOutcome::examples()[3]),
            "gpu-1에서 실패, 종료 코드 1: oom"
        );
    }
}
