//! Who is asking, by address: the connection's peer or, when the peer is one of
//! `http.trusted_proxies`, the address that proxy saw (`X-Forwarded-For`). The per-client limits
//! (streams, failed tokens) count by it.
//!
//! `X-Forwarded-For` is anyone's to write, so it is believed only as far as it was appended by
//! proxies we trust: read from the right, the first address that is not a trusted proxy is the
//! client. From a peer we do not trust, the header is ignored.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use ipnet::IpNet;

/// The client's address, put on each request by the accept loop (`serve::connections`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    /// Requests that came through no connection (in-process tests) share one address.
    pub const UNKNOWN: Self = Self(IpAddr::V4(Ipv4Addr::UNSPECIFIED));

    /// The client of a request from `peer` with `headers`.
    pub fn of(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpNet]) -> Self {
        let peer = canonical(peer.ip());
        let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
        if !is_trusted(&peer) {
            return Self(peer);
        }
        let mut client = peer;
        // Every X-Forwarded-For header, in order, as one list; walked from the right.
        let forwarded: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect();
        for hop in forwarded.iter().rev() {
            let Ok(ip) = hop.trim().parse::<IpAddr>() else {
                break; // garbage: stop at the last address a trusted proxy vouched for
            };
            client = canonical(ip);
            if !is_trusted(&client) {
                break;
            }
        }
        Self(client)
    }
}

/// An IPv4 address seen through an IPv6 socket (`::ffff:10.0.0.1`) is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ClientIp>()
            .copied()
            .unwrap_or(Self::UNKNOWN))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn client(peer: &str, xff: &[&str], trusted: &[&str]) -> String {
        let trusted: Vec<IpNet> = trusted.iter().map(|t| t.parse().unwrap()).collect();
        let peer: SocketAddr = peer.parse().unwrap();
        ClientIp::of(peer, &headers(xff), &trusted).0.to_string()
    }

    #[test]
    fn the_header_counts_only_through_trusted_proxies() {
        // No proxy trusted: the peer, whatever the header says.
        assert_eq!(client("203.0.113.9:1", &["1.2.3.4"], &[]), "203.0.113.9");
        // An untrusted peer cannot claim another address.
        assert_eq!(
            client("203.0.113.9:1", &["1.2.3.4"], &["10.0.0.0/8"]),
            "203.0.113.9"
        );
        // Through our proxy: the address it appended.
        assert_eq!(
            client("10.0.0.2:1", &["1.2.3.4, 198.51.100.7"], &["10.0.0.0/8"]),
            "198.51.100.7"
        );
        // Two of our proxies in a row, the header split over two lines.
        assert_eq!(
            client(
                "10.0.0.2:1",
                &["1.2.3.4, 198.51.100.7", "10.0.0.3"],
                &["10.0.0.0/8"]
            ),
            "198.51.100.7"
        );
        // Garbage where the proxy's entry should be: the last address vouched for.
        assert_eq!(
            client("10.0.0.2:1", &["nonsense"], &["10.0.0.0/8"]),
            "10.0.0.2"
        );
        // A trusted peer with no header is the client itself.
        assert_eq!(client("10.0.0.2:1", &[], &["10.0.0.0/8"]), "10.0.0.2");
        // IPv4 through an IPv6 socket.
        assert_eq!(client("[::ffff:192.0.2.1]:1", &[], &[]), "192.0.2.1");
    }
}
