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

//!
//! # Layout
//! - [`policy`]: what the guard may do, on which states, how often ([`Policy`]).
//! - [`memory`]: what it remembers between decisions ([`Memory`], [`remember`]).
//! - [`decide`](mod@decide): act, wait or hold back ([`Decision`], [`decide()`]).
//! - [`settle`](mod@settle): the answer to an action in flight.
//! - [`overrides`]: an operator's word ([`Override`]).
//! - [`audit`]: the guard's entries in the event log ([`AuditEntry`]).
//! - [`fleet`]: what the guard sees of a worker in a snapshot ([`Fleet`], [`situation()`]).
//! - [`view`](mod@view): contract 2's `workers[].recovery` ([`view()`], [`attach_views`]).
//! - The data the API carries (mode, route, state, last action, block, advice) is
//!   [`crate::guard`]'s, re-exported here.

pub mod audit;
pub mod decide;
pub mod fleet;
pub mod memory;
pub mod overrides;
pub mod policy;
pub mod settle;
pub mod view;

pub(crate) use crate::lifecycle::LifecycleState as L;

pub use crate::guard::{
    ActionOutcome, Advice, Block, GuardState, LastAction, Mode, RecoveryView, Route,
};
pub use audit::{AuditEntry, AuditWhat};
pub use decide::{decide, route_for, Decision, Situation};
pub use fleet::{situation, Fleet};
pub use memory::{remember, Memory};
pub use overrides::Override;
pub use policy::{Policy, Trigger};
pub use settle::settle;
pub use view::{attach_views, view};

#[cfg(test)]
pub(crate) mod fixtures {
    //! What the guard's tests share: a time, a situation, an automatic policy.
    use super::*;

    pub const T0: u64 = 1_800_000_000;

    pub fn situation(state: L, age: u64) -> Situation {
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
            agent_requests: true,
            maintenance_until: None,
        }
    }

    pub fn auto() -> Policy {
        Policy {
            mode: Mode::Auto,
            ..Policy::default()
        }
    }
}
