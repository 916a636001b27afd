//! The recovery guard: whether pulseboard should ask for a worker to be restarted now, wait, or
//! hold back, as pure functions of the policy, the guard's memory and the situation. pulseboard
//! decides; the worker (through its heartbeat) or its supervisor (through the host agent) acts.
//!
//! Bounds, in order: nothing happens while the view cannot be trusted (Redis lost), while the
//! queue flag pauses the worker (paused is not down), during a hold, while the host's agent is
//! unreachable, or when every worker of a host is down (one host-level recommendation instead of
//! N restarts). A trigger state must last its delay; attempts are spaced by a backoff that
//! doubles; past `max_attempts` in `window_s` the circuit opens: no more automatic actions until
//! a healthy period (or an operator) closes it.
//!
//! Defaults, and why (Kubernetes waits 10 s doubling to 300 s; systemd gives up after 5 starts
//! in 10 s): a worker needs time to load and declare itself ready (`ready_timeout_s`, 120 s), so
//! the first retry waits 30 s and the backoff doubles to 10 min; three attempts in 30 min is a
//! crash loop worth a person's look, not a fourth restart; 10 min healthy forgets the past.

use serde::{Deserialize, Serialize};

use crate::lifecycle::LifecycleState as L;
use crate::nodes::{Nodes, WorkerKind, WorkerStatus};

/// What the guard may do on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Mode {
    /// Nothing, not even a recommendation.
    Off,
    /// Say what should be done; do nothing.
    #[default]
    Recommend,
    /// Act within the bounds.
    Auto,
}

impl Mode {
    /// The mode as the configuration spells it (the same as its serde form; a test checks).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Recommend => "recommend",
            Self::Auto => "auto",
        }
    }

    /// Reads `off`, `recommend` or `auto`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "off" => Some(Self::Off),
            "recommend" => Some(Self::Recommend),
            "auto" => Some(Self::Auto),
            _ => None,
        }
    }
}

/// How an action reaches the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Route {
    /// Read by the worker on its next beat: it drains and exits so its supervisor restarts it.
    Heartbeat,
    /// Run by the host's agent: the supervisor's own restart command, from an allow-list.
    Agent,
}

/// A lifecycle state that calls for a restart once it has lasted `after_s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trigger {
    /// The state.
    pub state: L,
    /// How long it must last first, in seconds.
    pub after_s: u64,
}

/// The policy for a worker (or a kind).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Policy {
    /// What the guard may do.
    pub mode: Mode,
    /// The states that call for a restart, and after how long.
    pub triggers: Vec<Trigger>,
    /// The wait after the first attempt; it doubles after each one.
    pub backoff_start_s: u64,
    /// The longest wait between attempts.
    pub backoff_max_s: u64,
    /// Attempts allowed in `window_s` before the circuit opens.
    pub max_attempts: u32,
    /// The window attempts are counted in, in seconds.
    pub window_s: u64,
    /// A healthy period that resets the backoff and closes the circuit, in seconds.
    pub healthy_reset_s: u64,
    /// How long an action may stay unanswered (the worker still in its trigger state, no word
    /// from the agent) before it counts as failed, in seconds.
    pub answer_timeout_s: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            mode: Mode::Recommend,
            // In the states' alphabetical order, as the configuration file lists them.
            triggers: vec![
                Trigger {
                    state: L::Down,
                    after_s: 60,
                },
                Trigger {
                    state: L::Failed,
                    after_s: 0,
                },
                Trigger {
                    state: L::Late,
                    after_s: 60,
                },
                Trigger {
                    state: L::Stalled,
                    after_s: 0,
                },
                Trigger {
                    state: L::Unhealthy,
                    after_s: 120,
                },
            ],
            backoff_start_s: 30,
            backoff_max_s: 600,
            max_attempts: 3,
            window_s: 1800,
            healthy_reset_s: 600,
            // A worker may take minutes to drain its job and be ready again.
            answer_timeout_s: 300,
        }
    }
}

impl Policy {
    /// The wait after `attempts` attempts: `backoff_start_s` doubling, at most `backoff_max_s`.
    pub fn backoff_after(&self, attempts: usize) -> u64 {
        let doublings = attempts.saturating_sub(1).min(32) as u32;
        self.backoff_start_s
            .saturating_mul(1u64 << doublings)
            .min(self.backoff_max_s)
    }
}

/// What the guard remembers about one worker (kept in Redis between decisions).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Memory {
    /// When each attempt in the current window was made (unix seconds).
    pub attempts: Vec<u64>,
    /// Since when the circuit is open.
    pub circuit_open_at: Option<u64>,
    /// Since when the worker has been healthy without a break.
    pub healthy_since: Option<u64>,
    /// No automatic action before this (an operator's hold).
    pub hold_until: Option<u64>,
    /// An action sent and not yet answered: nothing more until it is.
    pub in_flight: bool,
    /// The last action asked for, by the guard or a person, and how it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<LastAction>,
    /// An operator's mode for this worker, over the configured one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    /// Why the hold was set, and by whom.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_reason: Option<String>,
}

impl Memory {
    /// Whether there is nothing worth keeping (most workers, most of the time).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// An action asked for, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LastAction {
    /// Its id (the command's or the agent request's).
    pub id: String,
    /// What was asked: `restart`, `quiet`, `stop`, `reset_and_restart`.
    pub action: String,
    /// How it travelled.
    pub route: Route,
    /// Who asked: an admin token's name, or `auto`.
    pub by: String,
    /// When, unix seconds.
    pub at: u64,
    /// How it ended, in words; `None` while in flight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// Whether it worked; `None` while in flight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ok: Option<bool>,
}

/// What the guard sees now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Situation {
    /// Unix seconds.
    pub now: u64,
    /// The worker's lifecycle state and since how long it holds.
    pub state: L,
    /// Seconds in that state.
    pub state_age_s: u64,
    /// Whether the aggregator reads Redis (else the view is stale).
    pub redis_ok: bool,
    /// The queue flag pauses the worker.
    pub paused_by_flag: bool,
    /// The worker's host, and whether its agent beats.
    pub host: Option<String>,
    /// Whether that host's agent is reachable (beating).
    pub agent_reachable: bool,
    /// That agent's allow-list names the worker.
    pub agent_allows: bool,
    /// Every worker of that host (two or more) is down.
    pub host_all_down: bool,
}

/// Why the guard holds back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// The aggregator lost Redis: the view cannot be trusted.
    RedisLost,
    /// The queue flag pauses the worker: paused is not down.
    Paused,
    /// An operator holds the worker until then.
    Held(u64),
    /// The action needs the host's agent, which does not beat.
    AgentUnreachable(String),
    /// The whole host is down: one look at the host, not N restarts.
    HostDown(String),
    /// The host's agent beats but its allow-list does not name the worker.
    NotAllowListed(String),
    /// The previous action is not answered yet.
    InFlight,
}

/// What the guard says now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Nothing calls for an action.
    Idle,
    /// A trigger state has not lasted its delay yet: not before `until`.
    Wait {
        /// Unix seconds.
        until: u64,
    },
    /// The backoff after the last attempt runs: not before `until`.
    Backoff {
        /// Unix seconds.
        until: u64,
    },
    /// Something stands in the way.
    Blocked(Block),
    /// Restart, by `route` (mode `recommend`: said, not done).
    Recommend(Route),
    /// Restart, by `route`, now (mode `auto`).
    Act(Route),
    /// The limit is reached: the circuit opens now (alert once) with this recommendation.
    OpenCircuit(Route),
    /// The circuit is open: a person must look; this is what they should do.
    CircuitOpen(Route),
}

/// The guard's decision for `policy`, `memory` and `situation`.
pub fn decide(policy: &Policy, memory: &Memory, s: &Situation) -> Decision {
    let mode = memory.mode.unwrap_or(policy.mode);
    if mode == Mode::Off {
        return Decision::Idle;
    }
    let Some(trigger) = policy.triggers.iter().find(|t| t.state == s.state) else {
        return Decision::Idle;
    };
    let route = route_for(s.state);
    if !s.redis_ok {
        return Decision::Blocked(Block::RedisLost);
    }
    if s.paused_by_flag {
        return Decision::Blocked(Block::Paused);
    }
    if let Some(until) = memory.hold_until.filter(|u| *u > s.now) {
        return Decision::Blocked(Block::Held(until));
    }
    if memory.circuit_open_at.is_some() {
        return Decision::CircuitOpen(route);
    }
    let host = s.host.clone().unwrap_or_else(|| "?".into());
    if route == Route::Agent && s.host_all_down {
        return Decision::Blocked(Block::HostDown(host));
    }
    if route == Route::Agent && !s.agent_reachable {
        return Decision::Blocked(Block::AgentUnreachable(host));
    }
    if route == Route::Agent && !s.agent_allows {
        return Decision::Blocked(Block::NotAllowListed(host));
    }
    if memory.in_flight {
        return Decision::Blocked(Block::InFlight);
    }
    if s.state_age_s < trigger.after_s {
        return Decision::Wait {
            until: s.now + (trigger.after_s - s.state_age_s),
        };
    }
    // The last attempt gets its backoff to work; if the worker still needs help after it and
    // the window is full, a person must look.
    let recent = attempts_in_window(policy, memory, s.now);
    if let Some(last) = recent.last() {
        let until = last + policy.backoff_after(recent.len());
        if until > s.now {
            return Decision::Backoff { until };
        }
    }
    if recent.len() >= policy.max_attempts as usize {
        return Decision::OpenCircuit(route);
    }
    match mode {
        Mode::Auto => Decision::Act(route),
        _ => Decision::Recommend(route),
    }
}

/// The memory after `decision` was carried out at `now` (an attempt counted, the circuit
/// opened), and after seeing the worker `healthy` or not: a healthy period long enough forgets
/// the attempts and closes the circuit.
pub fn remember(
    policy: &Policy,
    memory: &Memory,
    decision: &Decision,
    healthy: bool,
    now: u64,
) -> Memory {
    let mut m = memory.clone();
    m.attempts = attempts_in_window(policy, memory, now);
    match decision {
        Decision::Act(_) => {
            m.attempts.push(now);
            m.in_flight = true;
        }
        Decision::OpenCircuit(_) => m.circuit_open_at = Some(now),
        _ => {}
    }
    if healthy {
        let since = *m.healthy_since.get_or_insert(now);
        if now.saturating_sub(since) >= policy.healthy_reset_s {
            m.attempts.clear();
            m.circuit_open_at = None;
        }
    } else {
        m.healthy_since = None;
    }
    if m.hold_until.is_some_and(|u| u <= now) {
        m.hold_until = None;
        m.hold_reason = None;
    }
    if m.attempts.is_empty() && m.circuit_open_at.is_none() {
        // Nothing to forget: no healthy clock (most workers keep no memory at all).
        m.healthy_since = None;
    }
    m
}

/// An operator's word on a worker's guard, applied by the lease holder (the one writer of the
/// guard's memory) on its next decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "override", rename_all = "snake_case", deny_unknown_fields)]
pub enum Override {
    /// A person asked for an action by hand: it is in flight now.
    Acted {
        /// The worker.
        worker: String,
        /// What was sent.
        last: LastAction,
    },
    /// No automatic action until `until` (unix seconds); `None` lifts the hold.
    Hold {
        /// The worker.
        worker: String,
        /// Until when.
        until: Option<u64>,
        /// Why, and who.
        reason: Option<String>,
    },
    /// Forget the attempts, close the circuit, end what is in flight.
    Reset {
        /// The worker.
        worker: String,
    },
    /// This worker's mode from now on (`None`: back to the configured one).
    Mode {
        /// The worker.
        worker: String,
        /// The mode.
        mode: Option<Mode>,
    },
}

impl Override {
    /// The worker it is about.
    pub fn worker(&self) -> &str {
        match self {
            Self::Acted { worker, .. }
            | Self::Hold { worker, .. }
            | Self::Reset { worker }
            | Self::Mode { worker, .. } => worker,
        }
    }

    /// `memory` after it.
    pub fn apply(&self, memory: &mut Memory) {
        match self {
            Self::Acted { last, .. } => {
                memory.last = Some(last.clone());
                memory.in_flight = true;
            }
            Self::Hold { until, reason, .. } => {
                memory.hold_until = *until;
                memory.hold_reason = until.and(reason.clone());
            }
            Self::Reset { .. } => {
                memory.attempts.clear();
                memory.circuit_open_at = None;
                memory.healthy_since = None;
                memory.in_flight = false;
            }
            Self::Mode { mode, .. } => memory.mode = *mode,
        }
    }
}

/// One entry of the audit trail (the event log): what the guard or a person did about a worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// `acted`, `result`, `circuit_open`, `circuit_closed`, `blocked`, `recommend`, `hold`,
    /// `hold_lifted`, `reset`, `mode`.
    pub what: String,
    /// Who: an admin token's name, or `auto`.
    pub by: String,
    /// The action's id, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The action (`restart`, `reset_and_restart`), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// How it travelled, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<Route>,
    /// Whether it worked, on a result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ok: Option<bool>,
    /// In words: the result, why it is blocked, the hold's reason.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// Puts each worker's guard view (`workers[].recovery`) on `nodes` at `now`, from each one's
/// policy and the guard's memories.
pub fn attach_views(
    nodes: &mut Nodes,
    policy_for: impl Fn(&WorkerStatus) -> Policy,
    memories: &std::collections::BTreeMap<String, Memory>,
    now: u64,
) {
    let empty = Memory::default();
    let fleet = Fleet::new(nodes);
    let views: Vec<Option<RecoveryView>> = nodes
        .workers
        .iter()
        .map(|w| {
            let policy = policy_for(w);
            let memory = memories.get(&w.name).unwrap_or(&empty);
            let triggered = w
                .lifecycle
                .as_ref()
                .is_some_and(|l| policy.triggers.iter().any(|t| t.state == l.state));
            // Most workers are fine and remember nothing: no need to look at their host.
            if !triggered && memory.is_empty() {
                return None;
            }
            let decision = match fleet.situation(w, now) {
                Some(s) => decide(&policy, memory, &s),
                None => Decision::Idle,
            };
            view(&policy, memory, &decision, &w.name, now)
        })
        .collect();
    for (w, v) in nodes.workers.iter_mut().zip(views) {
        w.recovery = v;
    }
}

/// The attempts still inside the window at `now`, oldest first.
fn attempts_in_window(policy: &Policy, memory: &Memory, now: u64) -> Vec<u64> {
    let mut recent: Vec<u64> = memory
        .attempts
        .iter()
        .copied()
        .filter(|at| now.saturating_sub(*at) < policy.window_s)
        .collect();
    recent.sort_unstable();
    recent
}

/// Ends the action in flight, if its answer is in: `agent` is the host agent's word on it
/// (`ok`, what happened); a worker that left its trigger state answered by itself; past
/// `answer_timeout_s` it failed. Returns whether it ended.
pub fn settle(
    policy: &Policy,
    memory: &mut Memory,
    still_triggered: bool,
    agent: Option<(bool, String)>,
    now: u64,
) -> bool {
    if !memory.in_flight {
        return false;
    }
    let Some(last) = memory.last.as_mut() else {
        memory.in_flight = false;
        return true;
    };
    let (ok, result) = match agent {
        Some(word) => word,
        None if last.route == Route::Heartbeat && !still_triggered => (
            true,
            format!("answered after {} s", now.saturating_sub(last.at)),
        ),
        None if now.saturating_sub(last.at) >= policy.answer_timeout_s => (
            false,
            format!("no answer within {} s", policy.answer_timeout_s),
        ),
        None => return false,
    };
    last.ok = Some(ok);
    last.result = Some(result);
    memory.in_flight = false;
    true
}

/// The guard's state as contract 2 shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum GuardState {
    /// Nothing calls for an action.
    Idle,
    /// A trigger state has not lasted its delay yet.
    Waiting,
    /// The backoff after an attempt runs.
    Backoff,
    /// An action is under way.
    Acting,
    /// Mode `recommend`: an action is called for and left to a person.
    Recommending,
    /// Something stands in the way (Redis lost, paused, the host or its agent).
    Blocked,
    /// An operator holds the worker.
    Held,
    /// The attempts' limit was reached: no automatic action until it closes.
    CircuitOpen,
}

impl GuardState {
    /// The state as contract 2 spells it (the same as its serde form; a test checks).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Waiting => "waiting",
            Self::Backoff => "backoff",
            Self::Acting => "acting",
            Self::Recommending => "recommending",
            Self::Blocked => "blocked",
            Self::Held => "held",
            Self::CircuitOpen => "circuit_open",
        }
    }
}

/// What a person should do, for the page to say in its own language.
///
/// Read through a flat [`AdviceWire`] (the same JSON): serde's derive for an internally tagged
/// enum buffers the whole value first, and that machinery cost the page 11 KB of wasm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "advice", rename_all = "snake_case", try_from = "AdviceWire")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Advice {
    /// Restart the worker, by this route.
    Restart {
        /// How.
        route: Route,
    },
    /// Look at the host: every worker on it is down.
    CheckHost {
        /// Which.
        host: String,
    },
    /// The host's agent does not beat: start it, or restart the worker on the host by hand.
    AgentUnreachable {
        /// Which.
        host: String,
    },
    /// The host's agent may not restart this worker: add it to the allow-list, or act by hand.
    NotAllowListed {
        /// Which.
        host: String,
    },
    /// The restarts did not help: read the worker's logs, fix the cause, then reset the guard.
    CrashLoop {
        /// How a restart would go.
        route: Route,
    },
}

/// [`Advice`] as it is written: which advice, and the field it carries.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdviceWire {
    advice: AdviceKind,
    #[serde(default)]
    route: Option<Route>,
    #[serde(default)]
    host: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum AdviceKind {
    Restart,
    CheckHost,
    AgentUnreachable,
    NotAllowListed,
    CrashLoop,
}

impl TryFrom<AdviceWire> for Advice {
    type Error = &'static str;

    fn try_from(w: AdviceWire) -> Result<Self, Self::Error> {
        let route = w.route.ok_or("this advice needs a route");
        let host = w.host.ok_or("this advice needs a host");
        Ok(match w.advice {
            AdviceKind::Restart => Self::Restart { route: route? },
            AdviceKind::CrashLoop => Self::CrashLoop { route: route? },
            AdviceKind::CheckHost => Self::CheckHost { host: host? },
            AdviceKind::AgentUnreachable => Self::AgentUnreachable { host: host? },
            AdviceKind::NotAllowListed => Self::NotAllowListed { host: host? },
        })
    }
}

impl Advice {
    /// In plain English words for `worker` (the API's `recommended_action`; the page says it in
    /// its own language from the structure).
    pub fn words(&self, worker: &str) -> String {
        match self {
            Self::Restart {
                route: Route::Heartbeat,
            } => format!("restart {worker}: it drains and exits for its supervisor to start it"),
            Self::Restart {
                route: Route::Agent,
            } => format!("restart {worker} through its host's agent (its supervisor's command)"),
            Self::CheckHost { host } => {
                format!("every worker on {host} is down: check the host first")
            }
            Self::AgentUnreachable { host } => format!(
                "host {host} unreachable: its agent does not beat; restart {worker} on the host by hand"
            ),
            Self::NotAllowListed { host } => format!(
                "the agent on {host} may not restart {worker}: add it to the allow-list or act by hand"
            ),
            Self::CrashLoop { .. } => format!(
                "restarts did not help: read {worker}'s logs, fix the cause, then reset the guard"
            ),
        }
    }
}

/// The guard's view of one worker, contract 2's `workers[].recovery`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryView {
    /// The mode in force (an operator's over the configured one).
    pub mode: Mode,
    /// Where the guard stands.
    pub state: GuardState,
    /// Attempts in the current window.
    pub attempts: u32,
    /// Attempts allowed in a window.
    pub max_attempts: u32,
    /// When the next automatic attempt may run, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<u64>,
    /// When the oldest attempt leaves the window, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_resets_at: Option<u64>,
    /// Held until, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_until: Option<u64>,
    /// Why it is held, by whom.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_reason: Option<String>,
    /// The last action, who asked, when, and how it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_action: Option<LastAction>,
    /// What a person should do, in plain words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommended_action: Option<String>,
    /// The same, as a structure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advice: Option<Advice>,
    /// What stands in the way, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<String>,
}

/// Contract 2's view of `decision` for `worker`; `None` when there is nothing to show (no
/// trigger, no memory).
pub fn view(
    policy: &Policy,
    memory: &Memory,
    decision: &Decision,
    worker: &str,
    now: u64,
) -> Option<RecoveryView> {
    if *decision == Decision::Idle && memory.is_empty() {
        return None;
    }
    let recent = attempts_in_window(policy, memory, now);
    let mut v = RecoveryView {
        mode: memory.mode.unwrap_or(policy.mode),
        state: GuardState::Idle,
        attempts: recent.len() as u32,
        max_attempts: policy.max_attempts,
        next_attempt_at: None,
        window_resets_at: recent.first().map(|t| t + policy.window_s),
        hold_until: memory.hold_until.filter(|u| *u > now),
        hold_reason: memory.hold_reason.clone(),
        last_action: memory.last.clone(),
        recommended_action: None,
        advice: None,
        blocked_by: None,
    };
    let advice = match decision {
        Decision::Idle => None,
        Decision::Wait { until } => {
            v.state = GuardState::Waiting;
            v.next_attempt_at = Some(*until);
            None
        }
        Decision::Backoff { until } => {
            v.state = GuardState::Backoff;
            v.next_attempt_at = Some(*until);
            None
        }
        Decision::Recommend(route) => {
            v.state = GuardState::Recommending;
            Some(Advice::Restart { route: *route })
        }
        Decision::Act(_) => {
            v.state = GuardState::Acting;
            None
        }
        Decision::OpenCircuit(route) | Decision::CircuitOpen(route) => {
            v.state = GuardState::CircuitOpen;
            Some(Advice::CrashLoop { route: *route })
        }
        Decision::Blocked(block) => {
            v.state = GuardState::Blocked;
            v.blocked_by = Some(block.words());
            match block {
                Block::Held(_) => {
                    v.state = GuardState::Held;
                    None
                }
                Block::InFlight => {
                    v.state = GuardState::Acting;
                    None
                }
                Block::HostDown(host) => Some(Advice::CheckHost { host: host.clone() }),
                Block::AgentUnreachable(host) => {
                    Some(Advice::AgentUnreachable { host: host.clone() })
                }
                Block::NotAllowListed(host) => Some(Advice::NotAllowListed { host: host.clone() }),
                Block::RedisLost | Block::Paused => None,
            }
        }
    };
    v.recommended_action = advice.as_ref().map(|a| a.words(worker));
    v.advice = advice;
    Some(v)
}

impl Block {
    /// In plain English words.
    pub fn words(&self) -> String {
        match self {
            Self::RedisLost => "pulseboard lost Redis: the view cannot be trusted".into(),
            Self::Paused => "paused by the queue flag (paused is not down)".into(),
            Self::Held(_) => "held by an operator".into(),
            Self::AgentUnreachable(host) => {
                format!("host {host} unreachable (its agent does not beat)")
            }
            Self::HostDown(host) => format!("every worker on {host} is down"),
            Self::NotAllowListed(host) => format!("not in the allow-list of the agent on {host}"),
            Self::InFlight => "the last action is not answered yet".into(),
        }
    }
}

/// What the guard sees of `worker` in `nodes` at `now`: `None` for a worker without a lifecycle
/// judgement (it is never acted on). For many workers, build a [`Fleet`] once instead.
pub fn situation(nodes: &Nodes, worker: &WorkerStatus, now: u64) -> Option<Situation> {
    Fleet::new(nodes).situation(worker, now)
}

/// A snapshot with its hosts counted once (workers, workers down), so judging every worker of
/// a large fleet stays linear.
pub struct Fleet<'a> {
    nodes: &'a Nodes,
    hosts: std::collections::HashMap<&'a str, (usize, usize)>,
}

impl<'a> Fleet<'a> {
    /// Counts `nodes`' hosts.
    pub fn new(nodes: &'a Nodes) -> Self {
        let mut hosts = std::collections::HashMap::new();
        for w in &nodes.workers {
            if let Some(host) = w.host.as_deref() {
                let down = w.lifecycle.as_ref().is_some_and(|l| l.state == L::Down);
                let (all, downs) = hosts.entry(host).or_insert((0, 0));
                *all += 1;
                *downs += usize::from(down);
            }
        }
        Self { nodes, hosts }
    }

    /// What the guard sees of `worker` at `now` (see [`situation`]).
    pub fn situation(&self, worker: &WorkerStatus, now: u64) -> Option<Situation> {
        let lifecycle = worker.lifecycle.as_ref()?;
        let nodes = self.nodes;
        let host = worker.host.clone();
        let agent = host
            .as_deref()
            .and_then(|h| nodes.agents.iter().find(|a| a.host == h));
        let (all, down) = host
            .as_deref()
            .and_then(|h| self.hosts.get(h).copied())
            .unwrap_or((0, 0));
        Some(Situation {
            now,
            state: lifecycle.state,
            state_age_s: lifecycle.age_s.unwrap_or(0),
            redis_ok: nodes.redis_ok,
            paused_by_flag: nodes.paused && worker.kind != WorkerKind::Watcher,
            agent_reachable: agent.is_some_and(|a| a.alive),
            agent_allows: agent.is_some_and(|a| a.workers.contains(&worker.name)),
            host_all_down: all >= 2 && down == all,
            host,
        })
    }
}

/// How a restart reaches a worker in `state`: one that still beats reads it from its
/// heartbeat; one that is gone or does not beat needs its supervisor, through the agent.
pub fn route_for(state: L) -> Route {
    match state {
        L::Stalled | L::Unhealthy => Route::Heartbeat,
        _ => Route::Agent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_800_000_000;

    fn situation(state: L, age: u64) -> Situation {
        Situation {
            now: T0,
            state,
            state_age_s: age,
            redis_ok: true,
            paused_by_flag: false,
            host: Some("gpu-1".into()),
            agent_reachable: true,
            agent_allows: true,
            host_all_down: false,
        }
    }

    fn auto() -> Policy {
        Policy {
            mode: Mode::Auto,
            ..Policy::default()
        }
    }

    #[test]
    fn the_guard_acts_only_when_nothing_stands_in_the_way() {
        let fresh = Memory::default();
        let held = Memory {
            hold_until: Some(T0 + 60),
            ..Memory::default()
        };
        let sent = Memory {
            in_flight: true,
            ..Memory::default()
        };
        let open = Memory {
            circuit_open_at: Some(T0 - 5),
            ..Memory::default()
        };
        let with = |f: fn(&mut Situation)| {
            let mut s = situation(L::Down, 90);
            f(&mut s);
            s
        };
        let cases: Vec<(&str, Policy, &Memory, Situation, Decision)> = vec![
            (
                "ready",
                auto(),
                &fresh,
                situation(L::Ready, 500),
                Decision::Idle,
            ),
            (
                "a clean stop is no trigger",
                auto(),
                &fresh,
                situation(L::Stopped, 500),
                Decision::Idle,
            ),
            (
                "down long enough",
                auto(),
                &fresh,
                situation(L::Down, 60),
                Decision::Act(Route::Agent),
            ),
            (
                "down too briefly",
                auto(),
                &fresh,
                situation(L::Down, 20),
                Decision::Wait { until: T0 + 40 },
            ),
            (
                "stalled: by its heartbeat",
                auto(),
                &fresh,
                situation(L::Stalled, 0),
                Decision::Act(Route::Heartbeat),
            ),
            (
                "unhealthy waits 120 s",
                auto(),
                &fresh,
                situation(L::Unhealthy, 100),
                Decision::Wait { until: T0 + 20 },
            ),
            (
                "recommend only",
                Policy::default(),
                &fresh,
                situation(L::Down, 90),
                Decision::Recommend(Route::Agent),
            ),
            (
                "off",
                Policy {
                    mode: Mode::Off,
                    ..auto()
                },
                &fresh,
                situation(L::Down, 90),
                Decision::Idle,
            ),
            (
                "redis lost",
                auto(),
                &fresh,
                with(|s| s.redis_ok = false),
                Decision::Blocked(Block::RedisLost),
            ),
            (
                "paused by the flag",
                auto(),
                &fresh,
                with(|s| s.paused_by_flag = true),
                Decision::Blocked(Block::Paused),
            ),
            (
                "held",
                auto(),
                &held,
                situation(L::Down, 90),
                Decision::Blocked(Block::Held(T0 + 60)),
            ),
            (
                "agent gone",
                auto(),
                &fresh,
                with(|s| s.agent_reachable = false),
                Decision::Blocked(Block::AgentUnreachable("gpu-1".into())),
            ),
            (
                "a stalled worker needs no agent",
                auto(),
                &fresh,
                {
                    let mut s = situation(L::Stalled, 5);
                    s.agent_reachable = false;
                    s
                },
                Decision::Act(Route::Heartbeat),
            ),
            (
                "whole host down",
                auto(),
                &fresh,
                with(|s| s.host_all_down = true),
                Decision::Blocked(Block::HostDown("gpu-1".into())),
            ),
            (
                "in flight",
                auto(),
                &sent,
                situation(L::Down, 90),
                Decision::Blocked(Block::InFlight),
            ),
            (
                "circuit open",
                auto(),
                &open,
                situation(L::Down, 90),
                Decision::CircuitOpen(Route::Agent),
            ),
        ];
        for (what, policy, memory, s, want) in cases {
            assert_eq!(decide(&policy, memory, &s), want, "{what}");
        }
    }

    #[test]
    fn attempts_back_off_then_the_circuit_opens_once_and_a_healthy_period_closes_it() {
        let policy = auto();
        let mut memory = Memory::default();
        let mut acted = vec![];
        let mut opened = vec![];
        // A crash loop: down for good, checked every 5 s for an hour; each action is answered
        // (the worker comes back for a moment and dies again).
        for t in (0..3600).step_by(5) {
            let now = T0 + t;
            let d = decide(
                &policy,
                &memory,
                &Situation {
                    now,
                    ..situation(L::Down, 120)
                },
            );
            match d {
                Decision::Act(_) => acted.push(t),
                Decision::OpenCircuit(_) => opened.push(t),
                _ => {}
            }
            memory = remember(&policy, &memory, &d, false, now);
            memory.in_flight = false;
        }
        assert_eq!(acted, vec![0, 30, 90], "30 s, then 60 s apart: {acted:?}");
        assert_eq!(
            opened,
            vec![210],
            "once, when the third attempt's backoff is over"
        );
        assert_eq!(
            decide(
                &policy,
                &memory,
                &Situation {
                    now: T0 + 3600,
                    ..situation(L::Down, 120)
                }
            ),
            Decision::CircuitOpen(Route::Agent),
            "no attempt after, even past the window"
        );
        // Healthy for 10 minutes closes it.
        for t in (3600..4300).step_by(5) {
            memory = remember(&policy, &memory, &Decision::Idle, true, T0 + t);
        }
        assert_eq!(memory.circuit_open_at, None);
        assert!(memory.attempts.is_empty());
        assert_eq!(
            decide(
                &policy,
                &memory,
                &Situation {
                    now: T0 + 4300,
                    ..situation(L::Down, 120)
                }
            ),
            Decision::Act(Route::Agent)
        );
    }

    #[test]
    fn a_short_healthy_spell_forgets_nothing_and_old_attempts_leave_the_window() {
        let policy = auto();
        let memory = Memory {
            attempts: vec![T0 - 1900, T0 - 100],
            ..Memory::default()
        };
        let m = remember(&policy, &memory, &Decision::Idle, true, T0);
        assert_eq!(m.attempts, vec![T0 - 100], "the one outside 30 min is gone");
        let m = remember(&policy, &m, &Decision::Idle, true, T0 + 60);
        assert_eq!(m.attempts, vec![T0 - 100], "one healthy minute is not ten");
        let m = remember(&policy, &m, &Decision::Idle, false, T0 + 70);
        assert_eq!(m.healthy_since, None);
        // The backoff after one attempt is 30 s, after two 60 s, capped at 600 s.
        assert_eq!(policy.backoff_after(1), 30);
        assert_eq!(policy.backoff_after(2), 60);
        assert_eq!(policy.backoff_after(9), 600);
    }

    #[test]
    fn a_hold_ends_by_itself() {
        let policy = auto();
        let memory = Memory {
            hold_until: Some(T0 + 10),
            ..Memory::default()
        };
        let m = remember(&policy, &memory, &Decision::Idle, false, T0 + 11);
        assert_eq!(m.hold_until, None);
        let s = Situation {
            now: T0 + 11,
            ..situation(L::Down, 90)
        };
        assert_eq!(decide(&policy, &m, &s), Decision::Act(Route::Agent));
    }

    #[test]
    fn an_action_is_answered_by_the_worker_the_agent_or_the_clock() {
        let policy = auto();
        let sent = |route| Memory {
            in_flight: true,
            last: Some(LastAction {
                id: "r-1".into(),
                action: "restart".into(),
                route,
                by: "auto".into(),
                at: T0,
                result: None,
                ok: None,
            }),
            ..Memory::default()
        };
        let mut m = sent(Route::Heartbeat);
        assert!(
            !settle(&policy, &mut m, true, None, T0 + 10),
            "still stalled: wait"
        );
        assert!(settle(&policy, &mut m, false, None, T0 + 12));
        let last = m.last.clone().unwrap();
        assert_eq!(
            (last.ok, last.result.as_deref()),
            (Some(true), Some("answered after 12 s"))
        );
        assert!(!m.in_flight);

        let mut m = sent(Route::Agent);
        assert!(
            !settle(&policy, &mut m, false, None, T0 + 5),
            "only the agent answers"
        );
        assert!(settle(
            &policy,
            &mut m,
            true,
            Some((false, "failed, exit 1".into())),
            T0 + 6
        ));
        assert_eq!(m.last.unwrap().ok, Some(false));

        let mut m = sent(Route::Agent);
        assert!(settle(
            &policy,
            &mut m,
            true,
            None,
            T0 + policy.answer_timeout_s
        ));
        assert_eq!(
            m.last.unwrap().result.as_deref(),
            Some("no answer within 300 s")
        );
    }

    #[test]
    fn the_view_says_where_the_guard_stands_and_what_a_person_should_do() {
        let policy = auto();
        let none = Memory::default();
        assert_eq!(
            view(&policy, &none, &Decision::Idle, "w", T0),
            None,
            "nothing to show"
        );
        let v = view(
            &policy,
            &none,
            &Decision::Backoff { until: T0 + 30 },
            "w",
            T0,
        )
        .unwrap();
        assert_eq!(
            (v.state, v.next_attempt_at),
            (GuardState::Backoff, Some(T0 + 30))
        );
        let v = view(
            &policy,
            &none,
            &Decision::Blocked(Block::AgentUnreachable("gpu-1".into())),
            "w",
            T0,
        )
        .unwrap();
        assert_eq!(v.state, GuardState::Blocked);
        assert_eq!(
            v.recommended_action.as_deref(),
            Some("host gpu-1 unreachable: its agent does not beat; restart w on the host by hand")
        );
        let tried = Memory {
            attempts: vec![T0 - 100, T0 - 50, T0 - 10],
            circuit_open_at: Some(T0),
            ..Memory::default()
        };
        let v = view(
            &policy,
            &tried,
            &Decision::CircuitOpen(Route::Agent),
            "w",
            T0,
        )
        .unwrap();
        assert_eq!(
            (v.state, v.attempts, v.max_attempts),
            (GuardState::CircuitOpen, 3, 3)
        );
        assert_eq!(v.window_resets_at, Some(T0 - 100 + policy.window_s));
        assert_eq!(
            v.advice,
            Some(Advice::CrashLoop {
                route: Route::Agent
            })
        );
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["state"], "circuit_open");
        assert_eq!(json["advice"]["advice"], "crash_loop");
        for advice in [
            Advice::Restart {
                route: Route::Heartbeat,
            },
            Advice::CheckHost {
                host: "gpu-1".into(),
            },
            Advice::CrashLoop {
                route: Route::Agent,
            },
        ] {
            let text = serde_json::to_string(&advice).unwrap();
            assert_eq!(
                serde_json::from_str::<Advice>(&text).unwrap(),
                advice,
                "{text}"
            );
        }
        assert!(serde_json::from_str::<Advice>(r#"{"advice":"check_host"}"#).is_err());
    }

    #[test]
    fn the_situation_comes_from_the_snapshot() {
        use crate::lifecycle::Lifecycle;
        use crate::nodes::HostAgent;
        let worker = |name: &str, state: L| WorkerStatus {
            host: Some("gpu-1".into()),
            lifecycle: Some(Lifecycle {
                state,
                reason: None,
                age_s: Some(70),
            }),
            ..WorkerStatus::new(name, WorkerKind::Render)
        };
        let mut nodes = crate::mock::mock_nodes(0);
        nodes.paused = false;
        nodes.workers = vec![worker("a", L::Down), worker("b", L::Ready)];
        nodes.agents = vec![HostAgent {
            host: "gpu-1".into(),
            alive: true,
            workers: vec!["a".into()],
        }];
        let s = super::situation(&nodes, &nodes.workers[0], T0).unwrap();
        assert_eq!((s.state, s.state_age_s), (L::Down, 70));
        assert!(s.agent_reachable && s.agent_allows && !s.host_all_down);
        let s = super::situation(&nodes, &nodes.workers[1], T0).unwrap();
        assert!(!s.agent_allows, "b is not in the allow-list");
        nodes.workers[1] = worker("b", L::Down);
        assert!(
            super::situation(&nodes, &nodes.workers[0], T0)
                .unwrap()
                .host_all_down
        );
        nodes.paused = true;
        assert!(
            super::situation(&nodes, &nodes.workers[0], T0)
                .unwrap()
                .paused_by_flag
        );
    }

    #[test]
    fn spellings_are_the_serde_forms() {
        let serde = |v: serde_json::Value| v.as_str().unwrap().to_owned();
        for m in [Mode::Off, Mode::Recommend, Mode::Auto] {
            assert_eq!(m.as_str(), serde(serde_json::to_value(m).unwrap()));
            assert_eq!(Mode::parse(m.as_str()), Some(m));
        }
        use GuardState as G;
        for g in [
            G::Idle,
            G::Waiting,
            G::Backoff,
            G::Acting,
            G::Recommending,
            G::Blocked,
            G::Held,
            G::CircuitOpen,
        ] {
            assert_eq!(g.as_str(), serde(serde_json::to_value(g).unwrap()));
        }
        for l in [
            L::Starting,
            L::Ready,
            L::Unhealthy,
            L::Late,
            L::Stalled,
            L::Draining,
            L::Stopped,
            L::Failed,
            L::Down,
        ] {
            assert_eq!(l.as_str(), serde(serde_json::to_value(l).unwrap()));
        }
    }

    #[test]
    fn overrides_change_only_what_they_name() {
        let mut m = Memory {
            attempts: vec![T0],
            circuit_open_at: Some(T0),
            ..Memory::default()
        };
        Override::Hold {
            worker: "w".into(),
            until: Some(T0 + 60),
            reason: Some("ops".into()),
        }
        .apply(&mut m);
        assert_eq!((m.hold_until, m.circuit_open_at), (Some(T0 + 60), Some(T0)));
        Override::Reset { worker: "w".into() }.apply(&mut m);
        assert_eq!((m.attempts.len(), m.circuit_open_at), (0, None));
        assert_eq!(m.hold_until, Some(T0 + 60), "a reset keeps the hold");
        Override::Mode {
            worker: "w".into(),
            mode: Some(Mode::Off),
        }
        .apply(&mut m);
        let s = situation(L::Down, 90);
        assert_eq!(
            decide(&auto(), &m, &s),
            Decision::Idle,
            "the operator's mode wins"
        );
        let text = r#"{"override":"reset","worker":"w","argv":["sh"]}"#;
        assert!(
            serde_json::from_str::<Override>(text).is_err(),
            "nothing extra"
        );
    }
}
