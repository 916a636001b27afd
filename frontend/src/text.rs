//! Every word of the page, in Korean and English: the one place a text is translated. State
//! labels themselves are the shared rules' (`state_label`). The page's language is shared with
//! every component by context ([`provide_lang`], [`lang`]). By concept: a worker's lifecycle in
//! [`lifecycle`], the recovery guard's words in [`recovery`], the admin API's answers in
//! [`admin`], the dead-letter section in [`dead_letters`], the event log in [`audit`] (the guard's records) and [`timeline`] (the rest), the
//! throughput strip in [`history`].

mod admin;
mod audit;
mod dead_letters;
mod history;
mod lifecycle;
mod recovery;
mod timeline;

use leptos::prelude::*;
use pulseboard_shared::{Condition, Lang};

pub use admin::*;
pub use audit::*;
pub use dead_letters::*;
pub use history::*;
pub use lifecycle::*;
pub use recovery::*;
pub use timeline::*;

/// A fixed phrase. Queue/DeadLetters/InFlight are short: they sit in the 3D labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)] // the names are the phrases
pub enum Text {
    Connecting,
    Live,
    Polling,
    Mock,
    Paused,
    View3d,
    View2d,
    NoWebgl,
    ContextLost,
    Reset,
    Close,
    Queue,
    DeadLetters,
    InFlight,
    Bus,
    NoHost,
    Unregistered,
    Alive,
    LastBeat,
    QueueDepth,
    Processing,
    DeadLetterList,
    DoneFailed,
    Yes,
    No,
    Alerts,
    NothingYet,
    /// The panel's throughput chart's title.
    Throughput,
    Runbook,
    RunbookSection,
    Acknowledge,
    Silences,
    NoSilences,
    EndSilence,
    SilenceAdd,
    Maintenance,
    SilenceName,
    SilenceReason,
    SilenceWhat,
    SilenceFor,
    MatchWorker,
    MatchHost,
    MatchKind,
    RedisLost,
    Workers,
    NeedAttention,
    AllClear,
    Search,
    Group,
    GroupNone,
    GroupHost,
    GroupKind,
    NoMatch,
    Fleet,
    Recovery,
    Attempts,
    GuardMode,
    LastAction,
    Recommended,
    BlockedBy,
    AdminToken,
    Send,
    Cancel,
    ForgetToken,
    TokenKept,
}

/// `text` in `lang`.
pub fn t(lang: Lang, text: Text) -> &'static str {
    let (ko, en) = match text {
        Text::Connecting => ("연결 중…", "connecting…"),
        Text::Live => ("실시간", "live"),
        Text::Polling => ("3초마다 조회", "polling every 3 s"),
        Text::Mock => ("모의 데이터", "mock data"),
        Text::Paused => ("일시 정지", "paused"),
        Text::View3d => ("3D 보기", "3D view"),
        Text::View2d => ("카드 보기", "card view"),
        Text::NoWebgl => (
            "이 브라우저는 WebGL2를 쓸 수 없어 카드로 보여 줍니다.",
            "This browser has no WebGL2, so the fleet is shown as cards.",
        ),
        Text::ContextLost => (
            "그래픽 컨텍스트를 잃어 카드로 보여 줍니다.",
            "The graphics context was lost, so the fleet is shown as cards.",
        ),
        Text::Reset => ("시점 초기화", "reset view"),
        Text::Close => ("닫기", "close"),
        Text::Queue => ("큐", "queue"),
        Text::DeadLetters => ("실패", "dlq"),
        Text::InFlight => ("처리", "run"),
        Text::Bus => ("Redis 큐 버스", "Redis queue bus"),
        Text::NoHost => ("(호스트 없음)", "(no host)"),
        Text::Unregistered => ("미등록", "unregistered"),
        Text::Alive => ("생존", "alive"),
        Text::LastBeat => ("마지막 신호", "last beat"),
        Text::QueueDepth => ("대기열", "queue"),
        Text::Processing => ("처리 중", "in flight"),
        Text::DeadLetterList => ("실패 보관", "dead letters"),
        Text::DoneFailed => ("완료 / 실패", "done / failed"),
        Text::Yes => ("예", "yes"),
        Text::No => ("아니요", "no"),
        Text::Alerts => ("경보 기록", "Alerts"),
        Text::NothingYet => ("아직 기록이 없습니다", "nothing yet"),
        Text::Throughput => ("처리량", "throughput"),
        Text::Runbook => (
            "런북: 이 경보에 할 일",
            "runbook: what to do about this alert",
        ),
        Text::RunbookSection => ("📖 런북: 할 일", "📖 runbook: what to do"),
        Text::Acknowledge => ("✅ 확인", "✅ acknowledge"),
        Text::Silences => ("알림 일시 중지", "Silences"),
        Text::NoSilences => ("일시 중지된 알림 없음", "no silences in force"),
        Text::EndSilence => ("끝내기", "end"),
        Text::SilenceAdd => ("🔕 일시 중지", "🔕 silence"),
        Text::Maintenance => (
            "점검 (자동 복구, 작업 회수도 보류)",
            "maintenance (hold recovery and rescue too)",
        ),
        Text::SilenceName => ("이름", "name"),
        Text::SilenceReason => ("이유", "reason"),
        Text::SilenceWhat => ("대상", "what"),
        Text::SilenceFor => ("기간", "for how long"),
        Text::MatchWorker => ("워커", "worker"),
        Text::MatchHost => ("호스트", "host"),
        Text::MatchKind => ("종류", "kind"),
        Text::Workers => ("워커", "workers"),
        Text::NeedAttention => ("확인 필요", "need attention"),
        Text::AllClear => ("이상 없음", "all clear"),
        Text::Search => ("이름으로 찾기", "find by name"),
        Text::Group => ("묶기", "group"),
        Text::GroupNone => ("묶지 않음", "no groups"),
        Text::GroupHost => ("호스트별", "by host"),
        Text::GroupKind => ("종류별", "by kind"),
        Text::NoMatch => ("맞는 워커가 없습니다", "no worker matches"),
        Text::Fleet => ("워커 현황", "fleet"),
        Text::Recovery => ("복구", "Recovery"),
        Text::Attempts => ("시도", "attempts"),
        Text::GuardMode => ("방식", "mode"),
        Text::LastAction => ("마지막 조치", "last action"),
        Text::Recommended => ("권장 조치", "recommended"),
        Text::BlockedBy => ("막힌 이유", "blocked by"),
        Text::AdminToken => ("관리자 토큰", "admin token"),
        Text::Send => ("보내기", "send"),
        Text::Cancel => ("취소", "cancel"),
        Text::ForgetToken => ("토큰 지우기", "forget the token"),
        Text::TokenKept => (
            "이 탭에만 보관되며 탭을 닫으면 사라집니다",
            "kept in this tab only, gone when it closes",
        ),
        // The one bilingual phrase, as the spec gives it: whoever is looking must understand
        // at once that the view, not the fleet, is broken.
        Text::RedisLost => (
            "집계 서버 연결 끊김 / aggregator lost Redis",
            "집계 서버 연결 끊김 / aggregator lost Redis",
        ),
    };
    match lang {
        Lang::Ko => ko,
        Lang::En => en,
    }
}

/// A contract-2 field's name in the detail panel: the key itself in English (it is what the API
/// and the alerts call it), in words in Korean.
pub fn field_name(lang: Lang, key: &'static str) -> &'static str {
    if lang == Lang::En {
        return key;
    }
    match key {
        "name" => "이름",
        "kind" => "종류",
        "host" => "호스트",
        "registered" => "등록됨",
        "alive" => "생존",
        "state" => "상태 값",
        "label" => "표시",
        "link" => "연결",
        "lifecycle" => "생애 주기",
        "reason" => "이유",
        "checks" => "점검",
        "current_job" => "현재 작업",
        "pid" => "프로세스 ID",
        "version" => "버전",
        "started_at" => "시작 시각",
        "exit_code" => "종료 코드",
        "last_beat_age_s" => "마지막 신호(초 전)",
        "queue_depth" => "대기열",
        "dead_letter" => "실패 보관",
        "processing" => "처리 중",
        "jobs_done" => "완료",
        "jobs_failed" => "실패",
        "last_job_at" => "마지막 작업",
        "error" => "오류",
        other => other,
    }
}

/// "queue 3 · in flight 1 · dead letters 0": a worker's lists, or the fleet's totals.
pub fn queue_figures(lang: Lang, queue: u64, in_flight: u64, dead_letters: u64) -> String {
    format!(
        "{} {queue} · {} {in_flight} · {} {dead_letters}",
        t(lang, Text::QueueDepth),
        t(lang, Text::Processing),
        t(lang, Text::DeadLetterList),
    )
}

/// A condition's name, as the summary counts it.
pub fn condition_name(lang: Lang, condition: Condition) -> &'static str {
    use Condition as C;
    let (ko, en) = match condition {
        C::Down => ("다운", "down"),
        C::Failed => ("시작 실패", "failed"),
        C::Stalled => ("멈춤", "stalled"),
        C::Unhealthy => ("점검 실패", "unhealthy"),
        C::Degraded => ("실패 누적", "degraded"),
        C::Drift => ("실행 불일치", "drift"),
        C::Late => ("신호 지연", "late"),
        C::Starting => ("시작 중", "starting"),
        C::Draining => ("종료 준비", "draining"),
        C::Paused => ("일시 정지", "paused"),
        C::Stopped => ("정상 종료", "stopped"),
        C::Busy => ("처리 중", "busy"),
        C::Healthy => ("정상", "healthy"),
    };
    match lang {
        Lang::Ko => ko,
        Lang::En => en,
    }
}

/// A lifecycle state's name (the detail panel's `lifecycle` row).
pub fn lifecycle_name(lang: Lang, state: pulseboard_shared::LifecycleState) -> &'static str {
    use pulseboard_shared::LifecycleState as S;
    let (ko, en) = match state {
        S::Starting => ("시작 중", "starting"),
        S::Ready => ("준비됨", "ready"),
        S::Unhealthy => ("이상", "unhealthy"),
        S::Late => ("신호 지연", "late"),
        S::Stalled => ("멈춤", "stalled"),
        S::Draining => ("종료 준비", "draining"),
        S::Stopped => ("정상 종료", "stopped"),
        S::Failed => ("시작 실패", "failed"),
        S::Down => ("다운", "down"),
    };
    match lang {
        Lang::Ko => ko,
        Lang::En => en,
    }
}

/// A link's status (the detail panel's `link` row).
pub fn link_name(lang: Lang, status: pulseboard_shared::LinkStatus) -> &'static str {
    use pulseboard_shared::LinkStatus as S;
    match (lang, status) {
        (Lang::Ko, S::Healthy) => "정상",
        (Lang::Ko, S::Paused) => "일시 정지",
        (Lang::Ko, S::Down) => "끊김",
        (Lang::Ko, S::Degraded) => "실패 누적",
        (Lang::En, s) => s.as_str(),
    }
}

/// A kind of worker, as a group's heading.
pub fn kind_name(lang: Lang, kind: &str) -> String {
    let ko = match kind {
        "render" => "렌더",
        "watcher" => "감시",
        "trader" => "트레이더",
        "unknown" => "알 수 없음",
        other => return other.to_owned(),
    };
    match lang {
        Lang::Ko => ko.to_owned(),
        Lang::En => kind.to_owned(),
    }
}

/// "+38 more": the workers a folded host holds but does not draw.
pub fn folded(lang: Lang, n: usize) -> String {
    match lang {
        Lang::Ko => format!("외 {n}대 ▸"),
        Lang::En => format!("+{n} more ▸"),
    }
}

/// "12 of 500 workers": a heading's count, with its problems.
pub fn group_count(lang: Lang, count: usize, problems: usize) -> String {
    match (lang, problems) {
        (Lang::Ko, 0) => format!("{count}대"),
        (Lang::Ko, p) => format!("{count}대 · 확인 필요 {p}"),
        (Lang::En, 0) => format!("{count}"),
        (Lang::En, p) => format!("{count} · {p} need attention"),
    }
}

/// "yes" or "no".
pub fn yes_no(lang: Lang, value: bool) -> &'static str {
    t(lang, if value { Text::Yes } else { Text::No })
}

/// A duration, short: "42 s", "4 min", "2 h".
pub fn duration(lang: Lang, s: u64) -> String {
    match (lang, s) {
        (Lang::Ko, s) if s < 120 => format!("{s}초"),
        (Lang::Ko, s) if s < 2 * 3600 => format!("{}분", s / 60),
        (Lang::Ko, s) => format!("{}시간", s / 3600),
        (Lang::En, s) if s < 120 => format!("{s} s"),
        (Lang::En, s) if s < 2 * 3600 => format!("{} min", s / 60),
        (Lang::En, s) => format!("{} h", s / 3600),
    }
}

/// "3 s ago", "4 min ago", or "never" when no heartbeat was ever seen.
pub fn ago(lang: Lang, age_s: Option<u64>) -> String {
    match (lang, age_s) {
        (Lang::Ko, None) => "기록 없음".into(),
        (Lang::En, None) => "never".into(),
        (Lang::Ko, Some(s)) => format!("{} 전", duration(lang, s)),
        (Lang::En, Some(s)) => format!("{} ago", duration(lang, s)),
    }
}

/// "last beat 47 s ago", or that none was ever seen.
pub fn last_beat(lang: Lang, age_s: Option<u64>) -> String {
    match (lang, age_s) {
        (Lang::Ko, Some(s)) => format!("마지막 신호 {s}초 전"),
        (Lang::Ko, None) => "신호 기록 없음".into(),
        (Lang::En, Some(s)) => format!("last beat {s} s ago"),
        (Lang::En, None) => "never seen".into(),
    }
}

/// "reconnecting, last update 12 s ago".
pub fn reconnecting(lang: Lang, since_s: u64) -> String {
    match lang {
        Lang::Ko => format!("다시 연결 중, 마지막 갱신 {since_s}초 전"),
        Lang::En => format!("reconnecting, last update {since_s} s ago"),
    }
}

/// Shares the page's language with every component below.
pub fn provide_lang(lang: ReadSignal<Lang>) {
    provide_context(lang);
}

/// The page's language, as provided by the app.
pub fn lang() -> ReadSignal<Lang> {
    expect_context()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_phrase_differs_by_language_or_is_a_name() {
        use Text::*;
        for text in [
            Connecting,
            Live,
            Polling,
            Mock,
            Paused,
            View3d,
            View2d,
            NoWebgl,
            ContextLost,
            Reset,
            Close,
            Queue,
            DeadLetters,
            InFlight,
            Bus,
            NoHost,
            Unregistered,
            Alive,
            LastBeat,
            QueueDepth,
            Processing,
            DeadLetterList,
            DoneFailed,
            Yes,
            No,
            Alerts,
            NothingYet,
            Throughput,
            Runbook,
            RunbookSection,
            Acknowledge,
            Silences,
            NoSilences,
            EndSilence,
            SilenceAdd,
            Maintenance,
            SilenceName,
            SilenceReason,
            SilenceWhat,
            SilenceFor,
            MatchWorker,
            MatchHost,
            MatchKind,
            Workers,
            NeedAttention,
            AllClear,
            Search,
            Group,
            GroupNone,
            GroupHost,
            GroupKind,
            NoMatch,
            Fleet,
            Recovery,
            Attempts,
            GuardMode,
            LastAction,
            Recommended,
            BlockedBy,
            AdminToken,
            Send,
            Cancel,
            ForgetToken,
            TokenKept,
        ] {
            assert_ne!(t(Lang::Ko, text), t(Lang::En, text), "{text:?}");
        }
    }

    #[test]
    fn conditions_and_kinds_are_named_in_both_languages() {
        for c in Condition::ALL {
            assert_ne!(
                condition_name(Lang::Ko, c),
                condition_name(Lang::En, c),
                "{c:?}"
            );
            assert_eq!(condition_name(Lang::En, c), c.as_str());
        }
        use pulseboard_shared::WorkerKind as K;
        for k in [K::Render, K::Watcher, K::Trader, K::Unknown] {
            assert_ne!(
                kind_name(Lang::Ko, k.as_str()),
                kind_name(Lang::En, k.as_str())
            );
        }
        assert_eq!(folded(Lang::En, 38), "+38 more ▸");
        assert_eq!(group_count(Lang::En, 40, 2), "40 · 2 need attention");
        assert_eq!(group_count(Lang::Ko, 40, 0), "40대");
    }

    #[test]
    fn ages_follow_the_language() {
        assert_eq!(ago(Lang::En, Some(180)), "3 min ago");
        assert_eq!(ago(Lang::Ko, Some(180)), "3분 전");
        assert_eq!(yes_no(Lang::Ko, true), "예");
    }
}
