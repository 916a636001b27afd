//! The recovery guard's words in Korean and English: its state, countdowns, the last action,
//! the advice (from its structure, never the server's English sentence), what stands in the way,
//! the answers to a person's request, and the event log's recovery records.
//!
//! The server's own phrases (`shared/src/recovery.rs`: results, blocks, details) are translated
//! when they are known; anything else (an agent's or an operator's own words) is shown as written.

use pulseboard_shared::recovery::{Advice, AuditEntry, GuardState, LastAction, Mode, Route};
use pulseboard_shared::Lang;

use super::duration;
use crate::admin::{AdminAction, Outcome};

fn pick(lang: Lang, ko: &'static str, en: &'static str) -> &'static str {
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

/// An action's result as the server words it ("answered after 12 s", "no answer within 300 s",
/// an agent's "done on gpu-1, exit 0"), in `lang`.
pub fn result_words(lang: Lang, result: &str) -> String {
    if lang == Lang::En {
        return result.to_owned();
    }
    let between = |pre: &str, post: &str| result.strip_prefix(pre)?.strip_suffix(post);
    if let Some(s) = between("answered after ", " s") {
        format!("{s}초 만에 응답")
    } else if let Some(s) = between("no answer within ", " s") {
        format!("{s}초 안에 응답 없음")
    } else if let Some(s) = between("healthy for ", " s") {
        format!("{s}초 동안 정상")
    } else if let Some(agent) = agent_result(result) {
        agent
    } else {
        result.to_owned()
    }
}

/// A host agent's answer as the decider words it: "failed on gpu-1, exit 1: its own words".
fn agent_result(result: &str) -> Option<String> {
    let (head, words) = result.split_once(": ").unwrap_or((result, ""));
    let (head, code) = match head.split_once(", exit ") {
        Some((head, code)) => (head, Some(code)),
        None => (head, None),
    };
    let (outcome, host) = head.split_once(" on ")?;
    let outcome = match outcome {
        "done" => "완료",
        "failed" => "실패",
        "refused" => "거부됨",
        "interrupted" => "중단됨",
        _ => return None,
    };
    let code = code.map(|c| format!(", 종료 코드 {c}")).unwrap_or_default();
    Some(format!("{host}에서 {outcome}{code}{}", colon(words)))
}

/// "restart by ops · 2 min ago · ✓ answered after 12 s" (or "⏳ no answer yet").
pub fn last_action_line(lang: Lang, last: &LastAction, ago_s: Option<u64>) -> String {
    let action = action_name(lang, &last.action);
    let when = ago_s
        .map(|s| format!(" · {}", super::ago(lang, Some(s))))
        .unwrap_or_default();
    let by = who(lang, &last.by);
    let result = match (last.ok, &last.result) {
        (None, _) => pick(lang, "⏳ 응답 기다리는 중", "⏳ no answer yet").to_owned(),
        (Some(ok), result) => {
            let mark = if ok { "✓" } else { "✗" };
            match result {
                Some(r) => format!("{mark} {}", result_words(lang, r)),
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
        (Lang::Ko, Advice::Restart { route: Route::Heartbeat }) => format!(
            "{worker} 재시작: 작업을 마무리하고 종료하면 감독 프로세스가 다시 시작합니다"
        ),
        (Lang::En, Advice::Restart { route: Route::Heartbeat }) => {
            format!("restart {worker}: it drains and exits for its supervisor to start it")
        }
        (Lang::Ko, Advice::Restart { route: Route::Agent }) => {
            format!("{worker} 재시작: 호스트 에이전트가 감독 프로세스의 명령으로 다시 시작합니다")
        }
        (Lang::En, Advice::Restart { route: Route::Agent }) => {
            format!("restart {worker} through its host's agent (its supervisor's command)")
        }
        (Lang::Ko, Advice::CheckHost { host }) => {
            format!("{host}의 모든 워커가 다운: 먼저 호스트를 확인하세요")
        }
        (Lang::En, Advice::CheckHost { host }) => {
            format!("every worker on {host} is down: check the host first")
        }
        (Lang::Ko, Advice::AgentUnreachable { host }) => format!(
            "호스트 {host} 연결 불가 (에이전트 신호 없음): 호스트에서 {worker}을(를) 직접 재시작하세요"
        ),
        (Lang::En, Advice::AgentUnreachable { host }) => format!(
            "host {host} unreachable: its agent does not beat; restart {worker} on the host by hand"
        ),
        (Lang::Ko, Advice::NotAllowListed { host }) => format!(
            "{host} 에이전트의 허용 목록에 {worker} 없음: 목록에 추가하거나 직접 조치하세요"
        ),
        (Lang::En, Advice::NotAllowListed { host }) => format!(
            "the agent on {host} may not restart {worker}: add it to the allow-list or act by hand"
        ),
        (Lang::Ko, Advice::CrashLoop { .. }) => format!(
            "재시작으로 해결되지 않음: {worker} 로그를 보고 원인을 고친 뒤 복구를 초기화하세요"
        ),
        (Lang::En, Advice::CrashLoop { .. }) => format!(
            "restarts did not help: read {worker}'s logs, fix the cause, then reset the guard"
        ),
    }
}

/// What stands in the way, from the guard's words (`Block::words`), in `lang`.
pub fn blocked_words(lang: Lang, words: &str) -> String {
    if lang == Lang::En {
        return words.to_owned();
    }
    let between = |pre: &str, post: &str| words.strip_prefix(pre)?.strip_suffix(post);
    match words {
        "pulseboard lost Redis: the view cannot be trusted" => {
            "집계 서버가 Redis를 잃어 지금 상태를 믿을 수 없음".into()
        }
        "paused by the queue flag (paused is not down)" => {
            "큐 일시 정지 중 (일시 정지는 다운이 아님)".into()
        }
        "held by an operator" => "운영자가 보류함".into(),
        "the last action is not answered yet" => "지난 조치의 응답을 기다리는 중".into(),
        _ => {
            if let Some(host) = between("host ", " unreachable (its agent does not beat)") {
                format!("호스트 {host} 연결 불가 (에이전트 신호 없음)")
            } else if let Some(host) = between("every worker on ", " is down") {
                format!("{host}의 모든 워커 다운")
            } else if let Some(host) = words.strip_prefix("not in the allow-list of the agent on ")
            {
                format!("{host} 에이전트의 허용 목록에 없음")
            } else {
                words.to_owned()
            }
        }
    }
}

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
        (Lang::Ko, Outcome::Refused) => "✗ 토큰이 거부되었습니다: 다시 입력하세요".into(),
        (Lang::En, Outcome::Refused) => "✗ token refused: enter it again".into(),
        (Lang::Ko, Outcome::Off) => "✗ 이 서버에서는 조치가 꺼져 있습니다".into(),
        (Lang::En, Outcome::Off) => "✗ actions are off on this server".into(),
        (Lang::Ko, Outcome::NotFound) => format!("✗ {worker} 워커가 서버에 없습니다"),
        (Lang::En, Outcome::NotFound) => format!("✗ the server knows no worker {worker}"),
        (_, Outcome::Conflict(message)) => format!("✗ {}", conflict_words(lang, message)),
        (Lang::Ko, Outcome::Failed(status, message)) => {
            format!("✗ 실패 (HTTP {status}){}", colon(message))
        }
        (Lang::En, Outcome::Failed(status, message)) => {
            format!("✗ failed (HTTP {status}){}", colon(message))
        }
        (Lang::Ko, Outcome::Network) => "✗ 네트워크 오류: 서버가 응답하지 않았습니다".into(),
        (Lang::En, Outcome::Network) => "✗ network error: the server did not answer".into(),
    }
}

fn colon(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

/// A 409's message (`server/src/admin.rs`), in `lang`.
fn conflict_words(lang: Lang, message: &str) -> String {
    if lang == Lang::En {
        return message.to_owned();
    }
    let in_flight = message
        .strip_prefix("the same action (")
        .and_then(|m| m.strip_suffix(" is still in flight"))
        .and_then(|m| m.split_once(") asked by "));
    if let Some((id, by)) = in_flight {
        format!("같은 조치({id}, {by})가 아직 진행 중입니다")
    } else if message.starts_with("the worker does not beat and has no configured host") {
        "신호가 없고 에이전트를 둘 호스트도 설정되지 않아 재시작할 수 없습니다".into()
    } else {
        format!("충돌: {message}")
    }
}

/// An event-log recovery record about `worker`, as one line.
pub fn recovery_line(lang: Lang, worker: &str, e: &AuditEntry) -> String {
    let by = who(lang, &e.by);
    let action = action_name(lang, e.action.as_deref().unwrap_or("restart"));
    let detail = e.detail.as_str();
    match (lang, e.what.as_str()) {
        (Lang::Ko, "acted") => {
            let route = e.route.map(|r| format!("{}, ", route_name(lang, r)));
            format!("🔧 {worker} {action} ({}{by})", route.unwrap_or_default())
        }
        (Lang::En, "acted") => {
            let verb = match e.action.as_deref() {
                Some("reset_and_restart") => "reset and restarted",
                Some("quiet") => "quieted",
                Some("stop") => "stopped",
                _ => "restarted",
            };
            let route = e.route.map(|r| format!(" {}", route_name(lang, r)));
            format!("🔧 {by} {verb} {worker}{}", route.unwrap_or_default())
        }
        (_, "result") => {
            let ok = e.ok == Some(true);
            let words = result_words(lang, detail);
            let words = if words.is_empty() {
                String::new()
            } else {
                format!(": {words}")
            };
            match (lang, ok) {
                (Lang::Ko, true) => format!("✓ {worker} {action} 성공{words}"),
                (Lang::Ko, false) => format!("✗ {worker} {action} 실패{words}"),
                (Lang::En, true) => format!("✓ {action} of {worker} worked{words}"),
                (Lang::En, false) => format!("✗ {action} of {worker} failed{words}"),
            }
        }
        (Lang::Ko, "circuit_open") => {
            format!("⛔ {worker} 차단: 재시작으로 해결되지 않아 자동 조치를 멈춥니다")
        }
        (Lang::En, "circuit_open") => {
            format!("⛔ circuit open on {worker}: restarts did not help; no more automatic ones")
        }
        (Lang::Ko, "circuit_closed") => {
            format!("✓ {worker} 차단 해제{}", colon(&result_words(lang, detail)))
        }
        (Lang::En, "circuit_closed") => format!("✓ circuit closed on {worker}{}", colon(detail)),
        (Lang::Ko, "blocked") => {
            format!(
                "⏸ {worker} 복구 보류{}",
                colon(&blocked_words(lang, detail))
            )
        }
        (Lang::En, "blocked") => format!("⏸ recovery of {worker} blocked{}", colon(detail)),
        (Lang::Ko, "recommend") => format!("💡 {worker} 재시작 권장"),
        (Lang::En, "recommend") => format!("💡 restart recommended for {worker}"),
        (_, "hold") => {
            // "hold for 3600 s[: reason]"
            let (head, reason) = detail.split_once(": ").unwrap_or((detail, ""));
            let secs = head
                .strip_prefix("hold for ")
                .and_then(|h| h.strip_suffix(" s"))
                .and_then(|s| s.parse::<u64>().ok());
            let span = secs.map(|s| duration(lang, s));
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
        (Lang::Ko, "hold_lifted") => format!("▶ {worker} 보류 해제 ({by})"),
        (Lang::En, "hold_lifted") => format!("▶ {by} lifted the hold on {worker}"),
        (Lang::Ko, "reset") => format!("↺ {worker} 복구 초기화 ({by}): 시도 횟수 삭제, 차단 해제"),
        (Lang::En, "reset") => {
            format!("↺ {by} reset the guard of {worker}: attempts forgotten, circuit closed")
        }
        (_, "mode") => {
            // "mode auto[: reason]"
            let (head, reason) = detail.split_once(": ").unwrap_or((detail, ""));
            let mode = head.strip_prefix("mode ").unwrap_or(head);
            let mode = match Mode::parse(mode) {
                Some(m) => mode_name(lang, m).to_owned(),
                None if mode == "default" => pick(lang, "설정값", "the configured one").into(),
                None => mode.to_owned(),
            };
            match lang {
                Lang::Ko => format!("⚙ {worker} 복구 방식: {mode} ({by}){}", colon(reason)),
                Lang::En => format!(
                    "⚙ {by} set {worker}'s recovery mode to {mode}{}",
                    colon(reason)
                ),
            }
        }
        (_, other) => format!("{other} {worker}{}", colon(detail)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(what: &str, by: &str, detail: &str) -> AuditEntry {
        AuditEntry {
            what: what.into(),
            by: by.into(),
            id: None,
            action: None,
            route: None,
            ok: None,
            detail: detail.into(),
        }
    }

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

    #[test]
    fn the_server_s_phrases_are_translated_and_its_own_words_kept() {
        assert_eq!(
            result_words(Lang::Ko, "answered after 12 s"),
            "12초 만에 응답"
        );
        assert_eq!(
            result_words(Lang::Ko, "no answer within 300 s"),
            "300초 안에 응답 없음"
        );
        assert_eq!(result_words(Lang::Ko, "segfault"), "segfault");
        assert_eq!(
            result_words(Lang::Ko, "failed on gpu-1, exit 1: oom"),
            "gpu-1에서 실패, 종료 코드 1: oom"
        );
        assert_eq!(
            blocked_words(Lang::Ko, "host gpu-1 unreachable (its agent does not beat)"),
            "호스트 gpu-1 연결 불가 (에이전트 신호 없음)"
        );
        let conflict =
            Outcome::Conflict("the same action (c-1) asked by ops is still in flight".into());
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

    #[test]
    fn recovery_records_read_as_sentences() {
        let acted = AuditEntry {
            action: Some("restart".into()),
            route: Some(Route::Heartbeat),
            ..entry("acted", "auto", "")
        };
        assert_eq!(
            recovery_line(Lang::En, "render-1", &acted),
            "🔧 auto restarted render-1 through its heartbeat"
        );
        assert_eq!(
            recovery_line(Lang::Ko, "render-1", &acted),
            "🔧 render-1 재시작 (하트비트 경유, 자동)"
        );
        let held = entry("hold", "ops", "hold for 3600 s: deploy");
        assert_eq!(
            recovery_line(Lang::En, "render-1", &held),
            "✋ ops held render-1 for 60 min: deploy"
        );
        let failed = AuditEntry {
            ok: Some(false),
            action: Some("restart".into()),
            ..entry("result", "auto", "no answer within 300 s")
        };
        assert_eq!(
            recovery_line(Lang::Ko, "render-1", &failed),
            "✗ render-1 재시작 실패: 300초 안에 응답 없음"
        );
        assert_eq!(
            recovery_line(Lang::En, "render-1", &entry("circuit_open", "auto", "x")),
            "⛔ circuit open on render-1: restarts did not help; no more automatic ones"
        );
        assert_eq!(
            recovery_line(Lang::En, "render-1", &entry("mode", "ops", "mode auto")),
            "⚙ ops set render-1's recovery mode to automatic"
        );
    }
}
