//! Acknowledging an open alert that wants a person, from a Telegram press or the admin API: the
//! first acknowledgement is stored (the judge announces it and stops re-sending), a later one
//! learns who was first. "Silence 1 h" also silences what the alert is about for an hour.

use pulseboard_shared::ack::Ack;
use pulseboard_shared::silence::{Silence, SilenceMatch, MAX_REASON_CHARS};

use super::outbox;
use super::pages::Page;
use crate::ledger::acks::{self, Added};
use crate::ledger::silences;
use crate::ledger::store::{Store, StoreError};

/// How long "Silence 1 h" silences, in seconds.
pub const MUTE_S: u64 = 3600;

/// What acknowledging did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It is acknowledged now (the page it acknowledged).
    Done(Box<Page>),
    /// Someone was first (their acknowledgement).
    Already(Box<Ack>),
    /// No open alert has that id: it was resolved, or never wanted a person.
    NotOpen,
}

/// The open alert `id`, if one is (its memory read with the bound of a fleet of `workers`).
pub async fn open_page(
    store: &Store,
    workers: usize,
    id: &str,
) -> Result<Option<Page>, StoreError> {
    let memory = outbox::load_memory(store, workers).await?;
    Ok(memory.pages.into_iter().find(|p| p.id == id))
}

/// Acknowledges `ack.id` for a fleet of `workers` (the bound of the alerts' memory), silencing
/// its workers (or its host) for [`MUTE_S`] first when `ack.silenced`.
pub async fn acknowledge(store: &Store, workers: usize, ack: &Ack) -> Result<Outcome, StoreError> {
    let Some(page) = open_page(store, workers, &ack.id).await? else {
        return Ok(Outcome::NotOpen);
    };
    if ack.silenced {
        let matches = match (&page.host, page.workers.first()) {
            (Some(host), _) => SilenceMatch::Host(host.clone()),
            (None, Some(worker)) => SilenceMatch::Worker(worker.clone()),
            (None, None) => SilenceMatch::Worker(String::new()),
        };
        let silence = Silence {
            id: format!("s-{:016x}", rand::random::<u64>()),
            matches,
            until: ack.at + MUTE_S,
            // The alert's own line, in the silences' bound: it says why in the alerts' words.
            reason: page.text.chars().take(MAX_REASON_CHARS).collect(),
            maintenance: false,
            by: ack.by.clone(),
            created: ack.at,
        };
        match silences::add(store, &silence, ack.at).await? {
            silences::Changed::Full => {
                tracing::warn!(by = %silence.by, "silence from an alert not set: too many silences in force");
            }
            _ => {
                tracing::info!(id = %silence.id, matches = ?silence.matches, by = %silence.by, "silence set from an alert");
            }
        }
    }
    Ok(match acks::add(store, ack).await? {
        Added::New => {
            tracing::info!(alert = %ack.id, by = %ack.by, via = ?ack.via, "alert acknowledged");
            Outcome::Done(Box::new(page))
        }
        Added::Already(first) => Outcome::Already(first),
    })
}
