//! The `[http]` section: how long a client may take, how many may be served at once, and how
//! much one client address may hold.

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
    /// Open live streams per client address at most; past it that address gets 429.
    pub max_streams_per_client: usize,
    /// Proxies whose `X-Forwarded-For` names the client (addresses or networks); nobody's else.
    pub trusted_proxies: Vec<ipnet::IpNet>,
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
            // A person opens a few tabs; an office behind one NAT, a few dozen.
            max_streams_per_client: 64,
            trusted_proxies: Vec::new(),
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
    max_streams_per_client: Option<usize>,
    trusted_proxies: Option<Vec<String>>,
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
    let max_streams_per_client = at_least_one(
        "max_streams_per_client",
        file.max_streams_per_client.map(|n| n as u64),
    )?
    .map_or(defaults.max_streams_per_client, |n| n as usize);
    let trusted_proxies = file
        .trusted_proxies
        .unwrap_or_default()
        .iter()
        .map(|text| proxy(text))
        .collect::<Result<_, _>>()?;
    Ok(HttpLimits {
        header_timeout,
        request_timeout,
        max_connections,
        max_streams,
        max_streams_per_client,
        trusted_proxies,
    })
}

/// A trusted proxy: a network (`10.0.0.0/8`) or one address (`127.0.0.1`, `::1`).
fn proxy(text: &str) -> Result<ipnet::IpNet, ConfigError> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| {
            invalid(
                "http.trusted_proxies",
                format!("{text:?} is not an address or a network such as 10.0.0.0/8"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(toml_text: &str) -> Result<HttpLimits, ConfigError> {
        resolve(Some(toml::from_str(toml_text).unwrap()))
    }

    #[test]
    fn per_client_limits_and_trusted_proxies_resolve() {
        let limits = file("").unwrap();
        assert_eq!(limits.max_streams_per_client, 64);
        assert!(
            limits.trusted_proxies.is_empty(),
            "nobody's header is believed by default"
        );
        let limits = file(
            r#"max_streams_per_client = 4
trusted_proxies = ["10.0.0.0/8", "127.0.0.1", "::1"]"#,
        )
        .unwrap();
        assert_eq!(limits.max_streams_per_client, 4);
        let shown: Vec<String> = limits
            .trusted_proxies
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(shown, ["10.0.0.0/8", "127.0.0.1/32", "::1/128"]);
        let error = file(r#"trusted_proxies = ["10.0.0.0/33"]"#).unwrap_err();
        assert!(
            error.to_string().contains("http.trusted_proxies"),
            "{error}"
        );
        assert!(file("max_streams_per_client = 0").is_err());
    }
}
