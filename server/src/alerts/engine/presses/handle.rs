//! One press, however it came (`getUpdates` or the webhook): checked against
//! `allowed_user_ids`, acted on (acknowledge, silence, restart), answered, and its message edited.

use pulseboard_shared::ack::{valid_id, Ack, AckVia};

use super::super::Shared;
use super::Restarted;
use crate::aggregate::unix_now;
use crate::alerts::acknowledge::{acknowledge, open_page, Outcome};
use crate::alerts::telegram::{Bot, Button, Press};
use crate::config::alerts::Language;

/// Acts on one press and answers it.
pub(super) async fn handle(
    shared: &Shared,
    bot: &Bot<'_>,
    language: Language,
    workers: usize,
    press: Press,
) {
    let en = language == Language::English;
    let say = |en_text: &'static str, ko_text: &'static str| if en { en_text } else { ko_text };
    let who = press.from.name();
    if !bot.settings.allowed_user_ids.contains(&press.from.id) {
        tracing::warn!(user = %who, "alerts: a Telegram press from a user not in allowed_user_ids; nothing changes");
        answer(bot, &press, say("Not allowed", "권한 없음")).await;
        return;
    }
    let asked = press.data.as_deref().and_then(Button::parse);
    let Some((button, id)) = asked.filter(|(_, id)| valid_id(id)) else {
        answer(bot, &press, say("Unknown button", "알 수 없는 버튼")).await;
        return;
    };
    if button == Button::Restart {
        return restart(shared, bot, en, workers, &press, id).await;
    }
    let ack = Ack {
        id: id.to_owned(),
        by: who.clone(),
        via: AckVia::Telegram,
        at: unix_now(),
        silenced: button == Button::Mute,
    };
    let outcome = match acknowledge(&shared.store, workers, &ack).await {
        Ok(outcome) => outcome,
        Err(e) => {
            tracing::warn!(error = %e, "alerts: a Telegram press could not be stored");
            answer(
                bot,
                &press,
                say(
                    "Redis is unreachable: try again",
                    "Redis 연결 실패: 다시 시도하세요",
                ),
            )
            .await;
            return;
        }
    };
    let done = match (&outcome, ack.silenced) {
        (Outcome::Done(_), false) => say("Acknowledged", "확인함"),
        (Outcome::Done(_), true) => say("Acknowledged and silenced for 1 h", "확인, 1시간 무음"),
        (Outcome::Already(_), _) => say("Acknowledged already", "이미 확인됨"),
        (Outcome::NotOpen, _) => say("This alert is resolved already", "이미 해결된 알림"),
    };
    answer(bot, &press, done).await;
    let by = match &outcome {
        Outcome::Done(_) => who,
        Outcome::Already(first) => first.by.clone(),
        Outcome::NotOpen => return,
    };
    let Some(message) = &press.message else {
        return;
    };
    let note = match (en, ack.silenced && matches!(outcome, Outcome::Done(_))) {
        (true, false) => format!("✅ Acknowledged by {by}"),
        (true, true) => format!("✅ Acknowledged by {by} · 🔕 silenced for 1 h"),
        (false, false) => format!("✅ {by} 확인"),
        (false, true) => format!("✅ {by} 확인 · 🔕 1시간 무음"),
    };
    let text = format!("{}\n\n{note}", message.text.as_deref().unwrap_or(""));
    if let Err(e) = bot.edit(message, &text).await {
        tracing::warn!(error = %e.message, "alerts: could not edit the pressed Telegram message");
    }
}

/// Restarts the one worker of the open alert `id` through the admin API's path.
async fn restart(
    shared: &Shared,
    bot: &Bot<'_>,
    en: bool,
    workers: usize,
    press: &Press,
    id: &str,
) {
    let who = press.from.name();
    let page = match open_page(&shared.store, workers, id).await {
        Ok(page) => page,
        Err(e) => {
            tracing::warn!(error = %e, "alerts: a Telegram press could not be read against Redis");
            return answer(
                bot,
                press,
                if en {
                    "Redis is unreachable: try again"
                } else {
                    "Redis 연결 실패: 다시 시도하세요"
                },
            )
            .await;
        }
    };
    let (Some(restarter), Some(page)) = (&shared.restarter, page) else {
        return answer(
            bot,
            press,
            if en {
                "This alert is resolved already"
            } else {
                "이미 해결된 알림"
            },
        )
        .await;
    };
    let [worker] = page.workers.as_slice() else {
        return answer(
            bot,
            press,
            if en {
                "Restart one worker at a time"
            } else {
                "한 번에 한 워커만 재시작"
            },
        )
        .await;
    };
    let by = format!("{who} via Telegram");
    match restarter.restart(worker, &by).await {
        Restarted::Queued(command) => {
            tracing::info!(%worker, %by, %command, "restart asked from Telegram");
            answer(
                bot,
                press,
                if en {
                    "Restart asked"
                } else {
                    "재시작 요청함"
                },
            )
            .await;
            if let Some(message) = &press.message {
                let note = if en {
                    format!("🔄 Restart asked by {who}")
                } else {
                    format!("🔄 {who} 재시작 요청")
                };
                let text = format!("{}\n\n{note}", message.text.as_deref().unwrap_or(""));
                if let Err(e) = bot.edit(message, &text).await {
                    tracing::warn!(error = %e.message, "alerts: could not edit the pressed Telegram message");
                }
            }
        }
        Restarted::Refused(why) => {
            tracing::info!(%worker, %by, %why, "restart from Telegram refused");
            let why: String = why.chars().take(180).collect();
            answer(bot, press, &why).await;
        }
    }
}

async fn answer(bot: &Bot<'_>, press: &Press, text: &str) {
    if let Err(e) = bot.answer(&press.id, text).await {
        tracing::warn!(error = %e.message, "alerts: could not answer a Telegram press");
    }
}
