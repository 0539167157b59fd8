//! Heroku's rate limit: one token bucket per account, shared by all of that account's tokens.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use super::RateLimitConfig;

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

#[derive(Debug)]
pub(crate) struct RateLimiter {
    config: RateLimitConfig,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    pub(crate) fn new(config: RateLimitConfig) -> RateLimiter {
        RateLimiter { config, buckets: Mutex::new(HashMap::new()) }
    }

    /// Spend one call for `account`: `Ok(remaining)` after spending, `Err(())` when empty.
    pub(crate) fn take(&self, account: &str) -> Result<u32, ()> {
        self.with_bucket(account, |bucket| {
            if bucket.tokens >= 1.0 {
                bucket.tokens -= 1.0;
                Ok(whole(bucket.tokens))
            } else {
                Err(())
            }
        })
    }

    /// What `account` has left, without spending (for `/account/rate-limits`).
    pub(crate) fn remaining(&self, account: &str) -> u32 {
        self.with_bucket(account, |bucket| whole(bucket.tokens))
    }

    fn with_bucket<T>(&self, account: &str, f: impl FnOnce(&mut Bucket) -> T) -> T {
        let now = Instant::now();
        let capacity = f64::from(self.config.capacity);
        // A poisoned lock only means another request panicked mid-update; the counts are
        // still usable numbers, so keep serving.
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let bucket = buckets.entry(account.to_string()).or_insert(Bucket { tokens: capacity, at: now });
        let minutes = now.duration_since(bucket.at).as_secs_f64() / 60.0;
        bucket.tokens = (bucket.tokens + minutes * self.config.refill_per_minute).min(capacity);
        bucket.at = now;
        f(bucket)
    }
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn whole(tokens: f64) -> u32 {
    tokens.floor().max(0.0) as u32
}
