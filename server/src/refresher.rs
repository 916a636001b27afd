//! The background loop: every `refresh`, read Redis once, aggregate, publish.
//!
//! Requests never aggregate; they read the latest snapshot, so a hundred open dashboards cost
//! Redis exactly what one does.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, SubsecRound, Utc};
use pulseboard_shared::patch::diff;
use pulseboard_shared::silence::Silence;
use pulseboard_shared::summary::Summary;
use pulseboard_shared::Nodes;
use tokio::sync::watch;

use crate::aggregate::{aggregate, Aggregate, BeatMemory, QueueOwners};
use crate::config::Config;
use crate::discovery::Discovery;
use crate::ledger;
use crate::ledger::acks;
use crate::ledger::store::Keys;
use crate::reader::{BoundedKey, ReadError, RedisSource};
use crate::shutdown::Shutdown;
use crate::snapshot::{Hub, InFlight, Snapshot, SnapshotPatch};
use crate::{recovery, rescue, silences};

mod chosen;
mod logged;
use chosen::Chosen;
use logged::Logged;

/// State carried between refreshes.
pub struct Refresher {
    config: Config,
    /// New configurations (`SIGHUP`), applied between refreshes.
    updates: watch::Receiver<Config>,
    source: RedisSource,
    discovery: Discovery,
    memory: BeatMemory,
    hub: Hub,
    /// The configured hosts with their labels, as every snapshot carries them.
    hosts: Vec<pulseboard_shared::HostInfo>,
    /// Where the recovery guard's memory lives.
    keys: Keys,
    /// The last snapshot published, its nodes shared with it.
    last: Option<Published>,
    version: u64,
    /// The patch that made `version`, sent to viewers holding the version before.
    patch: Option<Arc<SnapshotPatch>>,
    redis_ok_at: Option<Instant>,
    /// Whether a reading has been published: one whose keys were chosen after a whole discovery
    /// sweep (until then, in-flight lists and unregistered workers may be missing from it).
    published_reading: bool,
    /// The in-flight lists of the last reading published.
    in_flight: Arc<Vec<InFlight>>,
    /// The silences last read (for the alerts; not in contract 2).
    silences: Arc<Vec<Silence>>,
    /// The acknowledgements last read (for the alerts; not in contract 2).
    acks: Arc<Vec<pulseboard_shared::ack::Ack>>,
    /// What was last logged of broken records and oversized values, so each is logged once.
    logged: Logged,
    /// The workers to read and their keys, kept while discovery and the configuration stay the
    /// same (10,000 of each cost milliseconds to build at every refresh).
    chosen: Option<Arc<Chosen>>,
}

/// What the refresher keeps of the snapshot it published last.
struct Published {
    nodes: Arc<Nodes>,
    /// Per worker, when it last beat (see [`Aggregate`]).
    beat_at: Vec<Option<DateTime<Utc>>>,
}

impl Refresher {
    /// A refresher publishing into `hub`, following the configurations of `updates`.
    pub fn new(mut updates: watch::Receiver<Config>, hub: Hub) -> Result<Self, ReadError> {
        let config = updates.borrow_and_update().clone();
        Ok(Self {
            updates,
            source: if config.redis_cluster {
                RedisSource::cluster(
                    config.redis_client()?,
                    &config.redis_url,
                    config.redis_tls.clone(),
                    config.redis_timeout(),
                )?
            } else {
                RedisSource::new(config.redis_client()?, config.redis_timeout())?
            },
            discovery: discovery(&config),
            memory: BeatMemory::new(),
            hub,
            hosts: config.topology.host_infos(),
            keys: Keys::for_cluster(config.redis_cluster),
            last: None,
            // Versions are the stream's event ids: starting from the clock, a viewer that
            // reconnects to a restarted server never finds its old version reused for other data.
            version: (Utc::now().timestamp() as u64) << 20,
            patch: None,
            redis_ok_at: None,
            published_reading: false,
            in_flight: Arc::default(),
            silences: Arc::default(),
            acks: Arc::default(),
            logged: Logged::default(),
            chosen: None,
            config,
        })
    }

    /// Refreshes every `config.refresh` until `shutdown`.
    pub async fn run(mut self, shutdown: Shutdown) {
        let mut tick = tokio::time::interval(self.config.refresh);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.wait() => break,
            }
            if self.updates.has_changed().unwrap_or(false) {
                let new = self.updates.borrow_and_update().clone();
                if new.refresh != self.config.refresh {
                    tick = tokio::time::interval(new.refresh);
                    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                }
                self.hosts = new.topology.host_infos();
                // Redis, discovery, the listener and the agent key keep their start-up settings
                // (see reload).
                self.config = Config {
                    redis_url: self.config.redis_url.clone(),
                    redis_tls: self.config.redis_tls.clone(),
                    discovery_every: self.config.discovery_every,
                    scan_count: self.config.scan_count,
                    max_unregistered: self.config.max_unregistered,
                    agent_key: self.config.agent_key.clone(),
                    agent_key_file: self.config.agent_key_file.clone(),
                    ..new
                };
                let names = self.config.topology.workers.iter().map(|w| w.name.as_str());
                self.discovery.set_registered(names);
                self.chosen = None; // the lifecycle rules may have changed without the names
            }
            let mut answered = self.refresh_once().await;
            // Warming up: the first discovery sweep runs back to back (one round trip each), then
            // one more read with what it found, so the first snapshot published already counts
            // every in-flight list.
            while answered && !self.published_reading && !shutdown.is_stopping() {
                answered = self.refresh_once().await;
            }
        }
        tracing::debug!("refresher stopped");
    }

    /// One refresh: read, aggregate, publish (once discovery is warm). Whether Redis answered.
    pub async fn refresh_once(&mut self) -> bool {
        let now = Instant::now();
        // Only a reading whose keys were chosen after a whole sweep is published: the sweep that
        // completes in this very refresh was absorbed after its keys were chosen.
        let warm = self.discovery.warm();
        let chosen = Chosen::current(&mut self.chosen, &self.config, &self.discovery);
        let (watched, keys) = (&chosen.watched, &chosen.keys);
        let steps = self.discovery.steps(now);
        let mut values = recovery::reading::keys(&self.keys, &self.hosts, watched.len());
        let guard_values = values.len();
        values.push(BoundedKey {
            key: self.keys.rescue(),
            max: rescue::memory::bound(watched.len()),
        });
        values.push(BoundedKey {
            key: self.keys.silences(),
            max: ledger::silences::MAX_BYTES,
        });
        values.push(BoundedKey {
            key: self.keys.acks(),
            max: acks::MAX_BYTES,
        });
        let read = self.source.read(keys, &values, &steps).await;
        let read_took = now.elapsed();
        match read {
            Ok(reading) => {
                let owners = QueueOwners::new(watched);
                for scan in &reading.scans {
                    self.discovery.absorb(
                        scan.pattern,
                        scan.next_cursor,
                        scan.keys.clone(),
                        now,
                        |key| owners.owner(key).map(|(queue, _)| queue),
                    );
                }
                let mut agg = cpu_bound(|| {
                    aggregate(
                        watched,
                        &self.config.topology.queue_host,
                        &reading,
                        whole_second_now(),
                        &mut self.memory,
                    )
                });
                agg.nodes.hosts = self.hosts.clone();
                agg.nodes
                    .runbook_url
                    .clone_from(&self.config.alerts.runbook_url);
                let runtime = &self.config.runtime;
                if pulseboard_shared::runtime::judge(&mut agg.nodes.workers, |w| {
                    runtime.expected(w)
                }) {
                    agg.nodes.summary = Some(Summary::of(&agg.nodes.workers));
                }
                let unix_now = Utc::now().timestamp().max(0) as u64;
                let (guard, extra) = reading
                    .values
                    .split_at(guard_values.min(reading.values.len()));
                self.silences = Arc::new(
                    extra
                        .get(1)
                        .map(ledger::silences::parse)
                        .unwrap_or_default(),
                );
                silences::attach_marks(&mut agg.nodes.workers, &self.silences, unix_now);
                self.acks = Arc::new(extra.get(2).map(acks::parse).unwrap_or_default());
                let mut oversized = recovery::reading::apply(
                    &mut agg.nodes,
                    guard,
                    &self.hosts,
                    &self.config.recovery,
                    (unix_now, self.config.agent_key.is_some()),
                    &self.silences,
                );
                oversized.extend(extra.get(1).and_then(ledger::silences::oversized));
                oversized.extend(rescue::memory::attach(
                    &mut agg.nodes.workers,
                    extra.first(),
                    &self.config.rescue,
                    keys.iter().flat_map(|k| &k.processing),
                    unix_now,
                ));
                if let Some(summary) = &mut agg.nodes.summary {
                    summary.ignored_workers = self.discovery.ignored_workers();
                }
                if self.redis_ok_at.is_none()
                    || self.last.as_ref().is_some_and(|l| !l.nodes.redis_ok)
                {
                    tracing::info!(redis = %crate::config::redact(&self.config.redis_url), "redis reachable");
                }
                self.logged.worker_errors(&agg);
                self.logged.oversized(oversized);
                self.redis_ok_at = Some(Instant::now());
                let judged_took = now.elapsed() - read_took;
                if warm {
                    self.published_reading = true;
                    self.in_flight = Arc::new(chosen.in_flight());
                    let round_trips = reading.round_trips;
                    cpu_bound(|| self.publish(agg, None, (reading.commands, round_trips), now));
                }
                tracing::debug!(
                    workers = watched.len(),
                    commands = reading.commands,
                    read_ms = read_took.as_millis() as u64,
                    judge_ms = judged_took.as_millis() as u64,
                    total_ms = now.elapsed().as_millis() as u64,
                    "refresh"
                );
                true
            }
            Err(error) => {
                self.discovery.abandon_sweep();
                let was_ok = self.last.as_ref().is_none_or(|l| l.nodes.redis_ok);
                if was_ok {
                    tracing::warn!(%error, "redis unreachable; serving the last known state marked redis_ok=false");
                }
                let stale = match &self.last {
                    Some(last) => Aggregate {
                        nodes: Nodes::clone(&last.nodes),
                        beat_at: last.beat_at.clone(),
                    }
                    .stale(whole_second_now()),
                    None => Aggregate {
                        nodes: Nodes::clone(&Snapshot::empty().nodes),
                        beat_at: vec![],
                    },
                };
                self.publish(stale, Some(error.to_string()), (0, 0), now);
                false
            }
        }
    }

    /// Publishes `agg` as the latest snapshot; `started` is when its refresh began.
    fn publish(
        &mut self,
        agg: Aggregate,
        redis_error: Option<String>,
        (commands, round_trips): (usize, usize),
        started: Instant,
    ) {
        // What changed, once for every viewer of the stream (see `pulseboard_shared::patch`);
        // nothing but the clock keeps the version.
        match &self.last {
            None => self.version += 1,
            Some(last) => {
                let patch = diff(&last.nodes, &agg.nodes, self.version, self.version + 1);
                if !patch.only_the_clock(&last.nodes) {
                    self.patch = Some(Arc::new(SnapshotPatch::new(&patch, &agg.nodes)));
                    self.version += 1;
                }
            }
        }
        let nodes = Arc::new(agg.nodes);
        let mut snapshot = Snapshot::new(nodes.clone(), self.version);
        snapshot.patch = self.patch.clone();
        snapshot.refresh_took = started.elapsed();
        self.hub
            .refreshes()
            .observe(snapshot.refresh_took.as_secs_f64());
        snapshot.redis_ok_at = self.redis_ok_at;
        snapshot.redis_error = redis_error;
        snapshot.commands = commands;
        snapshot.round_trips = round_trips;
        snapshot.in_flight = self.in_flight.clone();
        snapshot.silences = self.silences.clone();
        snapshot.acks = self.acks.clone();
        self.hub.publish(snapshot);
        self.last = Some(Published {
            nodes,
            beat_at: agg.beat_at,
        });
    }
}

/// The discovery `config` asks for, knowing the configured workers.
fn discovery(config: &Config) -> Discovery {
    let mut discovery = Discovery::new(
        config.discovery_every,
        config.scan_count,
        config.max_unregistered as usize,
    );
    discovery.set_registered(config.topology.workers.iter().map(|w| w.name.as_str()));
    discovery
}

/// Now, to the whole second: then every age that only follows the clock grows by exactly the
/// distance between two snapshots' `generated_at`, which is what lets a patch leave them out.
fn whole_second_now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

/// Runs `work` (judging or serialising 10,000 workers: tens of milliseconds) telling a
/// multi-threaded runtime to move its other tasks (requests, streams) to another thread
/// meanwhile, so they do not wait behind it.
fn cpu_bound<T>(work: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        _ => work(),
    }
}
