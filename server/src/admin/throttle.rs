//! Failed token attempts, per client address: past [`MAX_FAILURES`] in [`WINDOW`], that address
//! is answered 429 (with `Retry-After`) before its token is even looked at, so guessing a token
//! costs a minute per ten tries. Other addresses are not slowed: each has its own count.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed attempts an address may make in [`WINDOW`].
pub const MAX_FAILURES: usize = 10;

/// How long a failed attempt counts.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Addresses remembered at most: past it the quietest is forgotten, so a flood of addresses
/// cannot grow the map without bound (each of them still has its own limit while remembered).
const MAX_ADDRESSES: usize = 10_000;

/// Failed attempts by address.
#[derive(Debug, Default)]
pub struct Throttle {
    failures: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl Throttle {
    /// `Err(wait)` when `ip` has failed [`MAX_FAILURES`] times within [`WINDOW`] of `now`: it may
    /// try again after `wait`.
    pub fn check(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut failures = self.failures.lock().expect("not poisoned");
        let Some(times) = failures.get_mut(&ip) else {
            return Ok(());
        };
        forget_old(times, now);
        if times.len() < MAX_FAILURES {
            return Ok(());
        }
        let oldest = *times.front().expect("full");
        Err(WINDOW.saturating_sub(now.duration_since(oldest)))
    }

    /// Counts a failed attempt of `ip` at `now`.
    pub fn failed(&self, ip: IpAddr, now: Instant) {
        let mut failures = self.failures.lock().expect("not poisoned");
        if failures.len() >= MAX_ADDRESSES && !failures.contains_key(&ip) {
            failures.retain(|_, times| {
                forget_old(times, now);
                !times.is_empty()
            });
            if failures.len() >= MAX_ADDRESSES {
                let quietest = failures
                    .iter()
                    .min_by_key(|(_, times)| times.back().copied())
                    .map(|(ip, _)| *ip);
                if let Some(quietest) = quietest {
                    failures.remove(&quietest);
                }
            }
        }
        let times = failures.entry(ip).or_default();
        forget_old(times, now);
        times.push_back(now);
        while times.len() > MAX_FAILURES {
            times.pop_front();
        }
    }
}

fn forget_old(times: &mut VecDeque<Instant>, now: Instant) {
    while times
        .front()
        .is_some_and(|&t| now.duration_since(t) >= WINDOW)
    {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_that_keeps_failing_waits_and_others_do_not() {
        let throttle = Throttle::default();
        let guesser: IpAddr = "192.0.2.66".parse().unwrap();
        let operator: IpAddr = "192.0.2.1".parse().unwrap();
        let t0 = Instant::now();
        for i in 0..MAX_FAILURES {
            assert_eq!(throttle.check(guesser, t0), Ok(()), "attempt {i}");
            throttle.failed(guesser, t0 + Duration::from_secs(i as u64));
        }
        let now = t0 + Duration::from_secs(20);
        assert_eq!(throttle.check(guesser, now), Err(Duration::from_secs(40)));
        assert_eq!(throttle.check(operator, now), Ok(()), "another address");
        // The first failure leaves the window: one more try.
        assert_eq!(throttle.check(guesser, t0 + WINDOW), Ok(()));
    }

    #[test]
    fn a_flood_of_addresses_stays_bounded() {
        let throttle = Throttle::default();
        let now = Instant::now();
        for i in 0..(MAX_ADDRESSES as u32 + 50) {
            throttle.failed(IpAddr::from(i.to_be_bytes()), now);
        }
        assert!(throttle.failures.lock().unwrap().len() <= MAX_ADDRESSES);
    }
}
