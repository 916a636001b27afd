//! The effective configuration as a TOML file, with secrets redacted: what `check-config` prints.
//!
//! It uses the file's own keys, so the output can be read back as a configuration (once the
//! `***` placeholders are replaced by the real secrets).

use std::time::Duration;

use toml::{Table, Value};

use super::{redact, Config};

const REDACTED: &str = "***";

/// `config` as a TOML document, secrets shown as `***`.
pub fn to_toml(config: &Config) -> String {
    let ms = |d: Duration| Value::Integer(d.as_millis() as i64);
    let s = |d: Duration| Value::Integer(d.as_secs() as i64);
    let text = |t: &str| Value::String(t.to_owned());
    let mut root = Table::new();
    root.insert("redis_url".into(), text(&redact(&config.redis_url)));
    for (key, path) in [
        ("redis_ca_file", &config.redis_tls.ca_file),
        ("redis_client_cert", &config.redis_tls.client_cert),
        ("redis_client_key", &config.redis_tls.client_key),
    ] {
        if let Some(path) = path {
            root.insert(key.into(), text(&path.display().to_string()));
        }
    }
    // The key itself is never printed: its file's path, when it came from one.
    if let Some(path) = &config.agent_key_file {
        root.insert("agent_key_file".into(), text(&path.display().to_string()));
    }
    if config.redis_cluster {
        root.insert("redis_cluster".into(), Value::Boolean(true));
    }
    root.insert("listen".into(), text(&config.listen.to_string()));
    if let Some(dist) = &config.dist {
        root.insert("dist".into(), text(&dist.display().to_string()));
    }
    root.insert("refresh_ms".into(), ms(config.refresh));
    root.insert("discovery_every_ms".into(), ms(config.discovery_every));
    root.insert(
        "scan_count".into(),
        Value::Integer(config.scan_count.into()),
    );
    root.insert(
        "max_unregistered".into(),
        Value::Integer(config.max_unregistered.into()),
    );
    let topology = &config.topology;
    root.insert("queue_host".into(), text(&topology.queue_host));
    let hosts = topology.hosts.iter().map(|h| {
        let mut t = Table::new();
        t.insert("name".into(), text(&h.name));
        if let Some(label) = &h.label {
            t.insert("label".into(), text(label));
        }
        Value::Table(t)
    });
    root.insert("hosts".into(), Value::Array(hosts.collect()));
    let workers = topology.workers.iter().map(|w| {
        let mut t = Table::new();
        t.insert("name".into(), text(&w.name));
        t.insert("kind".into(), text(w.kind.as_str()));
        t.insert("host".into(), text(&w.host));
        if let Some(queue) = &w.queue {
            t.insert("queue".into(), text(queue));
        }
        if w.kind == pulseboard_shared::WorkerKind::Trader {
            t.insert("pulls_from".into(), text(&w.pulls_from));
        }
        if !w.parts.is_empty() {
            let parts = w.parts.iter().map(|p| text(p)).collect();
            t.insert("parts".into(), Value::Array(parts));
            let part_down = match w.part_down {
                pulseboard_shared::parts::PartDown::Down => "down",
                pulseboard_shared::parts::PartDown::Unhealthy => "unhealthy",
            };
            t.insert("part_down".into(), text(part_down));
        }
        Value::Table(t)
    });
    root.insert("workers".into(), Value::Array(workers.collect()));

    let l = &config.lifecycle;
    let mut lifecycle = Table::new();
    lifecycle.insert(
        "ready_timeout_s".into(),
        Value::Integer(l.ready_timeout_s as i64),
    );
    lifecycle.insert(
        "stall_after_s".into(),
        Value::Integer(l.stall_after_s.unwrap_or(0) as i64),
    );
    let by_kind = l
        .stall_after_s_by_kind
        .iter()
        .map(|(k, v)| (k.clone(), Value::Integer(*v as i64)));
    lifecycle.insert(
        "stall_after_s_by_kind".into(),
        Value::Table(by_kind.collect()),
    );
    root.insert("lifecycle".into(), Value::Table(lifecycle));

    let r = &config.recovery;
    let mut recovery = Table::new();
    let mode = |m: &pulseboard_shared::recovery::Mode| text(m.as_str());
    recovery.insert("mode".into(), mode(&r.policy.mode));
    let triggers = r.policy.triggers.iter().map(|t| {
        (
            t.state.as_str().to_owned(),
            Value::Integer(t.after_s as i64),
        )
    });
    recovery.insert("triggers".into(), Value::Table(triggers.collect()));
    for (key, value) in [
        ("backoff_start_s", r.policy.backoff_start_s),
        ("backoff_max_s", r.policy.backoff_max_s),
        ("max_attempts", u64::from(r.policy.max_attempts)),
        ("window_s", r.policy.window_s),
        ("healthy_reset_s", r.policy.healthy_reset_s),
        ("answer_timeout_s", r.policy.answer_timeout_s),
    ] {
        recovery.insert(key.into(), Value::Integer(value as i64));
    }
    for (key, table) in [
        ("modes_by_kind", &r.modes_by_kind),
        ("modes_by_worker", &r.modes_by_worker),
    ] {
        recovery.insert(
            key.into(),
            Value::Table(table.iter().map(|(k, m)| (k.clone(), mode(m))).collect()),
        );
    }
    root.insert("recovery".into(), Value::Table(recovery));

    let h = &config.http;
    let mut http = Table::new();
    http.insert("header_timeout_s".into(), s(h.header_timeout));
    http.insert("request_timeout_s".into(), s(h.request_timeout));
    http.insert(
        "max_connections".into(),
        Value::Integer(h.max_connections as i64),
    );
    http.insert("max_streams".into(), Value::Integer(h.max_streams as i64));
    http.insert(
        "max_streams_per_client".into(),
        Value::Integer(h.max_streams_per_client as i64),
    );
    let proxies = h.trusted_proxies.iter().map(|p| text(&p.to_string()));
    http.insert("trusted_proxies".into(), Value::Array(proxies.collect()));
    root.insert("http".into(), Value::Table(http));

    let d = &config.dead_letters;
    let mut dead_letters = Table::new();
    dead_letters.insert("public".into(), Value::Boolean(d.public));
    let redact = d.redact.iter().map(|k| text(k));
    dead_letters.insert("redact".into(), Value::Array(redact.collect()));
    root.insert("dead_letters".into(), Value::Table(dead_letters));

    let r = &config.rescue;
    let mut rescue = Table::new();
    let mode = |m| match m {
        pulseboard_shared::rescue::RescueMode::Auto => "auto",
        pulseboard_shared::rescue::RescueMode::Recommend => "recommend",
        pulseboard_shared::rescue::RescueMode::Off => "off",
    };
    rescue.insert("mode".into(), text(mode(r.mode)));
    for (key, modes) in [
        ("modes_by_kind", &r.modes_by_kind),
        ("modes_by_worker", &r.modes_by_worker),
    ] {
        let table = modes.iter().map(|(k, m)| (k.clone(), text(mode(*m))));
        rescue.insert(key.into(), Value::Table(table.collect()));
    }
    rescue.insert("after_s".into(), Value::Integer(r.after_s as i64));
    rescue.insert(
        "max_rescues".into(),
        Value::Integer(i64::from(r.max_rescues)),
    );
    rescue.insert("window_s".into(), Value::Integer(r.window_s as i64));
    root.insert("rescue".into(), Value::Table(rescue));

    let h = &config.history;
    let mut history = Table::new();
    history.insert("enabled".into(), Value::Boolean(h.enabled));
    history.insert("step_s".into(), Value::Integer(h.step_s as i64));
    history.insert("keep_minutes".into(), Value::Integer(h.keep_fine as i64));
    history.insert("keep_hours".into(), Value::Integer(h.keep_coarse as i64));
    root.insert("history".into(), Value::Table(history));
    root.insert("runtime".into(), Value::Table(runtime(&config.runtime)));

    let a = &config.alerts;
    let mut alerts = Table::new();
    alerts.insert("enabled".into(), Value::Boolean(a.enabled));
    let language = match a.language {
        super::alerts::Language::Korean => "ko",
        super::alerts::Language::English => "en",
    };
    alerts.insert("language".into(), text(language));
    alerts.insert("startup_grace_s".into(), s(a.startup_grace));
    alerts.insert("flap_max".into(), Value::Integer(a.flap_max.into()));
    alerts.insert("flap_window_s".into(), s(a.flap_window));
    alerts.insert("unhealthy_after_s".into(), s(a.unhealthy_after));
    alerts.insert("group_window_s".into(), s(a.group_window));
    alerts.insert("renotify_after_s".into(), s(a.renotify_after));
    alerts.insert("alert_late".into(), Value::Boolean(a.alert_late));
    if let Some(url) = &a.runbook_url {
        alerts.insert("runbook_url".into(), text(url));
    }
    alerts.insert("retry_initial_ms".into(), ms(a.retry_initial));
    alerts.insert("retry_max_ms".into(), ms(a.retry_max));
    alerts.insert("give_up_after_s".into(), s(a.give_up_after));
    alerts.insert("lease_ms".into(), ms(a.lease));
    alerts.insert("history_max".into(), Value::Integer(a.history_max as i64));
    if let Some(t) = &a.telegram {
        let mut telegram = Table::new();
        telegram.insert("bot_token".into(), text(REDACTED));
        telegram.insert("chat_id".into(), text(&t.chat_id));
        telegram.insert("api_url".into(), text(&t.api_url));
        let users = t
            .allowed_user_ids
            .iter()
            .map(|&id| Value::Integer(id))
            .collect();
        telegram.insert("allowed_user_ids".into(), Value::Array(users));
        if let Some(hook) = &t.webhook {
            telegram.insert("webhook_url".into(), text(&hook.url));
            telegram.insert("webhook_secret".into(), text(REDACTED));
        }
        alerts.insert("telegram".into(), Value::Table(telegram));
    }
    if a.webhook.is_some() {
        let mut webhook = Table::new();
        webhook.insert("url".into(), text(REDACTED));
        alerts.insert("webhook".into(), Value::Table(webhook));
    }
    let routes = a.routes.iter().map(|r| {
        let mut route = Table::new();
        let keys = [
            ("worker", &r.worker),
            ("host", &r.host),
            ("kind", &r.kind),
            ("chat_id", &r.chat_id),
        ];
        for (key, value) in keys {
            if let Some(v) = value {
                route.insert(key.into(), text(v));
            }
        }
        if let Some(kind) = r.alert {
            route.insert(
                "alert".into(),
                Value::try_from(kind).expect("an alert kind is a string"),
            );
        }
        route.insert(
            "sinks".into(),
            Value::Array(r.sinks.iter().map(|s| text(s)).collect()),
        );
        Value::Table(route)
    });
    alerts.insert("routes".into(), Value::Array(routes.collect()));
    root.insert("alerts".into(), Value::Table(alerts));
    toml::to_string(&root).expect("a TOML table serialises")
}

/// `[runtime]`: each kind's expectation, and each worker's (its kind's fields filled in).
fn runtime(r: &super::runtime::RuntimeSettings) -> Table {
    let table = |e: &pulseboard_shared::drift::Expected| {
        let mut t = Table::new();
        for (key, value) in [
            ("version", &e.version),
            ("executable", &e.executable),
            ("config_hash", &e.config_hash),
        ] {
            if let Some(v) = value {
                t.insert(key.into(), Value::String(v.clone()));
            }
        }
        Value::Table(t)
    };
    let mut out: Table = r
        .kinds
        .iter()
        .map(|(k, e)| ((*k).to_owned(), table(e)))
        .collect();
    if !r.workers.is_empty() {
        let workers = r
            .workers
            .iter()
            .map(|(n, e)| (n.clone(), table(e)))
            .collect();
        out.insert("workers".into(), Value::Table(workers));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{AlertOverrides, Overrides};

    #[test]
    fn the_effective_config_reads_back_as_itself() {
        let config = Config::default();
        let printed = to_toml(&config);
        let again = Config::from_toml(&printed, &Overrides::default()).unwrap();
        assert_eq!(again, config, "{printed}");
    }

    #[test]
    fn an_agent_key_file_is_printed_as_its_path_and_read_back() {
        let dir = std::env::temp_dir().join(format!("pb-effective-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("agent.key");
        let key = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        std::fs::write(&file, key).unwrap();
        let config = Config::from_toml(
            &format!("agent_key_file = {:?}", file.display().to_string()),
            &Overrides::default(),
        )
        .unwrap();
        assert!(config.agent_key.is_some());
        let printed = to_toml(&config);
        assert!(
            !printed.contains(key) && printed.contains("agent.key"),
            "{printed}"
        );
        let again = Config::from_toml(&printed, &Overrides::default()).unwrap();
        assert_eq!(again, config);
        let twice = Overrides {
            agent_key: config.agent_key.clone(),
            ..Overrides::default()
        };
        let error = Config::from_toml(&printed, &twice).unwrap_err().to_string();
        assert!(
            error.contains("agent_key_file") && error.contains("give one"),
            "{error}"
        );
        std::fs::write(&file, "short").unwrap();
        let error = Config::from_toml(&printed, &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("openssl rand -hex 32"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn secrets_are_redacted() {
        let overrides = Overrides {
            redis_url: Some("redis://ops:hunter2@redis.internal:6379/0".into()),
            alerts: AlertOverrides {
                telegram_bot_token: Some("123:SECRET".into()),
                telegram_chat_id: Some("42".into()),
                webhook_url: Some("https://hooks.example/T0KEN".into()),
                ..Default::default()
            },
            agent_key: Some(
                pulseboard_shared::agent::key::AgentKeys::parse(
                    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                )
                .unwrap(),
            ),
            ..Default::default()
        };
        let config = Config::load(None, &overrides).unwrap();
        let printed = to_toml(&config);
        assert!(!format!("{config:?}").contains("9f86d081"));
        for secret in ["hunter2", "SECRET", "T0KEN", "9f86d081"] {
            assert!(!printed.contains(secret), "{secret} leaked: {printed}");
        }
        assert!(
            printed.contains("redis://ops:***@redis.internal:6379/0"),
            "{printed}"
        );
        assert!(printed.contains("chat_id = \"42\""), "{printed}");
    }
}
