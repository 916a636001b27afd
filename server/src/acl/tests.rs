//! The printed lines, and each role checked against the keys its code touches (built with the
//! code's own key functions): covered with the access it needs, and no other worker's or host's.

use pulseboard_shared::agent::{beat_key, requests_key, started_key, RESULTS_KEY};
use pulseboard_shared::command::commands_key;
use pulseboard_shared::heartbeat::heartbeat_key;
use pulseboard_shared::parts::part_beat_key;
use pulseboard_worker::queue::{dead_letter_key, in_flight_key, queue_key, PAUSED_KEY};

use super::*;
use crate::config::{seed_topology, Config, Overrides};
use crate::discovery::Pattern;
use crate::ledger::store::Keys;

const PASSWORD: &str = "0123456789abcdef0123";

fn user(role: Role, name: Option<&str>) -> User {
    let request = Request {
        name: name.map(str::to_owned),
        ..Request::default()
    };
    User::new(role, &request, PASSWORD, &seed_topology()).unwrap()
}

/// (may read, may write) `key`, from every rule that matches it.
fn access(user: &User, key: &str) -> (bool, bool) {
    user.grant
        .keys
        .iter()
        .filter(|k| glob::matches(&k.pattern, key))
        .fold((false, false), |(r, w), k| match k.access {
            Access::ReadWrite => (true, true),
            Access::Read => (true, w),
            Access::Write => (r, true),
        })
}

const NONE: (bool, bool) = (false, false);
const READ: (bool, bool) = (true, false);
const WRITE: (bool, bool) = (false, true);
const BOTH: (bool, bool) = (true, true);

/// Every key of the ledger, on one server and on a cluster.
fn ledger_keys() -> Vec<String> {
    [Keys::for_cluster(false), Keys::for_cluster(true)]
        .iter()
        .flat_map(|k| {
            [
                k.state(),
                k.lease(),
                k.recovery(),
                k.recovery_lease(),
                k.recovery_overrides(),
                k.outbox("telegram"),
                k.events(),
            ]
        })
        .collect()
}

/// Asserts `user` may neither read nor write any of `keys`, nor the ledger's keys.
fn touches_none(user: &User, keys: Vec<String>) {
    for key in keys.into_iter().chain(ledger_keys()) {
        assert_eq!(access(user, &key), NONE, "{key}");
    }
}

#[test]
fn a_workers_line_as_printed() {
    let worker = user(Role::Worker, Some("gpu-1"));
    assert_eq!(
        worker.line(Format::Cli),
        "ACL SETUSER worker-gpu-1 reset resetkeys resetchannels -@all on \
         #1bd8fd47297046f993e608e398d5905b00a33e163c6b1172dd38887fed05ed6a \
         +set +lpop +blmove +lmove +lrem +lpush +get +evalsha +script|load +select \
         %W~worker:gpu-1:heartbeat %W~worker:gpu-1:part:*:beat ~worker:gpu-1:commands ~queue:gpu-1 \
         ~processing:queue:gpu-1:* ~dead_letter:queue:gpu-1 %R~queue:paused"
    );
    let file = worker.line(Format::File);
    assert!(file.starts_with("user worker-gpu-1 reset "), "{file}");
    assert_eq!(&file[5..], &worker.line(Format::Cli)[12..]);
}

#[test]
fn the_password_is_only_its_hash_and_must_be_long() {
    assert_eq!(
        password_sha256("password-password").unwrap(),
        // printf %s password-password | sha256sum
        "7a2796cf8e75280651da4fbf32e5f349a6787d1533e0c884515f15ed60f99f6a"
    );
    for role in [Role::Worker, Role::Agent, Role::Server, Role::Viewer] {
        let line = user(role, Some("gpu-1")).line(Format::Cli);
        assert!(!line.contains(PASSWORD), "{line}");
        assert!(line.contains(" on #"), "{line}");
    }
    assert_eq!(password_sha256("short"), Err(AclError::ShortPassword));
}

#[test]
fn a_worker_touches_its_own_keys_and_no_one_elses() {
    let w = user(Role::Worker, Some("gpu-1"));
    let queue = queue_key("gpu-1");
    assert_eq!(access(&w, &heartbeat_key("gpu-1")), WRITE);
    assert_eq!(access(&w, &part_beat_key("gpu-1", "ui")), WRITE);
    assert_eq!(access(&w, &commands_key("gpu-1")), BOTH);
    assert_eq!(access(&w, &queue), BOTH);
    assert_eq!(access(&w, &in_flight_key(&queue, "c1")), BOTH);
    assert_eq!(access(&w, &dead_letter_key(&queue)), BOTH);
    assert_eq!(access(&w, PAUSED_KEY), READ);
    let others = vec![
        heartbeat_key("gpu-10"),
        heartbeat_key("gpu"),
        part_beat_key("gpu-10", "ui"),
        commands_key("gpu-10"),
        commands_key("gpu-2"),
        commands_key("gpu-1x"),
        queue_key("gpu-10"),
        in_flight_key(&queue_key("gpu-10"), "c1"),
        dead_letter_key(&queue_key("gpu-10")),
        requests_key("windows"),
        started_key("windows"),
        beat_key("windows"),
        RESULTS_KEY.to_owned(),
    ];
    touches_none(&w, others);
}

#[test]
fn a_worker_may_name_its_queue_and_consumer_and_set_the_pause() {
    let request = Request {
        name: Some("watch".into()),
        queue: Some("jobs:gpu".into()),
        consumer: Some("c1".into()),
        may_pause: true,
    };
    let w = User::new(Role::Worker, &request, PASSWORD, &seed_topology()).unwrap();
    assert_eq!(access(&w, "jobs:gpu"), BOTH);
    assert_eq!(access(&w, &in_flight_key("jobs:gpu", "c1")), BOTH);
    assert_eq!(access(&w, &in_flight_key("jobs:gpu", "c2")), NONE);
    assert_eq!(access(&w, &dead_letter_key("jobs:gpu")), BOTH);
    assert_eq!(access(&w, &queue_key("watch")), NONE);
    assert_eq!(access(&w, PAUSED_KEY), BOTH);
    assert!(w.grant.commands.contains(&"setex") && w.grant.commands.contains(&"del"));
    assert!(!user(Role::Worker, Some("w"))
        .grant
        .commands
        .contains(&"del"));
}

#[test]
fn an_agent_touches_its_host_and_the_results_only() {
    let a = user(Role::Agent, Some("windows"));
    assert_eq!(a.name, "agent-windows");
    assert_eq!(access(&a, &requests_key("windows")), BOTH);
    assert_eq!(access(&a, &started_key("windows")), WRITE);
    assert_eq!(access(&a, &beat_key("windows")), WRITE);
    assert_eq!(access(&a, RESULTS_KEY), WRITE);
    let others = vec![
        requests_key("windows2"),
        requests_key("nas"),
        started_key("nas"),
        beat_key("nas"),
        heartbeat_key("windows"),
        commands_key("windows"),
        queue_key("windows"),
        PAUSED_KEY.to_owned(),
    ];
    touches_none(&a, others);
}

#[test]
fn the_server_reads_the_fleet_keeps_its_keys_and_sends() {
    let s = user(Role::Server, None);
    assert_eq!(s.name, "pulseboard");
    for key in ledger_keys() {
        assert_eq!(access(&s, &key), BOTH, "{key}");
    }
    let queue = queue_key("music-render");
    // Dead letters are replayed onto a configured queue, or deleted; the pause flag stays read.
    assert_eq!(access(&s, &queue), BOTH);
    assert_eq!(access(&s, &dead_letter_key(&queue)), BOTH);
    // Orphaned in-flight lists are emptied onto their queue.
    assert_eq!(access(&s, &in_flight_key(&queue, "c1")), BOTH);
    for key in [
        heartbeat_key("any"),
        part_beat_key("any", "ui"),
        queue_key("unconfigured"),
        PAUSED_KEY.to_owned(),
        beat_key("windows"),
        RESULTS_KEY.to_owned(),
    ] {
        assert_eq!(access(&s, &key), READ, "{key}");
    }
    assert_eq!(access(&s, &commands_key("any")), WRITE);
    assert_eq!(access(&s, &requests_key("windows")), WRITE);
    // What discovery finds, it may read.
    for (pattern, found) in [
        (Pattern::Heartbeat, heartbeat_key("stray")),
        (Pattern::Processing, in_flight_key(&queue, "9")),
    ] {
        assert!(glob::matches(pattern.glob(), &found));
        assert!(access(&s, &found).0, "{found}");
    }
    assert_eq!(access(&s, &started_key("windows")), NONE);
    assert_eq!(access(&s, "pulseboard:other"), NONE);
}

#[test]
fn the_viewer_only_reads() {
    let v = user(Role::Viewer, None);
    assert_eq!(v.name, "pulseboard-viewer");
    assert!(v.grant.keys.iter().all(|k| k.access == Access::Read));
    for command in &v.grant.commands {
        assert!(
            [
                "get",
                "getrange",
                "pttl",
                "llen",
                "scan",
                "xrevrange",
                "evalsha_ro",
                "script|load",
                "cluster|slots",
                "ping",
                "select"
            ]
            .contains(command),
            "{command} is not a read"
        );
    }
    for keys in [Keys::for_cluster(false), Keys::for_cluster(true)] {
        assert_eq!(access(&v, &keys.recovery()), READ);
        assert_eq!(access(&v, &keys.events()), READ);
        assert_eq!(access(&v, &keys.lease()), NONE);
    }
    assert_eq!(access(&v, &heartbeat_key("any")), READ);
}

#[test]
fn no_role_may_run_an_administrative_command() {
    for role in [Role::Worker, Role::Agent, Role::Server, Role::Viewer] {
        let u = user(role, Some("n"));
        for command in &u.grant.commands {
            let container = command.split('|').next().unwrap();
            assert!(
                ![
                    "flushall",
                    "flushdb",
                    "config",
                    "debug",
                    "keys",
                    "shutdown",
                    "acl",
                    "module",
                    "eval",
                    "function",
                    "fcall",
                    "client",
                    "monitor",
                    "save",
                    "bgsave",
                    "replicaof",
                    "slaveof",
                    "migrate",
                    "restore",
                    "sort",
                    "object"
                ]
                .contains(&container),
                "{role:?}: {command}"
            );
        }
        assert!(u.grant.commands.iter().all(|c| *c == c.to_lowercase()));
        let line = u.line(Format::Cli);
        assert!(!line.contains("allkeys") && !line.contains(" ~* ") && !line.contains("+@"));
    }
}

#[test]
fn names_that_would_widen_a_pattern_or_break_the_line_are_refused() {
    let topology = seed_topology();
    for bad in [
        "", "a*", "a?", "a[b]", "a\\b", "a b", "a\"b", "a'b", "a:b", "a\tb", "é",
    ] {
        for role in [Role::Worker, Role::Agent, Role::Server] {
            let request = Request {
                name: Some(bad.into()),
                ..Request::default()
            };
            let refused = User::new(role, &request, PASSWORD, &topology);
            assert!(
                matches!(refused, Err(AclError::BadName { .. })),
                "{role:?} {bad:?}"
            );
        }
    }
    assert!(User::new(
        Role::Worker,
        &Request {
            name: Some("a".repeat(101)),
            ..Request::default()
        },
        PASSWORD,
        &topology
    )
    .is_err());
    let queue = |q: &str| Request {
        name: Some("w".into()),
        queue: Some(q.into()),
        ..Request::default()
    };
    assert!(User::new(Role::Worker, &queue("jobs:w"), PASSWORD, &topology).is_ok());
    assert!(User::new(Role::Worker, &queue("jobs:*"), PASSWORD, &topology).is_err());
}

#[test]
fn flags_that_are_not_the_roles_are_refused() {
    let topology = seed_topology();
    let agent = Request {
        name: Some("h".into()),
        consumer: Some("c".into()),
        ..Request::default()
    };
    let refused = User::new(Role::Agent, &agent, PASSWORD, &topology).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "--role agent: --consumer is only for --role worker"
    );
    let nameless = User::new(Role::Worker, &Request::default(), PASSWORD, &topology);
    assert_eq!(nameless, Err(AclError::NameRequired(Role::Worker)));
}

#[test]
fn configured_queues_not_named_queue_star_are_read_too() {
    let config = Config::from_toml(
        r#"
        queue_host = "gpu"
        [[hosts]]
        name = "gpu"
        [[workers]]
        name = "a"
        kind = "render"
        queue = "jobs.a"
        [[workers]]
        name = "b"
        kind = "render"
        "#,
        &Overrides::default(),
    )
    .unwrap();
    for role in [Role::Server, Role::Viewer] {
        let u = User::new(role, &Request::default(), PASSWORD, &config.topology).unwrap();
        // The server may also replay dead letters onto it.
        let want = if role == Role::Server { BOTH } else { READ };
        assert_eq!(access(&u, "jobs.a"), want, "{role:?}");
        assert_eq!(access(&u, &dead_letter_key("jobs.a")), want, "{role:?}");
        assert_eq!(access(&u, &in_flight_key("jobs.a", "1")), want, "{role:?}");
        let extra = u
            .grant
            .keys
            .iter()
            .filter(|k| k.pattern == "jobs.a")
            .count();
        assert_eq!(extra, 1, "{role:?}: once, and queue:b is already queue:*");
    }
    let globbed = Config::from_toml(
        r#"
        queue_host = "gpu"
        [[hosts]]
        name = "gpu"
        [[workers]]
        name = "a"
        kind = "render"
        queue = "jobs*"
        "#,
        &Overrides::default(),
    )
    .unwrap();
    let refused = User::new(
        Role::Server,
        &Request::default(),
        PASSWORD,
        &globbed.topology,
    );
    assert!(
        refused
            .unwrap_err()
            .to_string()
            .contains("workers[0].queue"),
        "names the key"
    );
}
