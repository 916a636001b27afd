//! A worker's lifecycle in words: what its state adds to its label, and why it is in it, from
//! the judgement's structure (`reason_code`), never the server's English sentence.

use pulseboard_shared::lifecycle::{Lifecycle, Reason};
use pulseboard_shared::parts::PartStatus;
use pulseboard_shared::{Lang, LifecycleState};

use super::{ago, duration};

/// What a lifecycle state adds to a worker's label, with its age counted up to now: "stopped
/// 3 min ago", "⏰ 32 s", "stalled 12 min on job X". `None` for states that need no words.
pub fn lifecycle_note(lang: Lang, l: &Lifecycle, age_s: Option<u64>) -> Option<String> {
    use LifecycleState as L;
    let age = age_s.map(|s| duration(lang, s));
    let reason = lifecycle_reason(lang, l);
    let why = reason
        .as_ref()
        .map(|r| format!(" · {r}"))
        .unwrap_or_default();
    Some(match (lang, l.state) {
        (_, L::Ready) => return None,
        (Lang::Ko, L::Stopped) => format!("정상 종료 {}", ago(lang, age_s)),
        (Lang::En, L::Stopped) => format!("stopped {}", ago(lang, age_s)),
        (_, L::Late) => format!("⏰ {}", age.unwrap_or_default()),
        (Lang::Ko, L::Stalled) => format!("{} 동안 멈춤{why}", age.unwrap_or_default()),
        (Lang::En, L::Stalled) => format!("stalled {}{why}", age.unwrap_or_default()),
        (Lang::Ko, L::Starting) => format!("시작 중 {}", age.unwrap_or_default()),
        (Lang::En, L::Starting) => format!("starting for {}", age.unwrap_or_default()),
        (_, L::Unhealthy | L::Failed | L::Draining | L::Down) => reason?,
    })
}

/// Why `l` is in its state, in `lang`: from its structure, or (from a server that sends only
/// words) its English words as they are.
pub fn lifecycle_reason(lang: Lang, l: &Lifecycle) -> Option<String> {
    match &l.reason_code {
        Some(code) => Some(reason_words(lang, code)),
        None => l.reason.clone(),
    }
}

/// One part of a worker of several processes: its name and state, and why when it is not ready.
pub fn part_line(lang: Lang, p: &PartStatus) -> String {
    let state = super::lifecycle_name(lang, p.lifecycle.state);
    match lifecycle_reason(lang, &p.lifecycle) {
        Some(why) => format!("{} · {state} · {why}", p.name),
        None => format!("{} · {state}", p.name),
    }
}

/// A lifecycle reason in `lang`; a worker's own words are shown as it wrote them.
pub fn reason_words(lang: Lang, reason: &Reason) -> String {
    match (lang, reason) {
        (Lang::En, r) => r.words(),
        (Lang::Ko, Reason::Own { words }) => words.clone(),
        (Lang::Ko, Reason::Exited { code }) => format!("종료 코드 {code}"),
        (Lang::Ko, Reason::HeartbeatExpired) => "신호 만료".into(),
        (Lang::Ko, Reason::NeverSeen) => "신호 기록 없음".into(),
        (Lang::Ko, Reason::NotReady { after_s }) => format!("{after_s}초 안에 준비되지 않음"),
        (Lang::Ko, Reason::OnJob { job }) => format!("작업 {job}"),
        (Lang::Ko, Reason::Failing { checks, words }) => {
            let failing =
                (!checks.is_empty()).then(|| format!("실패한 점검: {}", checks.join(", ")));
            joined(words, failing)
        }
        (Lang::Ko, Reason::Part { part, state, why }) => {
            let state = super::lifecycle_name(Lang::Ko, *state);
            match why {
                Some(why) => format!("{part} 부분 {state}: {}", reason_words(Lang::Ko, why)),
                None => format!("{part} 부분 {state}"),
            }
        }
    }
}

fn joined(words: &Option<String>, failing: Option<String>) -> String {
    words
        .iter()
        .cloned()
        .chain(failing)
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hangul(text: &str) -> bool {
        text.chars().any(|c| ('가'..='힣').contains(&c))
    }

    #[test]
    fn every_reason_is_worded_in_both_languages() {
        for r in Reason::examples() {
            let (en, ko) = (reason_words(Lang::En, &r), reason_words(Lang::Ko, &r));
            assert!(!en.is_empty() && !ko.is_empty(), "{r:?}");
            assert_eq!(en, r.words(), "the page says what the API says");
            match r {
                Reason::Own { .. } => assert_eq!(ko, en, "a worker's own words stay"),
                _ => {
                    assert_ne!(ko, en, "{r:?}");
                    assert!(hangul(&ko), "{ko}");
                    assert!(!hangul(&en), "{en}");
                }
            }
        }
    }

    #[test]
    fn ages_and_lifecycle_notes_follow_the_language() {
        let at = |state, reason| Lifecycle::new(state, reason, None);
        let stopped = |l| lifecycle_note(l, &at(LifecycleState::Stopped, None), Some(180));
        assert_eq!(stopped(Lang::En).as_deref(), Some("stopped 3 min ago"));
        assert_eq!(stopped(Lang::Ko).as_deref(), Some("정상 종료 3분 전"));
        let on_job = || Some(Reason::OnJob { job: "j-7".into() });
        let stalled = at(LifecycleState::Stalled, on_job());
        assert_eq!(
            lifecycle_note(Lang::En, &stalled, Some(720)).as_deref(),
            Some("stalled 12 min · on job j-7")
        );
        assert_eq!(
            lifecycle_note(Lang::Ko, &stalled, Some(720)).as_deref(),
            Some("12분 동안 멈춤 · 작업 j-7")
        );
        let late = at(LifecycleState::Late, None);
        assert_eq!(
            lifecycle_note(Lang::En, &late, Some(32)).as_deref(),
            Some("⏰ 32 s")
        );
        let ready = at(LifecycleState::Ready, None);
        assert_eq!(lifecycle_note(Lang::En, &ready, Some(3)), None);
        let failing = Reason::Failing {
            checks: vec!["gpu".into(), "db".into()],
            words: Some("cuda lost".into()),
        };
        assert_eq!(
            reason_words(Lang::Ko, &failing),
            "cuda lost; 실패한 점검: gpu, db",
            "the worker's own words stay, the judgement's are translated"
        );
        let words_only = Lifecycle {
            reason_code: None,
            ..at(LifecycleState::Down, Some(Reason::HeartbeatExpired))
        };
        assert_eq!(
            lifecycle_reason(Lang::Ko, &words_only).as_deref(),
            Some("heartbeat expired"),
            "a server that sends only words is shown as it says it"
        );
    }
}
