//! The page's words in Korean and English. State labels themselves are the shared rules'.

use pulseboard_shared::Lang;

/// A fixed phrase (the names say which). Queue/DeadLetters/InFlight are short: they sit in
/// the 3D labels; the detail panel spells the fields out.
#[derive(Debug, Clone, Copy)]
#[allow(missing_docs)]
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
    };
    match lang {
        Lang::Ko => ko,
        Lang::En => en,
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
