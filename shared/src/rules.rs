//! The meaning of a worker's record: its link's health, its state label and colours.
//!
//! These are the seed's rules (node monitor B2, status visuals C3), kept in one place so the
//! server's JSON, the 3D scene and the 2D cards can never disagree.

use crate::lifecycle::LifecycleState;
use crate::nodes::{Link, LinkStatus, LinkType, WorkerKind, WorkerStatus};

/// Health of a worker's link: down if dead; else paused if its state is `paused`; else
/// degraded if it has dead letters; else healthy. Traders are only healthy or down.
///
/// A lifecycle state first maps into the seed's four values: a worker that is starting,
/// draining or stopped cleanly holds its work back (`paused`, never `down`: a clean stop is not
/// a crash); an unhealthy or stalled one is `degraded`; one that failed to start or is gone is
/// `down`; ready and late workers follow the seed's rule.
pub fn link_status(worker: &WorkerStatus) -> LinkStatus {
    if let Some(status) = worker
        .lifecycle
        .as_ref()
        .and_then(|l| lifecycle_status(l.state))
    {
        return status;
    }
    if !worker.alive {
        LinkStatus::Down
    } else if worker.kind == WorkerKind::Trader {
        LinkStatus::Healthy
    } else if worker.state.as_deref() == Some("paused") {
        LinkStatus::Paused
    } else if worker.dead_letter > 0 {
        LinkStatus::Degraded
    } else {
        LinkStatus::Healthy
    }
}

/// The colour a lifecycle state gives by itself (a part of a worker's, too); `None` for ready
/// and late, where the worker's other fields decide.
pub fn lifecycle_status(state: LifecycleState) -> Option<LinkStatus> {
    use LifecycleState as L;
    match state {
        L::Starting | L::Draining | L::Stopped => Some(LinkStatus::Paused),
        L::Unhealthy | L::Stalled => Some(LinkStatus::Degraded),
        L::Failed | L::Down => Some(LinkStatus::Down),
        L::Ready | L::Late => None,
    }
}

/// The link a worker has, if any: a render worker (or an unregistered one of unknown kind)
/// takes its jobs from `queue_host` through Redis; a trader pulls from `pulls_from` over HTTP;
/// a watcher has none.
pub fn link_for(worker: &WorkerStatus, queue_host: &str, pulls_from: &str) -> Option<Link> {
    let (from, to, link_type) = match worker.kind {
        WorkerKind::Render | WorkerKind::Unknown => {
            (queue_host, worker.name.as_str(), LinkType::RedisQueue)
        }
        WorkerKind::Trader => (worker.name.as_str(), pulls_from, LinkType::HttpPull),
        WorkerKind::Watcher => return None,
    };
    Some(Link {
        from: from.to_owned(),
        to: to.to_owned(),
        link_type,
        status: link_status(worker),
    })
}

/// The links of all `workers`, with the seed's ends (`nas`, `nas-stock`).
pub fn links_for(workers: &[WorkerStatus]) -> Vec<Link> {
    workers
        .iter()
        .filter_map(|w| link_for(w, DEFAULT_QUEUE_HOST, DEFAULT_PULLS_FROM))
        .collect()
}

/// The host holding Redis in the seed's topology.
pub const DEFAULT_QUEUE_HOST: &str = "nas";
/// What the seed's trader pulls from.
pub const DEFAULT_PULLS_FROM: &str = "nas-stock";
/// The reason shown when the queues are paused and the watcher gave none.
pub const DEFAULT_PAUSED_REASON: &str = "trading";

/// `paused_reason` of contract 2: the watcher's mode while paused, and null otherwise (the seed
/// reported a reason even when nothing was paused).
pub fn paused_reason(paused: bool, watcher_mode: Option<&str>) -> Option<String> {
    paused.then(|| watcher_mode.unwrap_or(DEFAULT_PAUSED_REASON).to_owned())
}

/// Language of the labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// The seed's labels.
    #[default]
    Ko,
    /// English beside them.
    En,
}

impl Lang {
    /// Its BCP 47 tag: `ko` or `en`.
    pub fn tag(self) -> &'static str {
        match self {
            Self::Ko => "ko",
            Self::En => "en",
        }
    }

    /// The language for a BCP 47 tag such as `ko-KR` or `en-US`: Korean for `ko*`, else English.
    pub fn from_tag(tag: &str) -> Self {
        if tag.to_ascii_lowercase().starts_with("ko") {
            Self::Ko
        } else {
            Self::En
        }
    }
}

/// Labels of the lifecycle states that replace the kind's own state.
fn lifecycle_label(state: LifecycleState) -> Option<(&'static str, &'static str)> {
    use LifecycleState as L;
    Some(match state {
        L::Starting => ("⏳ 시작 중", "⏳ starting"),
        L::Unhealthy => ("🩺 이상", "🩺 unhealthy"),
        L::Stalled => ("🧊 작업 멈춤", "🧊 stalled"),
        L::Draining => ("⏏ 마무리 중", "⏏ draining"),
        L::Stopped => ("⏹ 정지됨", "⏹ stopped"),
        L::Failed => ("❌ 시작 실패", "❌ failed to start"),
        L::Down => ("🔴 다운", "🔴 down"),
        L::Ready | L::Late => return None,
    })
}

/// The label of a worker's state, with its emoji, in `lang`: the seed's labels, and one per
/// lifecycle state the seed did not know (a clean stop is never labelled as a crash).
pub fn state_label(worker: &WorkerStatus, lang: Lang) -> &'static str {
    use LifecycleState as L;
    let lifecycle = worker.lifecycle.as_ref().map(|l| l.state);
    let (ko, en) = if let Some(label) = lifecycle.and_then(lifecycle_label) {
        label
    } else if !worker.alive {
        ("🔴 다운", "🔴 down")
    } else if lifecycle == Some(L::Late) {
        ("⏰ 신호 지연", "⏰ late")
    } else {
        match worker.state.as_deref() {
            Some("paused") => ("⏸ 작업중(트레이딩)", "⏸ paused (trading)"),
            Some("busy") => ("⚙️ 처리 중", "⚙️ busy"),
            Some("market_open") => ("📈 장중", "📈 market open"),
            Some("market_closed") => ("🌙 휴장", "🌙 market closed"),
            _ => ("🟢 대기", "🟢 idle"),
        }
    };
    match lang {
        Lang::Ko => ko,
        Lang::En => en,
    }
}

/// Colour of a link in an unknown state (no data yet).
pub const UNKNOWN_COLOUR: &str = "#64748b";

impl LinkStatus {
    /// The link's colour (CSS hex).
    pub fn colour(self) -> &'static str {
        match self {
            Self::Healthy => "#22c55e",
            Self::Paused => "#f59e0b",
            Self::Degraded => "#eab308",
            Self::Down => "#ef4444",
        }
    }

    /// The status as spelled in contract 2.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Paused => "paused",
            Self::Down => "down",
            Self::Degraded => "degraded",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worker(name: &str, kind: WorkerKind, alive: bool, state: Option<&str>) -> WorkerStatus {
        WorkerStatus {
            alive,
            state: state.map(Into::into),
            last_beat_age_s: alive.then_some(3),
            ..WorkerStatus::new(name, kind)
        }
    }

    // The seed's five node-monitor cases (test_node_monitor.py).

    #[test]
    fn alive_worker_has_a_healthy_redis_queue_link() {
        let w = worker("image-render", WorkerKind::Render, true, Some("idle"));
        let link = &links_for(&[w])[0];
        assert_eq!(
            (link.from.as_str(), link.to.as_str()),
            ("nas", "image-render")
        );
        assert_eq!(link.link_type, LinkType::RedisQueue);
        assert_eq!(link.status, LinkStatus::Healthy);
    }

    #[test]
    fn missing_heartbeat_is_dead_and_down() {
        let w = worker("image-render", WorkerKind::Render, false, None);
        assert_eq!(
            links_for(std::slice::from_ref(&w))[0].status,
            LinkStatus::Down
        );
        assert_eq!(state_label(&w, Lang::Ko), "🔴 다운");
    }

    #[test]
    fn dead_letters_make_degraded() {
        let mut w = worker("video-render", WorkerKind::Render, true, Some("idle"));
        w.dead_letter = 2;
        assert_eq!(link_status(&w), LinkStatus::Degraded);
        // Paused outranks degraded; down outranks both.
        w.state = Some("paused".into());
        assert_eq!(link_status(&w), LinkStatus::Paused);
        w.alive = false;
        assert_eq!(link_status(&w), LinkStatus::Down);
    }

    #[test]
    fn paused_reason_comes_from_the_watcher_only_while_paused() {
        assert_eq!(
            paused_reason(true, Some("trading")).as_deref(),
            Some("trading")
        );
        assert_eq!(paused_reason(true, None).as_deref(), Some("trading"));
        assert_eq!(paused_reason(false, Some("trading")), None);
    }

    #[test]
    fn trader_has_an_http_pull_link() {
        let w = worker("ai_trade", WorkerKind::Trader, true, Some("market_open"));
        let link = &links_for(std::slice::from_ref(&w))[0];
        assert_eq!(
            (link.from.as_str(), link.to.as_str()),
            ("ai_trade", "nas-stock")
        );
        assert_eq!(link.link_type, LinkType::HttpPull);
        assert_eq!(link.status, LinkStatus::Healthy);
        let dead = WorkerStatus { alive: false, ..w };
        assert_eq!(link_status(&dead), LinkStatus::Down);
    }

    #[test]
    fn watcher_has_no_link() {
        let w = worker("task-watcher", WorkerKind::Watcher, true, Some("trading"));
        assert!(links_for(&[w]).is_empty());
    }

    #[test]
    fn state_labels_follow_the_seed() {
        let cases = [
            (
                true,
                Some("paused"),
                "⏸ 작업중(트레이딩)",
                "⏸ paused (trading)",
            ),
            (true, Some("busy"), "⚙️ 처리 중", "⚙️ busy"),
            (true, Some("market_open"), "📈 장중", "📈 market open"),
            (true, Some("market_closed"), "🌙 휴장", "🌙 market closed"),
            (true, Some("idle"), "🟢 대기", "🟢 idle"),
            (false, Some("busy"), "🔴 다운", "🔴 down"),
        ];
        for (alive, state, ko, en) in cases {
            let w = worker("w", WorkerKind::Render, alive, state);
            assert_eq!(state_label(&w, Lang::Ko), ko);
            assert_eq!(state_label(&w, Lang::En), en);
        }
        assert_eq!(Lang::from_tag("ko-KR"), Lang::Ko);
        assert_eq!(Lang::from_tag(Lang::Ko.tag()), Lang::Ko);
        assert_eq!(Lang::from_tag(Lang::En.tag()), Lang::En);
        assert_eq!(Lang::from_tag("en-GB"), Lang::En);
    }

    #[test]
    fn lifecycle_states_map_into_the_seeds_four_link_values() {
        use LifecycleState as L;
        let cases = [
            (L::Starting, true, LinkStatus::Paused, "⏳ starting"),
            (L::Ready, true, LinkStatus::Healthy, "🟢 idle"),
            (L::Late, true, LinkStatus::Healthy, "⏰ late"),
            (L::Unhealthy, true, LinkStatus::Degraded, "🩺 unhealthy"),
            (L::Stalled, true, LinkStatus::Degraded, "🧊 stalled"),
            (L::Draining, true, LinkStatus::Paused, "⏏ draining"),
            (L::Stopped, false, LinkStatus::Paused, "⏹ stopped"),
            (L::Failed, true, LinkStatus::Down, "❌ failed to start"),
            (L::Down, false, LinkStatus::Down, "🔴 down"),
        ];
        for (state, alive, link, label) in cases {
            let mut w = worker("w", WorkerKind::Render, alive, Some("idle"));
            w.lifecycle = Some(crate::lifecycle::Lifecycle {
                state,
                reason: None,
                reason_code: None,
                age_s: None,
            });
            assert_eq!(
                (link_status(&w), state_label(&w, Lang::En)),
                (link, label),
                "{state:?}"
            );
            assert_ne!(state_label(&w, Lang::Ko), state_label(&w, Lang::En));
        }
        // A stopped trader is not down either.
        let mut trader = worker("t", WorkerKind::Trader, false, None);
        trader.lifecycle = Some(crate::lifecycle::Lifecycle {
            state: L::Stopped,
            reason: None,
            reason_code: None,
            age_s: None,
        });
        assert_eq!(link_status(&trader), LinkStatus::Paused);
    }

    #[test]
    fn colours_are_the_spec_palette() {
        assert_eq!(LinkStatus::Healthy.colour(), "#22c55e");
        assert_eq!(LinkStatus::Paused.colour(), "#f59e0b");
        assert_eq!(LinkStatus::Degraded.colour(), "#eab308");
        assert_eq!(LinkStatus::Down.colour(), "#ef4444");
    }
}
