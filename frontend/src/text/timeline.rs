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
