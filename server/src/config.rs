//! Configuration in layers: built-in defaults (the seed's topology, so no file is needed), then a
//! TOML file, then environment variables, then command-line flags. Unknown keys and bad values
//! are errors at start-up that name the key.
//!
//! This module owns every section; the parts that read one (the refresher, the alerts) get it
//! resolved from here and never parse their own.
//! - [`topology`]: hosts and workers (`queue_host`, `[[hosts]]`, `[[workers]]`).
//! - [`alerts`]: `[alerts]` and its environment variables.
//! - [`lifecycle`]: `[lifecycle]`, the limits of the lifecycle judgement.
//! - [`recovery`]: `[recovery]`, what the recovery guard may do.
//! - [`http`]: `[http]`, the HTTP server's timeouts and caps.
//! - [`redis_tls`]: the CA and client certificate for `rediss://`.
//! - [`agent_key`]: the key shared with the host agents (`PULSEBOARD_AGENT_KEY`,
//!   `agent_key_file`); without it, agent requests are off.
//! - [`error`]: what a bad configuration says.
//! - [`effective`]: the resolved configuration printed back as TOML, secrets redacted.

pub mod admin;
pub mod agent_key;
pub mod alerts;
pub mod dead_letters;
pub mod effective;
pub mod error;
pub mod history;
pub mod http;
pub mod lifecycle;
pub mod recovery;
pub mod redis_tls;
pub mod rescue;
pub mod runtime;
pub mod topology;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pulseboard_shared::agent::key::AgentKeys;
use serde::Deserialize;

use self::alerts::FileAlerts;
pub use self::alerts::{AlertOverrides, AlertSettings};
use self::error::invalid;
pub use self::error::ConfigError;
pub use self::http::HttpLimits;
pub use self::lifecycle::LifecycleSettings;
pub use self::recovery::RecoverySettings;
pub use self::redis_tls::RedisTls;
pub use self::rescue::RescueSettings;
pub use self::topology::{seed_topology, Host, Topology, WorkerSpec};
use self::topology::{topology, FileWorker};

/// Everything the server needs, resolved from all layers.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Redis to read (`redis://host:port/db`, `rediss://` for TLS).
    pub redis_url: String,
    /// TLS files for `rediss://` (`redis_ca_file`, `redis_client_cert`, `redis_client_key`).
    pub redis_tls: RedisTls,
    /// Whether `redis_url` is a node of a Redis Cluster (`redis_cluster`).
    pub redis_cluster: bool,
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// A dashboard bundle built by trunk to serve instead of the embedded one (visual work).
    pub dist: Option<PathBuf>,
    /// How often the snapshot is rebuilt.
    pub refresh: Duration,
    /// How often a new discovery sweep (SCAN) of the keyspace starts.
    pub discovery_every: Duration,
    /// Keys examined per SCAN step; a sweep takes `keys / scan_count` refreshes.
    pub scan_count: u32,
    /// Unregistered workers read at most; discovery counts the rest and never reads them.
    pub max_unregistered: u32,
    /// The pipeline's shape.
    pub topology: Topology,
    /// Alerting (`[alerts]`).
    pub alerts: AlertSettings,
    /// The lifecycle judgement's limits (`[lifecycle]`).
    pub lifecycle: LifecycleSettings,
    /// The HTTP server's timeouts and caps (`[http]`).
    pub http: HttpLimits,
    /// The recovery guard (`[recovery]`).
    pub recovery: RecoverySettings,
    /// Who may read dead letters and what is masked (`[dead_letters]`).
    pub dead_letters: dead_letters::DeadLetterSettings,
    /// What happens to the jobs of a consumer that is gone (`[rescue]`).
    pub rescue: rescue::RescueSettings,
    /// Throughput over time (`[history]`).
    pub history: history::HistorySettings,
    /// What each worker should run (`[runtime]`): drift is judged against it.
    pub runtime: runtime::RuntimeSettings,
    /// Who may act through the admin API (`PULSEBOARD_ADMIN_TOKENS`); nobody when empty.
    pub admin_tokens: admin::AdminTokens,
    /// A read-only replica of the dashboard (`--read-only`): no alerts, no recovery guard, no
    /// admin actions; nothing is written to Redis, so a read-only Redis user is enough.
    pub read_only: bool,
    /// The key requests to host agents are signed with and their results checked with
    /// (`PULSEBOARD_AGENT_KEY` or `agent_key_file`); without one, no agent is asked anything.
    pub agent_key: Option<AgentKeys>,
    /// The file `agent_key` was read from, if it came from one (`agent_key_file`).
    pub agent_key_file: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            redis_url: "redis://127.0.0.1:6379".into(),
            redis_tls: RedisTls::default(),
            redis_cluster: false,
            listen: "127.0.0.1:8080".parse().expect("a valid address"),
            dist: None,
            refresh: Duration::from_millis(1000),
            discovery_every: Duration::from_millis(5000),
            scan_count: 10_000,
            max_unregistered: 1_000,
            topology: seed_topology(),
            alerts: AlertSettings::default(),
            lifecycle: LifecycleSettings::default(),
            http: HttpLimits::default(),
            recovery: RecoverySettings::default(),
            dead_letters: Default::default(),
            rescue: Default::default(),
            history: Default::default(),
            runtime: Default::default(),
            admin_tokens: admin::AdminTokens::default(),
            read_only: false,
            agent_key: None,
            agent_key_file: None,
        }
    }
}

/// The TOML file, every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    redis_url: Option<String>,
    redis_ca_file: Option<PathBuf>,
    redis_client_cert: Option<PathBuf>,
    redis_client_key: Option<PathBuf>,
    redis_cluster: Option<bool>,
    listen: Option<String>,
    dist: Option<PathBuf>,
    refresh_ms: Option<u64>,
    discovery_every_ms: Option<u64>,
    scan_count: Option<u32>,
    max_unregistered: Option<u32>,
    queue_host: Option<String>,
    hosts: Option<Vec<Host>>,
    workers: Option<Vec<FileWorker>>,
    alerts: Option<FileAlerts>,
    lifecycle: Option<lifecycle::FileLifecycle>,
    http: Option<http::FileHttp>,
    recovery: Option<recovery::FileRecovery>,
    dead_letters: Option<dead_letters::FileDeadLetters>,
    rescue: Option<rescue::FileRescue>,
    history: Option<history::FileHistory>,
    runtime: Option<runtime::FileRuntime>,
    agent_key_file: Option<PathBuf>,
}

/// The layers above the file: environment and flags (clap merges those two, flags winning).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--redis` / `REDIS_URL`.
    pub redis_url: Option<String>,
    /// `--redis-ca-file`, `--redis-client-cert`, `--redis-client-key` (and their
    /// `PULSEBOARD_REDIS_*` variables).
    pub redis_tls: RedisTls,
    /// `--redis-cluster` / `PULSEBOARD_REDIS_CLUSTER`.
    pub redis_cluster: Option<bool>,
    /// `--listen` / `PULSEBOARD_LISTEN`.
    pub listen: Option<String>,
    /// `--dist` / `PULSEBOARD_DIST`.
    pub dist: Option<PathBuf>,
    /// `--refresh-ms` / `PULSEBOARD_REFRESH_MS`.
    pub refresh_ms: Option<u64>,
    /// Alert sinks and language from the environment (`TELEGRAM_BOT_TOKEN`, ...).
    pub alerts: AlertOverrides,
    /// `--admin-tokens` / `PULSEBOARD_ADMIN_TOKENS`, parsed.
    pub admin_tokens: admin::AdminTokens,
    /// `--read-only` / `PULSEBOARD_READ_ONLY`.
    pub read_only: bool,
    /// `--agent-key` / `PULSEBOARD_AGENT_KEY`, parsed.
    pub agent_key: Option<AgentKeys>,
    /// `--agent-key-file` / `PULSEBOARD_AGENT_KEY_FILE`.
    pub agent_key_file: Option<PathBuf>,
}

impl Config {
    /// How long one Redis exchange may take: the whole refresh interval but no more, and at
    /// least 500 ms for slow links.
    pub fn redis_timeout(&self) -> Duration {
        self.refresh.max(Duration::from_millis(500))
    }

    /// A client for the configured Redis, with its TLS files when given.
    pub fn redis_client(&self) -> Result<redis::Client, ConfigError> {
        self.redis_tls.client(&self.redis_url)
    }

    /// Defaults, then the file at `path` (if any), then `overrides`.
    pub fn load(path: Option<&Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        let file = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|cause| ConfigError::Read {
                    path: path.to_owned(),
                    cause,
                })?;
                toml::from_str(&text).map_err(|e| ConfigError::Parse {
                    path: path.to_owned(),
                    message: e.to_string().trim_end().to_owned(),
                })?
            }
            None => FileConfig::default(),
        };
        Self::from_layers(file, overrides)
    }

    /// Parses a TOML text as the file layer (for tests).
    pub fn from_toml(text: &str, overrides: &Overrides) -> Result<Self, ConfigError> {
        let file = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: PathBuf::from("<text>"),
            message: e.to_string().trim_end().to_owned(),
        })?;
        Self::from_layers(file, overrides)
    }

    fn from_layers(file: FileConfig, overrides: &Overrides) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let listen_text = overrides.listen.clone().or(file.listen);
        let listen = match listen_text {
            Some(text) => text.parse().map_err(|_| {
                invalid(
                    "listen",
                    format!("{text:?} is not an address like 127.0.0.1:8080"),
                )
            })?,
            None => defaults.listen,
        };
        let redis_url = overrides
            .redis_url
            .clone()
            .or(file.redis_url)
            .unwrap_or(defaults.redis_url);
        redis::parse_redis_url(&redis_url).ok_or_else(|| {
            invalid(
                "redis_url",
                format!("{:?} is not a redis:// URL", redact(&redis_url)),
            )
        })?;
        let tls = &overrides.redis_tls;
        let redis_tls = RedisTls {
            ca_file: tls.ca_file.clone().or(file.redis_ca_file),
            client_cert: tls.client_cert.clone().or(file.redis_client_cert),
            client_key: tls.client_key.clone().or(file.redis_client_key),
        };
        redis_tls.check(&redis_url)?;
        let refresh_ms = overrides.refresh_ms.or(file.refresh_ms).unwrap_or(1000);
        if !(50..=60_000).contains(&refresh_ms) {
            return Err(invalid(
                "refresh_ms",
                format!("{refresh_ms} is outside 50..=60000"),
            ));
        }
        let discovery_ms = file.discovery_every_ms.unwrap_or(5000);
        if discovery_ms < refresh_ms {
            return Err(invalid(
                "discovery_every_ms",
                format!("{discovery_ms} is shorter than refresh_ms ({refresh_ms})"),
            ));
        }
        let scan_count = file.scan_count.unwrap_or(defaults.scan_count);
        if scan_count == 0 {
            return Err(invalid("scan_count", "must be at least 1"));
        }
        let topology = topology(file.queue_host, file.hosts, file.workers)?;
        let runtime = runtime::resolve(file.runtime, |name| {
            let w = topology.workers.iter().find(|w| w.name == name);
            w.map(|w| w.kind)
        })?;
        let alerts = alerts::resolve(file.alerts, &overrides.alerts)?;
        if overrides.read_only && overrides.admin_tokens.enabled() {
            return Err(invalid(
                "--read-only",
                "admin actions write to Redis: unset PULSEBOARD_ADMIN_TOKENS / --admin-tokens",
            ));
        }
        let agent_key_file = overrides.agent_key_file.clone().or(file.agent_key_file);
        let agent_key = match (&overrides.agent_key, &agent_key_file) {
            (Some(_), Some(path)) => {
                let twice = agent_key::AgentKeyLoadError::Twice(path.clone());
                return Err(invalid("agent_key_file", twice.to_string()));
            }
            (Some(keys), None) => Some(keys.clone()),
            (None, path) => agent_key::load(None, path.as_deref())
                .map_err(|e| invalid("agent_key_file", e.to_string()))?,
        };
        Ok(Self {
            redis_url,
            redis_tls,
            redis_cluster: overrides
                .redis_cluster
                .or(file.redis_cluster)
                .unwrap_or(false),
            listen,
            dist: overrides.dist.clone().or(file.dist),
            refresh: Duration::from_millis(refresh_ms),
            discovery_every: Duration::from_millis(discovery_ms),
            scan_count,
            max_unregistered: file.max_unregistered.unwrap_or(defaults.max_unregistered),
            topology,
            alerts,
            lifecycle: lifecycle::resolve(file.lifecycle)?,
            recovery: recovery::resolve(file.recovery)?,
            http: http::resolve(file.http)?,
            dead_letters: dead_letters::resolve(file.dead_letters)?,
            rescue: rescue::resolve(file.rescue)?,
            history: history::resolve(file.history)?,
            runtime,
            admin_tokens: overrides.admin_tokens.clone(),
            read_only: overrides.read_only,
            agent_key,
            agent_key_file,
        })
    }
}

/// A Redis URL fit for logs: every password replaced by `***`, in whichever form redis-rs takes
/// it: `redis://user:pw@host`, `rediss://:pw@host`, and the query's `pass=` / `password=` of
/// `redis+unix:///run/redis.sock?pass=pw` (a `user=` stays: it names, it does not open).
pub fn redact(url: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (url, None),
    };
    let mut out = match (head.find("://"), head.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &head[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &head[..scheme + 3], &head[at..]),
                None => head.to_owned(), // a user without a password
            }
        }
        _ => head.to_owned(),
    };
    if let Some(query) = query {
        out.push('?');
        for (i, pair) in query.split('&').enumerate() {
            if i > 0 {
                out.push('&');
            }
            match pair.split_once('=') {
                Some((key, _)) if matches!(key, "pass" | "password") => {
                    out.push_str(key);
                    out.push_str("=***");
                }
                _ => out.push_str(pair),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_url_form_has_its_password_redacted() {
        for (url, shown) in [
            ("redis://ops:hunter2@h:6379/0", "redis://ops:***@h:6379/0"),
            ("rediss://:hunter2@h:6380", "rediss://:***@h:6380"),
            ("redis://h:6379", "redis://h:6379"),
            ("redis://ops@h", "redis://ops@h"),
            (
                "redis+unix:///run/redis.sock?db=1&pass=hunter2",
                "redis+unix:///run/redis.sock?db=1&pass=***",
            ),
            (
                "unix:///run/r.sock?user=ops&password=hunter2",
                "unix:///run/r.sock?user=ops&password=***",
            ),
            ("redis://a:b@c@h/0?pass=x@y", "redis://a:***@h/0?pass=***"),
        ] {
            assert_eq!(redact(url), shown, "{url}");
        }
    }

    #[test]
    fn no_file_gives_the_seed_topology() {
        let config = Config::load(None, &Overrides::default()).unwrap();
        assert_eq!(config, Config::default());
        let names: Vec<_> = config
            .topology
            .workers
            .iter()
            .map(|w| w.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "music-render",
                "video-render",
                "image-render",
                "insta-render",
                "task-watcher",
                "ai_trade"
            ]
        );
        assert_eq!(
            config.topology.workers[0].queue.as_deref(),
            Some("queue:music-render")
        );
        assert_eq!(config.topology.workers[4].queue, None);
    }

    #[test]
    fn read_only_takes_no_admin_tokens() {
        let overrides = Overrides {
            read_only: true,
            ..Overrides::default()
        };
        assert!(Config::load(None, &overrides).unwrap().read_only);
        let with_tokens = Overrides {
            admin_tokens: admin::AdminTokens::parse("ops:0123456789abcdef").unwrap(),
            ..overrides
        };
        let refused = Config::load(None, &with_tokens).unwrap_err().to_string();
        assert!(refused.contains("--read-only"), "{refused}");
    }

    #[test]
    fn layers_apply_in_order() {
        let file = r#"
            redis_url = "redis://file:6379"
            listen = "127.0.0.1:9000"
            refresh_ms = 500
        "#;
        let from_file = Config::from_toml(file, &Overrides::default()).unwrap();
        assert_eq!(from_file.redis_url, "redis://file:6379");
        assert_eq!(from_file.listen.port(), 9000);
        assert_eq!(from_file.refresh, Duration::from_millis(500));
        let overrides = Overrides {
            redis_url: Some("redis://flag:6379".into()),
            ..Overrides::default()
        };
        let layered = Config::from_toml(file, &overrides).unwrap();
        assert_eq!(layered.redis_url, "redis://flag:6379");
        assert_eq!(layered.listen.port(), 9000);
    }

    #[test]
    fn unknown_key_is_named() {
        let err = Config::from_toml("refresh_msec = 5", &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("refresh_msec"), "{err}");
        let err = Config::from_toml(
            "[[workers]]\nname = \"a\"\nkind = \"render\"\ncolour = 1",
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
    }

    #[test]
    fn bad_values_are_named() {
        let cases = [
            ("listen = \"nowhere\"", "listen"),
            ("redis_url = \"http://x\"", "redis_url"),
            ("refresh_ms = 1", "refresh_ms"),
            ("[[workers]]\nname = \"a b\"\nkind = \"render\"", "workers[0].name"),
            ("[[workers]]\nname = \"a\"\nkind = \"gpu\"", "kind"),
            ("[[workers]]\nname = \"a\"\nkind = \"render\"\nhost = \"mars\"", "workers[0].host"),
            ("[[workers]]\nname = \"a\"\nkind = \"watcher\"\nqueue = \"q\"", "workers[0].queue"),
            ("[[workers]]\nname = \"a\"\nkind = \"render\"\nparts = [\"x\"]", "workers[0].parts"),
            ("[[workers]]\nname = \"a\"\nkind = \"render\"\nparts = [\"x\", \"x\"]", "workers[0].parts"),
            ("[[workers]]\nname = \"a\"\nkind = \"render\"\nparts = [\"x\", \"a:b\"]", "workers[0].parts"),
            ("[[workers]]\nname = \"a\"\nkind = \"render\"\npart_down = \"unhealthy\"", "workers[0].part_down"),
            (
                "[[workers]]\nname = \"a\"\nkind = \"render\"\n[[workers]]\nname = \"a\"\nkind = \"render\"",
                "workers[1].name",
            ),
        ];
        for (text, key) in cases {
            let err = Config::from_toml(text, &Overrides::default()).unwrap_err();
            assert!(
                err.to_string().contains(key),
                "{text:?}: {err} should name {key}"
            );
        }
    }

    #[test]
    fn custom_workers_get_defaults() {
        let config = Config::from_toml(
            "[[workers]]\nname = \"gpu-1\"\nkind = \"render\"\n[[workers]]\nname = \"bot\"\nkind = \"trader\"",
            &Overrides::default(),
        )
        .unwrap();
        let w = &config.topology.workers;
        assert_eq!(w[0].queue.as_deref(), Some("queue:gpu-1"));
        assert_eq!(w[0].host, "windows");
        assert_eq!(w[1].pulls_from, "nas-stock");
        assert!(w[0].parts.is_empty());
        let parts = Config::from_toml(
            "[[workers]]\nname = \"hero\"\nkind = \"render\"\nparts = [\"server\", \"ui\"]\npart_down = \"unhealthy\"",
            &Overrides::default(),
        )
        .unwrap();
        let hero = &parts.topology.workers[0];
        assert_eq!(hero.parts, ["server", "ui"]);
        assert_eq!(
            hero.part_down,
            pulseboard_shared::parts::PartDown::Unhealthy
        );
    }

    #[test]
    fn the_example_file_is_the_default() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../pulseboard.example.toml");
        let config = Config::load(Some(&example), &Overrides::default()).unwrap();
        assert_eq!(config, Config::default());
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("redis://:secret@host:6379/0"),
            "redis://:***@host:6379/0"
        );
        assert_eq!(redact("redis://user:secret@host"), "redis://user:***@host");
        assert_eq!(redact("redis://host:6379"), "redis://host:6379");
    }
}
