//! Rate limits: token buckets per client IP and per profile, in memory.
//!
//! In memory on purpose: limits protect this process from floods, and a restart that
//! forgets them costs one burst. Buckets are keyed by values from requests, so the map
//! is bounded: when it reaches its size, idle buckets are forgotten, then the least
//! recently used, down to half. Forgetting a bucket only lets that key burst again;
//! refusing new keys instead would let a flood of made-up keys lock everyone out.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most keys tracked at once.
pub const MAX_KEYS: usize = 100_000;

/// How fast tokens come back and how many a bucket holds. Passed to every
/// [`RateLimiter::take`], so a config reload changes the rate of existing buckets
/// from their next request on, without forgetting what they used.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    per_second: f64,
    burst: f64,
}

impl Rate {
    /// `per_minute` tokens a minute, up to `burst` at once. A zero rate turns the
    /// limit off.
    pub fn new(per_minute: u32, burst: u32) -> Self {
        Rate {
            per_second: per_minute as f64 / 60.0,
            burst: burst.max(1) as f64,
        }
    }
}

/// A token bucket per key.
#[derive(Debug)]
pub struct RateLimiter<K> {
    max_keys: usize,
    buckets: Mutex<HashMap<K, (f64, Instant)>>,
}

impl<K: Hash + Eq + Clone> Default for RateLimiter<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    /// A limiter tracking up to [`MAX_KEYS`] keys.
    pub fn new() -> Self {
        Self::with_max_keys(MAX_KEYS)
    }

    /// A limiter tracking at most `max_keys` keys.
    pub fn with_max_keys(max_keys: usize) -> Self {
        RateLimiter {
            max_keys: max_keys.max(2),
            buckets: Mutex::default(),
        }
    }

    /// Takes `n` tokens for `key` at `now`, refilled at `rate`; when there are not
    /// enough, says how long until there will be.
    pub fn take(&self, rate: Rate, key: &K, n: u32, now: Instant) -> Result<(), Duration> {
        let Rate { per_second, burst } = rate;
        if per_second == 0.0 {
            return Ok(());
        }
        let mut buckets = match self.buckets.lock() {
            Ok(b) => b,
            // A panic elsewhere must not turn the limiter into an outage.
            Err(poisoned) => poisoned.into_inner(),
        };
        if buckets.len() >= self.max_keys && !buckets.contains_key(key) {
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.saturating_duration_since(*at).as_secs_f64() * per_second < burst
            });
            let keep = self.max_keys / 2;
            if buckets.len() > keep {
                // Rare (once per max_keys / 2 new keys), so a sort is affordable.
                let mut ages: Vec<Instant> = buckets.values().map(|(_, at)| *at).collect();
                ages.sort_unstable();
                let cutoff = ages[ages.len() - keep];
                buckets.retain(|_, (_, at)| *at >= cutoff);
            }
        }
        let entry = buckets.entry(key.clone()).or_insert((burst, now));
        // `min` also applies a burst lowered by a reload to a fuller bucket.
        let refilled = (entry.0
            + now.saturating_duration_since(entry.1).as_secs_f64() * per_second)
            .min(burst);
        let need = n as f64;
        if refilled >= need {
            *entry = (refilled - need, now);
            Ok(())
        } else {
            *entry = (refilled, now);
            Err(Duration::from_secs_f64((need - refilled) / per_second).max(Duration::from_secs(1)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let rate = Rate::new(60, 3); // one a second, three at once
        let limiter = RateLimiter::new();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.take(rate, &"a", 1, t0), Ok(()));
        }
        assert_eq!(limiter.take(rate, &"a", 1, t0), Err(Duration::from_secs(1)));
        assert_eq!(
            limiter.take(rate, &"b", 1, t0),
            Ok(()),
            "another key has its own bucket"
        );
        assert_eq!(
            limiter.take(rate, &"a", 1, t0 + Duration::from_secs(1)),
            Ok(())
        );
        assert!(
            limiter
                .take(rate, &"a", 5, t0 + Duration::from_secs(1))
                .is_err(),
            "more than the burst never fits"
        );
        // A flood of new keys evicts old buckets instead of locking new keys out.
        let small = RateLimiter::with_max_keys(4);
        for i in 0..100u64 {
            assert_eq!(
                small.take(Rate::new(60, 1), &i, 1, t0 + Duration::from_millis(i)),
                Ok(()),
                "key {i}"
            );
        }
        assert!(small.buckets.lock().unwrap().len() <= 4);
        for _ in 0..1000 {
            assert_eq!(limiter.take(Rate::new(0, 0), &"off", 1, t0), Ok(()));
        }
        // A reload lowers the burst: a full bucket holds only the new burst.
        let t1 = t0 + Duration::from_secs(60);
        assert_eq!(
            limiter.take(rate, &"b", 1, t1),
            Ok(()),
            "refilled to 3, 2 left"
        );
        let lower = Rate::new(60, 1);
        assert_eq!(limiter.take(lower, &"b", 1, t1), Ok(()));
        assert!(
            limiter.take(lower, &"b", 1, t1).is_err(),
            "one at once under the new burst"
        );
    }
}
