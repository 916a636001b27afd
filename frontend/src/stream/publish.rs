//! Where every source puts what it reads: a whole snapshot, or a patch applied in place to the one
//! held.

use leptos::prelude::*;
use pulseboard_shared::patch::{apply, Patch};
use pulseboard_shared::Nodes;

use super::Connection;
use crate::page::now_ms;

/// The feed's write side, handed to the source that fills it.
#[derive(Clone, Copy)]
pub(super) struct Setters {
    pub(super) nodes_read: ReadSignal<Option<Nodes>>,
    pub(super) nodes: WriteSignal<Option<Nodes>>,
    pub(super) connection: WriteSignal<Connection>,
    pub(super) received_at: WriteSignal<f64>,
}

impl Setters {
    /// Shows `nodes`, arrived now.
    pub(super) fn publish(&self, nodes: Nodes) {
        self.received_at.set(now_ms());
        self.nodes.set(Some(nodes));
    }

    /// Shows the snapshot in `text`; false when it cannot be read.
    pub(super) fn publish_json(&self, text: &str) -> bool {
        // A snapshot we cannot read is skipped: the last good one stays on screen.
        match crate::json::from_str::<Nodes>(text) {
            Ok(nodes) => {
                self.publish(nodes);
                true
            }
            Err(err) => {
                leptos::logging::warn!("skipping an unreadable nodes snapshot: {err}");
                false
            }
        }
    }

    /// Applies a patch to the snapshot held at version `held`; false when it does not follow
    /// (the stream must start again from a whole snapshot).
    pub(super) fn apply_patch_json(&self, held: Option<u64>, text: &str) -> bool {
        let patch = match crate::json::from_str::<Patch>(text) {
            Ok(patch) => patch,
            Err(err) => {
                leptos::logging::warn!("unreadable patch, resyncing: {err}");
                return false;
            }
        };
        let Some(held) = held else { return false };
        if self.nodes_read.with_untracked(Option::is_none) {
            return false;
        }
        let mut applied = Ok(());
        self.nodes.update(|nodes| {
            if let Some(nodes) = nodes {
                applied = apply(nodes, held, &patch);
            }
        });
        match applied {
            Ok(()) => {
                self.received_at.set(now_ms());
                true
            }
            Err(why) => {
                leptos::logging::warn!("patch does not follow ({why:?}), resyncing");
                false
            }
        }
    }
}
