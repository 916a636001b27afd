//! Live streams per client address (`http.max_streams_per_client`): one address cannot hold every
//! stream the server allows (`http.max_streams`) and lock everyone else out.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Open streams by address; an address leaves the map with its last stream, so the map is never
/// larger than the open streams.
#[derive(Debug)]
pub struct PerClient {
    max: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One open stream of an address: given back when dropped (the viewer went).
#[derive(Debug)]
pub struct Slot {
    owner: Arc<PerClient>,
    ip: IpAddr,
}

impl PerClient {
    /// At most `max` streams per address.
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for `ip`, unless it holds `max` already.
    pub fn try_open(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let mut open = self.open.lock().expect("not poisoned");
        let n = open.entry(ip).or_default();
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(Slot {
            owner: self.clone(),
            ip,
        })
    }

    /// Streams open from `ip`.
    pub fn open(&self, ip: IpAddr) -> usize {
        let open = self.open.lock().expect("not poisoned");
        open.get(&ip).copied().unwrap_or(0)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.owner.open.lock().expect("not poisoned");
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_share_and_no_more_and_others_are_not_touched() {
        let limits = PerClient::new(2);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let first = limits.try_open(a).unwrap();
        let _second = limits.try_open(a).unwrap();
        assert!(
            limits.try_open(a).is_none(),
            "a third from the same address"
        );
        let _other = limits.try_open(b).expect("another address is not affected");
        drop(first);
        assert_eq!(limits.open(a), 1);
        assert!(limits.try_open(a).is_some(), "a freed slot is free again");
    }
}
