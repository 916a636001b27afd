//! The event log's lines that are not the recovery guard's: commands and deliveries.

use pulseboard_shared::Lang;

/// An event-log line for a command: "⚙ restart asked of image-render by ops".
pub fn command_line(lang: Lang, action: &str, worker: &str, by: &str) -> String {
    let ko = match action {
        "quiet" => "작업 중단",
        "restart" => "재시작",
        "stop" => "정지",
        other => other,
    };
    match lang {
        Lang::Ko => format!("⚙ {worker}: {ko} 요청 ({by})"),
        Lang::En => format!("⚙ {action} asked of {worker} by {by}"),
    }
}

/// An event-log line that is not an alert's own text: a delivery's outcome.
pub fn delivery(lang: Lang, kind: &str, sink: &str, attempt: u32, error: &str) -> String {
    match (kind, lang) {
        ("delivered", Lang::Ko) => format!("→ {sink} 전송됨"),
        ("delivered", Lang::En) => format!("→ {sink} delivered"),
        ("failed", Lang::Ko) => format!("→ {sink} 실패 ({attempt}회째): {error}"),
        ("failed", Lang::En) => format!("→ {sink} failed (attempt {attempt}): {error}"),
        ("gave_up", Lang::Ko) => format!("→ {sink} 포기: {error}"),
        ("gave_up", Lang::En) => format!("→ {sink} gave up: {error}"),
        (other, _) => other.to_owned(),
    }
}

/// The label that opens a folded incident: "+9 more".
pub fn folded_incident(lang: Lang, n: usize) -> String {
    match lang {
        Lang::Ko => format!("+{n}건 더"),
        Lang::En => format!("+{n} more"),
    }
}

/// What a silence covers: `worker music-render`, `host gpu-01`, `kind render`, in `lang`.
pub fn silence_target(lang: Lang, what: &str, value: &str) -> String {
    let label = match what {
        "host" => super::Text::MatchHost,
        "kind" => super::Text::MatchKind,
        _ => super::Text::MatchWorker,
    };
    format!("{} {value}", super::t(lang, label))
}

/// A silence over a worker, in words: who holds its alerts, until when (`until`, local time),
/// and why.
pub fn silence_line(
    lang: Lang,
    s: &pulseboard_shared::silence::SilenceMark,
    until: &str,
) -> String {
    let (by, why) = (&s.by, &s.reason);
    match (lang, s.maintenance) {
        (Lang::Ko, true) => {
            format!("🛠 점검 중 ({until}까지, {by}): {why}. 알림, 자동 복구, 작업 회수 보류")
        }
        (Lang::Ko, false) => format!("🔕 알림 일시 중지 ({until}까지, {by}): {why}"),
        (Lang::En, true) => {
            format!("🛠 maintenance until {until} ({by}): {why}. Alerts, recovery and rescue held")
        }
        (Lang::En, false) => format!("🔕 alerts silenced until {until} ({by}): {why}"),
    }
}

/// The panel's line for one drifted field: what it runs and what is expected.
pub fn drift_line(lang: Lang, d: &pulseboard_shared::drift::Drift) -> String {
    use pulseboard_shared::drift::DriftField as F;
    let (now, want) = (&d.actual, &d.expected);
    let field = match (lang, d.field) {
        (Lang::Ko, F::Version) => "버전",
        (Lang::Ko, F::Executable) => "실행 파일",
        (Lang::Ko, F::ConfigHash) => "설정 해시",
        (Lang::En, field) => field.as_str(),
    };
    match (lang, d.by_majority) {
        (Lang::Ko, false) => format!("🧬 {field}: {now} (설정값 {want})"),
        (Lang::Ko, true) => format!("🧬 {field}: {now} (같은 종류 다수 {want})"),
        (Lang::En, false) => format!("🧬 {field}: {now} (expected {want})"),
        (Lang::En, true) => format!("🧬 {field}: {now} (most of its kind run {want})"),
    }
}
