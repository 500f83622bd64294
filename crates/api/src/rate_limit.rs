//! Abuse limits on checkout (off by default): a token bucket per API client and one per
//! anonymous IP address, answering 429 `rate-limited` with `Retry-After` when spent.
//!
//! Buckets are governor's keyed GCRA limiters, in this process's memory: with N processes
//! behind a load balancer a caller gets up to N times the budget, so size it per process.
//! The admin token is not limited (it is the operator's). The address is the TCP peer's,
//! unless the operator says a proxy in front sets `X-Forwarded-For`
//! (`--trust-forwarded-for`): then it is the address that proxy appended, the last one, as
//! any earlier entries are whatever the client chose to send.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::http::HeaderMap;
use domain::ClientId;
use domain::access::Actor;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// One token bucket's shape: refills at `per_second`, holds at most `burst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Requests admitted per second, sustained.
    pub per_second: NonZeroU32,
    /// Requests admitted at once after a quiet spell.
    pub burst: NonZeroU32,
}

impl Budget {
    fn quota(self) -> Quota {
        Quota::per_second(self.per_second).allow_burst(self.burst)
    }
}

/// The abuse-limit settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RateLimitSettings {
    /// Each API client's checkout budget; `None` leaves clients unlimited.
    pub per_client: Option<Budget>,
    /// Each anonymous caller's (per IP address) checkout budget; `None` leaves them unlimited.
    pub per_ip: Option<Budget>,
    /// Take the caller's address from the last `X-Forwarded-For` entry.
    pub trust_forwarded_for: bool,
}

/// The live buckets.
pub struct RateLimits {
    per_client: Option<DefaultKeyedRateLimiter<ClientId>>,
    per_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    trust_forwarded_for: bool,
}

impl RateLimits {
    /// The buckets `settings` ask for, or `None` when no limit is set.
    #[must_use]
    pub fn new(settings: RateLimitSettings) -> Option<Arc<Self>> {
        if settings.per_client.is_none() && settings.per_ip.is_none() {
            return None;
        }
        Some(Arc::new(Self {
            per_client: settings.per_client.map(|b| RateLimiter::keyed(b.quota())),
            per_ip: settings.per_ip.map(|b| RateLimiter::keyed(b.quota())),
            trust_forwarded_for: settings.trust_forwarded_for,
        }))
    }

    /// Admits one request of `actor` from `peer`, or says how many whole seconds to wait.
    ///
    /// # Errors
    /// The whole seconds until `actor`'s bucket admits a request again.
    pub fn admit(
        &self,
        actor: Actor,
        peer: Option<IpAddr>,
        headers: &HeaderMap,
    ) -> Result<(), u64> {
        let wait = |not_until: governor::NotUntil<_>| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            // Whole seconds, rounded up, at least 1: Retry-After has no fractions.
            (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
        };
        match actor {
            Actor::Client(id) => match &self.per_client {
                Some(limiter) => limiter.check_key(&id).map_err(wait),
                None => Ok(()),
            },
            Actor::Anonymous => {
                match (&self.per_ip, client_address(self.trust_forwarded_for, peer, headers)) {
                    (Some(limiter), Some(ip)) => limiter.check_key(&ip).map_err(wait),
                    _ => Ok(()),
                }
            }
            Actor::Admin | Actor::System => Ok(()),
        }
    }

    /// Forgets buckets that are full again, so that memory follows the callers of the last
    /// moments rather than every address ever seen.
    pub fn forget_idle(&self) {
        if let Some(limiter) = &self.per_client {
            limiter.retain_recent();
        }
        if let Some(limiter) = &self.per_ip {
            limiter.retain_recent();
        }
    }
}

/// A caller's address: the TCP `peer`'s, or with `trust_forwarded_for` the last
/// `X-Forwarded-For` entry (the one the proxy in front appended), falling back to the peer's.
#[must_use]
pub fn client_address(
    trust_forwarded_for: bool,
    peer: Option<IpAddr>,
    headers: &HeaderMap,
) -> Option<IpAddr> {
    if !trust_forwarded_for {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .last()
        .and_then(|last| last.trim().parse().ok());
    forwarded.or(peer)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use uuid::Uuid;

    use super::*;

    fn budget(burst: u32) -> Option<Budget> {
        let n = NonZeroU32::new(burst).expect("non-zero");
        Some(Budget { per_second: NonZeroU32::MIN, burst: n })
    }

    #[test]
    fn each_client_and_each_address_has_its_own_bucket_and_the_admin_none() {
        let settings = RateLimitSettings {
            per_client: budget(2),
            per_ip: budget(1),
            trust_forwarded_for: false,
        };
        let limits = RateLimits::new(settings).expect("limits");
        let headers = HeaderMap::new();
        let (a, b) = (
            ClientId::new(Uuid::from_u128(1)).expect("id"),
            ClientId::new(Uuid::from_u128(2)).expect("id"),
        );
        assert!(limits.admit(Actor::Client(a), None, &headers).is_ok());
        assert!(limits.admit(Actor::Client(a), None, &headers).is_ok());
        assert_eq!(limits.admit(Actor::Client(a), None, &headers), Err(1));
        assert!(limits.admit(Actor::Client(b), None, &headers).is_ok(), "another client");
        let (one, two) =
            (Some("10.0.0.1".parse().expect("ip")), Some("10.0.0.2".parse().expect("ip")));
        assert!(limits.admit(Actor::Anonymous, one, &headers).is_ok());
        assert_eq!(limits.admit(Actor::Anonymous, one, &headers), Err(1));
        assert!(limits.admit(Actor::Anonymous, two, &headers).is_ok(), "another address");
        for _ in 0..10 {
            assert!(limits.admit(Actor::Admin, one, &headers).is_ok());
        }
    }

    #[test]
    fn forwarded_for_counts_only_when_trusted_and_then_its_last_entry() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_static("1.1.1.1, 10.9.9.9"));
        let peer = Some("127.0.0.1".parse().expect("ip"));
        assert_eq!(client_address(false, peer, &headers), peer);
        assert_eq!(client_address(true, peer, &headers), Some("10.9.9.9".parse().expect("ip")));
        assert_eq!(client_address(true, peer, &HeaderMap::new()), peer);
    }

    #[test]
    fn no_budget_no_limiter() {
        assert!(RateLimits::new(RateLimitSettings::default()).is_none());
    }
}
