//! Alerts that want a person: a worker down, dead at start, failed to start, unhealthy or
//! stalled, a host down. Each sent one opens a page (its id is the alert's, or its host
//! incident's), which stays open while what it said is still true. An open page nobody has
//! acknowledged is sent again every `[alerts] renotify_after_s` (`still_open`); an
//! acknowledgement (a Telegram button, the admin API) stops that and is announced once
//! (`acknowledged`). A recovery carries the page's id, so a webhook receiver can thread firing,
//! acknowledged and resolved. Pure; the pages live in the alerts' memory, so a restart or
//! another sender neither repeats nor forgets them.

use std::collections::BTreeMap;

use pulseboard_shared::ack::{Ack, AckVia};
use pulseboard_shared::silence::{covering, Silence};
use serde::{Deserialize, Serialize};

use super::alert::{Alert, AlertKind, FollowUp, Quoted, Transition, WorkerContext};
use super::incidents::Outgoing;
use super::messages::{follow_up_text, quoted_line};
use super::transitions::WorkerMemory;
use crate::config::alerts::Language;

/// The most pages kept open; beyond it the oldest are forgotten (no more re-sends for them).
const MAX_PAGES: usize = 500;
/// The longest first line of an alert a page keeps to quote.
const MAX_TEXT_CHARS: usize = 300;

/// An open alert that wants a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    /// The alert's id, or its host incident's.
    pub id: String,
    /// What it said: `down` (a host's too), `dead_at_start`, `failed_to_start`, `unhealthy`,
    /// `stalled`.
    pub kind: AlertKind,
    /// The host, for a host's incident.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The workers it is about; open while one of them is still in that state.
    pub workers: Vec<String>,
    /// The alert's first line as sent, quoted by follow-ups when `quotes` is unknown (a page
    /// opened before follow-ups were kept as structure).
    pub text: String,
    /// The alert its follow-ups quote, worded in each reader's language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quotes: Option<Quoted>,
    /// When it was last sent (ms).
    pub sent_ms: i64,
    /// The alert's context (its follow-ups carry it, so routes treat them alike).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<WorkerContext>,
    /// Who acknowledged it, as announced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acked: Option<String>,
}

/// Notes `alert` (raised at `now`, about `members` when it sums up a host's incident): a sent
/// alert that wants a person opens a page (or widens its host incident's) and carries its id; a
/// recovery carries the id of the page it resolves.
pub fn note(pages: &mut Vec<Page>, alert: &mut Alert, members: &[String], now: i64) {
    let worker = alert.worker.clone();
    if matches!(alert.kind, AlertKind::Recovered | AlertKind::Settled) {
        if alert.incident.is_none() {
            let down = |p: &&Page| {
                p.kind == AlertKind::Down && worker.as_ref().is_some_and(|w| p.workers.contains(w))
            };
            alert.incident = pages.iter().find(down).map(|p| p.id.clone());
        }
        return;
    }
    if !alert.is_sent() || !alert.kind.wants_a_person() || alert.kind == AlertKind::StillOpen {
        return;
    }
    if alert.incident.is_none() {
        alert.incident = Some(alert.id.clone());
    }
    let id = alert.incident.clone().unwrap_or_default();
    let text: String = alert
        .text
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(MAX_TEXT_CHARS)
        .collect();
    let host = alert.context.as_ref().and_then(|c| c.host.clone());
    let quotes = Some(Quoted {
        kind: alert.kind,
        worker: worker.clone(),
        count: alert.count,
    });
    match pages.iter_mut().find(|p| p.id == id) {
        // A host's summary: the page its first alert opened now speaks for all of them.
        Some(page) => {
            for m in members {
                if !page.workers.contains(m) {
                    page.workers.push(m.clone());
                }
            }
            page.host = host;
            page.text = text;
            page.quotes = quotes;
            page.context.clone_from(&alert.context);
            page.sent_ms = now;
        }
        None => {
            pages.push(Page {
                id,
                kind: if alert.kind == AlertKind::HostDown {
                    AlertKind::Down
                } else {
                    alert.kind
                },
                host: None,
                workers: worker.into_iter().collect(),
                text,
                quotes,
                sent_ms: now,
                context: alert.context.clone(),
                acked: None,
            });
            if pages.len() > MAX_PAGES {
                pages.remove(0);
            }
        }
    }
}

/// A worker's kind and host.
pub type Whereabouts = (String, Option<String>);

/// What [`follow`] needs to know besides the pages.
pub struct Around<'a> {
    /// The judge's memory of each worker.
    pub workers: &'a BTreeMap<String, WorkerMemory>,
    /// The acknowledgements read with the snapshot.
    pub acks: &'a [Ack],
    /// The silences read with it.
    pub silences: &'a [Silence],
    /// Each worker's kind and host, to match silences.
    pub whereabouts: &'a dyn Fn(&str) -> Option<Whereabouts>,
    /// Now, ms.
    pub now: i64,
    /// `[alerts] renotify_after_s` in ms (0: never).
    pub renotify_ms: i64,
    /// The messages' language.
    pub language: Language,
}

/// Closes the pages no longer true, announces new acknowledgements, and sends again the ones
/// due: the follow-ups, ready for the outbox.
pub fn follow(pages: &mut Vec<Page>, a: &Around<'_>) -> Vec<Outgoing> {
    pages.retain(|p| still_true(p, a.workers));
    let mut out = Vec::new();
    for page in pages.iter_mut().filter(|p| p.acked.is_none()) {
        if let Some(ack) = a.acks.iter().find(|ack| ack.id == page.id) {
            page.acked = Some(ack.by.clone());
            let said = Said {
                by: Some(ack.by.clone()),
                via: Some(ack.via),
                silenced: ack.silenced,
                open_s: None,
            };
            out.push(follow_up(page, AlertKind::Acknowledged, said, a.language));
            continue;
        }
        let due = a.renotify_ms > 0 && a.now.saturating_sub(page.sent_ms) >= a.renotify_ms;
        if due && !silenced(page, a) {
            let open_s = (a.now.saturating_sub(page.sent_ms) / 1000).max(0) as u64;
            page.sent_ms = a.now;
            let said = Said {
                open_s: Some(open_s),
                ..Said::default()
            };
            out.push(follow_up(page, AlertKind::StillOpen, said, a.language));
        }
    }
    out
}

/// Whether what `page` said is still true of one of its workers.
fn still_true(page: &Page, workers: &BTreeMap<String, WorkerMemory>) -> bool {
    page.workers.iter().any(|w| {
        workers.get(w).is_some_and(|m| match page.kind {
            AlertKind::Down | AlertKind::DeadAtStart => m.alive == Some(false) && !m.stopped,
            AlertKind::CircuitOpen => m.circuit_open,
            kind => m.problem == Some(kind),
        })
    })
}

/// Whether a silence covers every worker of `page` still in that state (then nobody is owed a
/// reminder).
fn silenced(page: &Page, a: &Around<'_>) -> bool {
    let unix = (a.now / 1000).max(0) as u64;
    page.workers.iter().all(|w| match (a.whereabouts)(w) {
        Some((kind, host)) => covering(a.silences, unix, (w, &kind, host.as_deref())).is_some(),
        None => true,
    })
}

/// What a follow-up says besides the alert it quotes.
#[derive(Default)]
struct Said {
    by: Option<String>,
    via: Option<AckVia>,
    silenced: bool,
    open_s: Option<u64>,
}

/// The follow-up of `kind` to `page`, kept as structure (worded in `language` for the sinks) when
/// the page knows the alert it quotes.
fn follow_up(page: &Page, kind: AlertKind, said: Said, language: Language) -> Outgoing {
    let mut o = Outgoing::new(
        Transition {
            kind,
            worker: (page.workers.len() == 1).then(|| page.workers[0].clone()),
            count: Some(page.workers.len() as u64),
            context: page.context.clone(),
        },
        None,
    );
    o.incident = Some(page.id.clone());
    let quoted = match &page.quotes {
        Some(q) => quoted_line(q, page.context.as_ref(), language),
        None => page.text.clone(),
    };
    let f = FollowUp {
        quotes: page.quotes.clone().unwrap_or(Quoted {
            kind: page.kind,
            worker: None,
            count: None,
        }),
        by: said.by,
        via: said.via,
        silenced: said.silenced,
        open_s: said.open_s,
    };
    o.text = Some(follow_up_text(&f, &quoted, language));
    o.follow_up = page.quotes.is_some().then_some(f);
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(kind: AlertKind, worker: &str) -> Alert {
        Alert {
            id: format!("a-{worker}-{kind:?}"),
            at: String::new(),
            kind,
            worker: Some(worker.into()),
            count: None,
            context: None,
            text: format!("🔴 [{worker}] worker down\nlast beat 46s ago"),
            runbook: None,
            silenced: None,
            incident: None,
            grouped: false,
            follow_up: None,
        }
    }

    fn down(alive: bool) -> WorkerMemory {
        WorkerMemory {
            alive: Some(alive),
            ..WorkerMemory::default()
        }
    }

    fn around<'a>(
        workers: &'a BTreeMap<String, WorkerMemory>,
        acks: &'a [Ack],
        silences: &'a [Silence],
        now: i64,
    ) -> Around<'a> {
        Around {
            workers,
            acks,
            silences,
            whereabouts: &|_| Some(("render".into(), Some("gpu-01".into()))),
            now,
            renotify_ms: 60_000,
            language: Language::English,
        }
    }

    #[test]
    fn an_unacknowledged_down_is_sent_again_until_it_recovers_and_its_recovery_threads() {
        let mut pages = Vec::new();
        let mut a = alert(AlertKind::Down, "r0");
        note(&mut pages, &mut a, &[], 0);
        assert_eq!(
            a.incident.as_deref(),
            Some("a-r0-Down"),
            "it names its page"
        );
        let mut workers = BTreeMap::from([("r0".to_owned(), down(false))]);
        assert!(follow(&mut pages, &around(&workers, &[], &[], 59_999)).is_empty());
        let again = follow(&mut pages, &around(&workers, &[], &[], 60_000));
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].transition.kind, AlertKind::StillOpen);
        assert_eq!(again[0].incident.as_deref(), Some("a-r0-Down"));
        assert_eq!(
            again[0].text.as_deref(),
            Some("🔁 Still open after 60 s, nobody acknowledged: 🔴 [r0] worker down")
        );
        assert!(
            follow(&mut pages, &around(&workers, &[], &[], 61_000)).is_empty(),
            "not before another period"
        );
        let mut back = alert(AlertKind::Recovered, "r0");
        note(&mut pages, &mut back, &[], 70_000);
        assert_eq!(
            back.incident.as_deref(),
            Some("a-r0-Down"),
            "resolved threads to it"
        );
        workers.insert("r0".into(), down(true));
        assert!(follow(&mut pages, &around(&workers, &[], &[], 200_000)).is_empty());
        assert!(pages.is_empty(), "closed once untrue");
    }

    #[test]
    fn an_acknowledged_page_is_announced_once_and_never_sent_again() {
        let mut pages = Vec::new();
        note(&mut pages, &mut alert(AlertKind::Down, "r0"), &[], 0);
        let workers = BTreeMap::from([("r0".to_owned(), down(false))]);
        let ack = Ack {
            id: "a-r0-Down".into(),
            by: "@bob (42)".into(),
            via: AckVia::Telegram,
            at: 10,
            silenced: false,
        };
        let acks = [ack];
        let out = follow(&mut pages, &around(&workers, &acks, &[], 10_000));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].transition.kind, AlertKind::Acknowledged);
        assert_eq!(
            out[0].text.as_deref(),
            Some("✅ Acknowledged by @bob (42) via Telegram: 🔴 [r0] worker down")
        );
        // Kept as structure, so the event log words it in a Korean reader's language too.
        let mut logged = alert(AlertKind::Acknowledged, "r0");
        logged.text = out[0].text.clone().unwrap();
        logged.follow_up = out[0].follow_up.clone();
        crate::alerts::messages::reword(&mut logged, Language::Korean);
        assert_eq!(
            logged.text,
            "✅ @bob (42) 확인 (텔레그램): 🔴 [r0] 워커 다운"
        );
        assert!(follow(&mut pages, &around(&workers, &acks, &[], 999_000)).is_empty());
    }

    #[test]
    fn a_host_summary_widens_its_first_alerts_page_and_a_silence_holds_the_reminder() {
        let mut pages = Vec::new();
        let mut first = alert(AlertKind::Down, "r0");
        first.incident = Some("i-1".into());
        note(&mut pages, &mut first, &[], 0);
        let mut grouped = alert(AlertKind::Down, "r1");
        grouped.grouped = true;
        note(&mut pages, &mut grouped, &[], 1);
        let mut summary = alert(AlertKind::HostDown, "r0");
        summary.worker = None;
        summary.incident = Some("i-1".into());
        note(
            &mut pages,
            &mut summary,
            &["r0".into(), "r1".into()],
            30_000,
        );
        assert_eq!(
            pages.len(),
            1,
            "the grouped alert opened nothing of its own"
        );
        assert_eq!(pages[0].workers, ["r0", "r1"]);
        // r0 is back, r1 is not: still open, and reminded from the summary's time.
        let workers = BTreeMap::from([
            ("r0".to_owned(), down(true)),
            ("r1".to_owned(), down(false)),
        ]);
        assert_eq!(
            follow(&mut pages, &around(&workers, &[], &[], 90_000)).len(),
            1
        );
        let silence = Silence {
            id: "s-1".into(),
            matches: pulseboard_shared::silence::SilenceMatch::Host("gpu-01".into()),
            until: 10_000,
            reason: String::new(),
            maintenance: false,
            by: "ops".into(),
            created: 0,
        };
        assert!(follow(&mut pages, &around(&workers, &[], &[silence], 150_000)).is_empty());
    }
}
