//! The `[http]` section: how long a client may take and how many may be served at once.

use std::time::Duration;

use serde::Deserialize;

use super::error::{invalid, ConfigError};

/// The HTTP server's limits, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpLimits {
    /// A connection that has not sent a whole request head within this is closed.
    pub header_timeout: Duration,
    /// Every request but the live stream is answered within this or gets 408.
    pub request_timeout: Duration,
    /// Open connections at most; past it a connection gets 503 and is closed.
    pub max_connections: usize,
    /// Open live streams at most; past it a new stream gets 503.
    pub max_streams: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            // A browser sends its request head at once; 5 s is generous even on a bad phone link.
            header_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            // Each connection holds a file descriptor: stay well under systemd's default
            // LimitNOFILE soft limit of 1024 unless the unit raises it (ours sets 8192).
            max_connections: 4096,
            max_streams: 2048,
        }
    }
}

/// `[http]` in the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileHttp {
    header_timeout_s: Option<u64>,
    request_timeout_s: Option<u64>,
    max_connections: Option<usize>,
    max_streams: Option<usize>,
}

/// Resolves `[http]` over the defaults.
pub(super) fn resolve(file: Option<FileHttp>) -> Result<HttpLimits, ConfigError> {
    let file = file.unwrap_or_default();
    let defaults = HttpLimits::default();
    let at_least_one = |key: &str, value: Option<u64>| match value {
        Some(0) => Err(invalid(format!("http.{key}"), "must be at least 1")),
        Some(s) => Ok(Some(s)),
        None => Ok(None),
    };
    let header_timeout = at_least_one("header_timeout_s", file.header_timeout_s)?
        .map_or(defaults.header_timeout, Duration::from_secs);
    let request_timeout = at_least_one("request_timeout_s", file.request_timeout_s)?
        .map_or(defaults.request_timeout, Duration::from_secs);
    let max_connections = at_least_one("max_connections", file.max_connections.map(|n| n as u64))?
        .map_or(defaults.max_connections, |n| n as usize);
    let max_streams = at_least_one("max_streams", file.max_streams.map(|n| n as u64))?
        .map_or(defaults.max_streams, |n| n as usize);
    if max_streams > max_connections {
        return Err(invalid(
            "http.max_streams",
            format!("is {max_streams}, more than http.max_connections ({max_connections})"),
        ));
    }
    Ok(HttpLimits {
        header_timeout,
        request_timeout,
        max_connections,
        max_streams,
    })
}
