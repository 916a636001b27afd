//! Alert texts: the seed's Korean (`🔴 [name] 워커 다운`), or English, with the worker's context.

use pulseboard_shared::ack::AckVia;
use pulseboard_shared::nodes::HostAgent;

use super::alert::{Alert, AlertKind, FollowUp, Quoted, Transition, WorkerContext};
use super::incidents::Outgoing;
use crate::config::alerts::Language;

/// The message for `t`, two lines when there is a worker context.
pub fn render(t: &Transition, language: Language) -> String {
    let name = t.worker.as_deref().unwrap_or("?");
    let host = t
        .context
        .as_ref()
        .and_then(|c| c.host.as_deref())
        .unwrap_or("?");
    let count = t.count.unwrap_or(0);
    let ko = language == Language::Korean;
    let head = match (t.kind, ko) {
        (AlertKind::Down, true) => format!("🔴 [{name}] 워커 다운"),
        (AlertKind::Down, false) => format!("🔴 [{name}] worker down"),
        (AlertKind::DeadAtStart, true) => format!("🔴 [{name}] 워커 다운 (모니터 시작 시 하트비트 없음)"),
        (AlertKind::DeadAtStart, false) => {
            format!("🔴 [{name}] worker down (no heartbeat since the monitor started)")
        }
        (AlertKind::Recovered, true) => format!("🟢 [{name}] 워커 복구"),
        (AlertKind::Recovered, false) => format!("🟢 [{name}] worker recovered"),
        (AlertKind::DeadLetters, true) => format!("❌ [{name}] 실패 누적 {count}건 (dead-letter)"),
        (AlertKind::DeadLetters, false) => {
            format!("❌ [{name}] {count} failed jobs piled up (dead-letter)")
        }
        (AlertKind::Flapping, true) => {
            format!("⚠️ [{name}] 워커 불안정: 다운 {count}회 반복, 안정될 때까지 다운/복구 알림 보류")
        }
        (AlertKind::Flapping, false) => format!(
            "⚠️ [{name}] worker flapping: down {count} times; down/recovered alerts held until it settles"
        ),
        (AlertKind::Settled, true) => {
            let now = if alive(t) { "정상" } else { "다운" };
            format!("ℹ️ [{name}] 워커 안정됨 (현재 {now})")
        }
        (AlertKind::Settled, false) => {
            let now = if alive(t) { "up" } else { "down" };
            format!("ℹ️ [{name}] worker settled (now {now})")
        }
        (AlertKind::RedisLost, true) => {
            "🚨 pulseboard가 Redis 연결을 잃었습니다: 워커 상태를 알 수 없음 (워커별 알림 보류)".to_owned()
        }
        (AlertKind::RedisLost, false) => {
            "🚨 pulseboard lost Redis: worker state unknown (per-worker alerts held)".to_owned()
        }
        (AlertKind::Stopped, true) => format!("⏹ [{name}] 워커 정상 종료"),
        (AlertKind::Stopped, false) => format!("⏹ [{name}] worker stopped cleanly"),
        (AlertKind::Started, true) => format!("▶️ [{name}] 워커 다시 시작"),
        (AlertKind::Started, false) => format!("▶️ [{name}] worker started again"),
        (AlertKind::FailedToStart, true) => format!("❌ [{name}] 워커 시작 실패{}", why(t)),
        (AlertKind::FailedToStart, false) => format!("❌ [{name}] worker failed to start{}", why(t)),
        (AlertKind::Unhealthy, true) => format!("🩺 [{name}] 워커 이상{}", why(t)),
        (AlertKind::Unhealthy, false) => format!("🩺 [{name}] worker unhealthy{}", why(t)),
        (AlertKind::Stalled, true) => format!("🧊 [{name}] 작업 멈춤{}", why(t)),
        (AlertKind::Stalled, false) => format!("🧊 [{name}] worker stalled{}", why(t)),
        (AlertKind::Late, true) => format!("⏰ [{name}] 하트비트 지연"),
        (AlertKind::Late, false) => format!("⏰ [{name}] heartbeat late"),
        (AlertKind::RecoveryActed, true) => format!("🔧 [{name}] 재시작 요청 ({count}회째){}", why(t)),
        (AlertKind::RecoveryActed, false) => {
            format!("🔧 [{name}] restart asked (attempt {count}){}", why(t))
        }
        (AlertKind::RecoveryFailed, true) => format!("⚠️ [{name}] 재시작 실패{}", why(t)),
        (AlertKind::RecoveryFailed, false) => format!("⚠️ [{name}] restart failed{}", why(t)),
        (AlertKind::CircuitOpen, true) => {
            format!("⛔ [{name}] 자동 복구 중단: {count}회 재시작 후에도 복구 안 됨. 로그를 보고 원인을 고친 뒤 복구를 초기화하세요")
        }
        (AlertKind::CircuitOpen, false) => format!(
            "⛔ [{name}] automatic recovery stopped after {count} restarts: a person must look{}",
            why(t)
        ),
        (AlertKind::HoldSet, true) => format!("⏸ [{name}] 자동 복구 보류{}", why(t)),
        (AlertKind::HoldSet, false) => format!("⏸ [{name}] recovery on hold{}", why(t)),
        (AlertKind::HoldLifted, true) => format!("▶️ [{name}] 자동 복구 보류 해제"),
        (AlertKind::HoldLifted, false) => format!("▶️ [{name}] recovery hold lifted"),
        (AlertKind::JobsRescued, true) => format!("♻️ [{name}] 고아 작업 {count}건을 큐로 되돌림{}", why(t)),
        (AlertKind::JobsRescued, false) => {
            format!("♻️ [{name}] {count} orphaned jobs put back on the queue{}", why(t))
        }
        (AlertKind::JobsQuarantined, true) => {
            format!("☠️ [{name}] 같은 작업이 반복해서 워커를 죽임: {count}건을 dead-letter로 격리{}", why(t))
        }
        (AlertKind::JobsQuarantined, false) => format!(
            "☠️ [{name}] {count} jobs kept killing this worker: sent to the dead letters{}",
            why(t)
        ),
        (AlertKind::JobsOrphaned, true) => {
            format!("🧺 [{name}] 고아 작업 {count}건 대기 중 (복구 권고 모드){}", why(t))
        }
        (AlertKind::JobsOrphaned, false) => format!(
            "🧺 [{name}] {count} orphaned jobs wait: rescue is set to recommend{}",
            why(t)
        ),
        (AlertKind::HostDown, true) => format!("🔴 {host}: 워커 {count}개 다운 ({})", names(t)),
        (AlertKind::HostDown, false) => format!("🔴 {host}: {count} workers down ({})", names(t)),
        (AlertKind::HostRecovered, true) => {
            format!("🟢 {host}: 워커 {count}개 복구 ({})", names(t))
        }
        (AlertKind::HostRecovered, false) => {
            format!("🟢 {host}: {count} workers recovered ({})", names(t))
        }
        (AlertKind::Acknowledged, true) => format!("✅ [{name}] 확인됨{}", why(t)),
        (AlertKind::Acknowledged, false) => format!("✅ [{name}] acknowledged{}", why(t)),
        (AlertKind::StillOpen, true) => format!("🔁 [{name}] 아직 해결되지 않음, 확인 없음{}", why(t)),
        (AlertKind::StillOpen, false) => {
            format!("🔁 [{name}] still open, nobody acknowledged{}", why(t))
        }
        (AlertKind::Drift, true) => format!("🧬 [{name}] 실행 환경 불일치 (실제 ≠ 기대값){}", why(t)),
        (AlertKind::Drift, false) => format!("🧬 [{name}] runtime drift (actual ≠ expected){}", why(t)),
        (AlertKind::DriftCleared, true) => format!("🧬 [{name}] 실행 환경 일치"),
        (AlertKind::DriftCleared, false) => format!("🧬 [{name}] runs what is expected again"),
        (AlertKind::RedisBack, true) => "✅ Redis 연결 복구".to_owned(),
        (AlertKind::RedisBack, false) => "✅ pulseboard reaches Redis again".to_owned(),
    };
    match &t.context {
        // A host's summary says it all in one line.
        Some(_) if matches!(t.kind, AlertKind::HostDown | AlertKind::HostRecovered) => head,
        Some(c) => format!("{head}\n{}", context_line(c, ko)),
        None => head,
    }
}

/// Words `alert` again in `language`: a follow-up from its structure, any other when its text
/// is what its kind says in either language (an alert with words of its own keeps them).
pub fn reword(alert: &mut Alert, language: Language) {
    if let Some(f) = &alert.follow_up {
        let quoted = quoted_line(&f.quotes, alert.context.as_ref(), language);
        alert.text = follow_up_text(f, &quoted, language);
        return;
    }
    let t = Transition {
        kind: alert.kind,
        worker: alert.worker.clone(),
        count: alert.count,
        context: alert.context.clone(),
    };
    let ours = [Language::Korean, Language::English]
        .into_iter()
        .any(|l| render(&t, l) == alert.text);
    if ours {
        alert.text = render(&t, language);
    }
}

/// The first line of what the alert `q` (with `context`) said, in `language`.
pub fn quoted_line(q: &Quoted, context: Option<&WorkerContext>, language: Language) -> String {
    let t = Transition {
        kind: q.kind,
        worker: q.worker.clone(),
        count: q.count,
        context: context.cloned(),
    };
    let text = render(&t, language);
    text.lines().next().unwrap_or_default().to_owned()
}

/// A follow-up's words: who acknowledged and how, or how long nobody has, then the alert it
/// quotes (`quoted`, already in `language`).
pub fn follow_up_text(f: &FollowUp, quoted: &str, language: Language) -> String {
    let en = language == Language::English;
    if let Some(open_s) = f.open_s {
        let (n, unit_en, unit_ko) = match open_s {
            s if s < 120 => (s, "s", "초"),
            s if s < 7200 => (s / 60, "min", "분"),
            s => (s / 3600, "h", "시간"),
        };
        return if en {
            format!("🔁 Still open after {n} {unit_en}, nobody acknowledged: {quoted}")
        } else {
            format!("🔁 {n}{unit_ko} 동안 아무도 확인하지 않음: {quoted}")
        };
    }
    let how = match (f.via.unwrap_or(AckVia::Api), f.silenced, en) {
        (AckVia::Telegram, false, true) => "via Telegram",
        (AckVia::Telegram, true, true) => "via Telegram, silenced for 1 h",
        (AckVia::Api, _, true) => "via the admin API",
        (AckVia::Telegram, false, false) => "텔레그램",
        (AckVia::Telegram, true, false) => "텔레그램, 1시간 무음",
        (AckVia::Api, _, false) => "관리 API",
    };
    let by = f.by.as_deref().unwrap_or("?");
    if en {
        format!("✅ Acknowledged by {by} {how}: {quoted}")
    } else {
        format!("✅ {by} 확인 ({how}): {quoted}")
    }
}

/// A host's summary says the host itself is the likely cause when its agent stopped beating too
/// (a dead agent cannot restart anything either).
pub fn name_the_cause(o: &mut Outgoing, agents: &[HostAgent], language: Language) {
    let t = &o.transition;
    let host = t.context.as_ref().and_then(|c| c.host.as_deref());
    let agent_down = agents
        .iter()
        .any(|a| Some(a.host.as_str()) == host && !a.alive);
    if t.kind != AlertKind::HostDown || !agent_down {
        return;
    }
    let cause = match language {
        Language::Korean => "호스트 에이전트도 응답 없음: 호스트 자체(전원, 네트워크)가 원인일 가능성이 큼",
        Language::English => "its host agent stopped beating too: the host itself (power, network) is the likely cause",
    };
    o.text = Some(format!("{}\n{cause}", render(t, language)));
}

/// A host summary's workers, as its context's reason lists them.
fn names(t: &Transition) -> &str {
    t.context
        .as_ref()
        .and_then(|c| c.reason.as_deref())
        .unwrap_or("")
}

/// ": <reason>" when the worker's lifecycle gave one.
fn why(t: &Transition) -> String {
    t.context
        .as_ref()
        .and_then(|c| c.reason.as_deref())
        .map_or_else(String::new, |r| format!(": {r}"))
}

fn alive(t: &Transition) -> bool {
    t.context.as_ref().is_some_and(|c| c.alive)
}

fn context_line(c: &WorkerContext, ko: bool) -> String {
    let host = c.host.as_deref().unwrap_or("?");
    match (ko, c.last_beat_age_s) {
        (true, Some(age)) => format!(
            "마지막 하트비트 {age}초 전 · 대기 {} · 처리 중 {} · 실패 {} · 호스트 {host}",
            c.queue_depth, c.processing, c.dead_letter
        ),
        (true, None) => format!(
            "하트비트 기록 없음 · 대기 {} · 처리 중 {} · 실패 {} · 호스트 {host}",
            c.queue_depth, c.processing, c.dead_letter
        ),
        (false, Some(age)) => format!(
            "last beat {age}s ago · queued {} · in flight {} · dead letters {} · host {host}",
            c.queue_depth, c.processing, c.dead_letter
        ),
        (false, None) => format!(
            "never beat · queued {} · in flight {} · dead letters {} · host {host}",
            c.queue_depth, c.processing, c.dead_letter
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transition(kind: AlertKind, count: Option<u64>) -> Transition {
        Transition {
            kind,
            worker: Some("image-render".into()),
            count,
            context: Some(WorkerContext {
                alive: false,
                last_beat_age_s: Some(47),
                queue_depth: 3,
                processing: 1,
                dead_letter: 2,
                host: Some("windows".into()),
                worker_kind: None,
                reason: None,
            }),
        }
    }

    #[test]
    fn the_seed_wording_first_then_the_context() {
        let down = render(&transition(AlertKind::Down, None), Language::Korean);
        assert_eq!(
            down,
            "🔴 [image-render] 워커 다운\n마지막 하트비트 47초 전 · 대기 3 · 처리 중 1 · 실패 2 · 호스트 windows"
        );
        let up = render(&transition(AlertKind::Recovered, None), Language::Korean);
        assert!(up.starts_with("🟢 [image-render] 워커 복구\n"), "{up}");
        let dl = render(
            &transition(AlertKind::DeadLetters, Some(2)),
            Language::Korean,
        );
        assert!(
            dl.starts_with("❌ [image-render] 실패 누적 2건 (dead-letter)\n"),
            "{dl}"
        );
    }

    #[test]
    fn english_by_config() {
        let down = render(&transition(AlertKind::Down, None), Language::English);
        assert_eq!(
            down,
            "🔴 [image-render] worker down\nlast beat 47s ago · queued 3 · in flight 1 · dead letters 2 · host windows"
        );
    }

    #[test]
    fn lifecycle_alerts_say_why() {
        let mut t = transition(AlertKind::Stalled, None);
        t.context.as_mut().unwrap().reason = Some("on job job-7".into());
        let text = render(&t, Language::English);
        assert!(
            text.starts_with("🧊 [image-render] worker stalled: on job job-7\n"),
            "{text}"
        );
        let text = render(&t, Language::Korean);
        assert!(
            text.starts_with("🧊 [image-render] 작업 멈춤: on job job-7\n"),
            "{text}"
        );
    }

    #[test]
    fn a_host_summary_names_its_dead_agent_as_the_likely_cause() {
        let mut t = transition(AlertKind::HostDown, Some(3));
        t.worker = None;
        let mut o = Outgoing::new(t, None);
        let agent = |alive| HostAgent {
            host: "windows".into(),
            alive,
            workers: vec![],
        };
        name_the_cause(&mut o, &[agent(true)], Language::English);
        assert_eq!(o.text, None, "an agent that beats says nothing");
        name_the_cause(&mut o, &[agent(false)], Language::English);
        let text = o.text.unwrap();
        assert!(text.starts_with("🔴 windows: 3 workers down"), "{text}");
        assert!(
            text.ends_with("the host itself (power, network) is the likely cause"),
            "{text}"
        );
    }

    #[test]
    fn an_alert_is_worded_again_for_its_reader_unless_it_has_words_of_its_own() {
        let t = transition(AlertKind::Down, None);
        let mut alert = Alert {
            id: "a".into(),
            at: String::new(),
            kind: t.kind,
            worker: t.worker.clone(),
            count: None,
            context: t.context.clone(),
            text: render(&t, Language::Korean),
            runbook: None,
            silenced: None,
            incident: None,
            grouped: false,
            follow_up: None,
        };
        reword(&mut alert, Language::English);
        assert!(
            alert.text.starts_with("🔴 [image-render] worker down\n"),
            "{}",
            alert.text
        );
        alert.text =
            "✅ Acknowledged by @bob (7) via Telegram: 🔴 [image-render] worker down".into();
        let own = alert.text.clone();
        reword(&mut alert, Language::Korean);
        assert_eq!(alert.text, own);
    }
}
