//! Deterministic fault decisions. Each request's fate is a hash of the seed and of the request
//! itself (method, path and query, `Range`, and how many times that exact request came before),
//! so concurrent clients see the same faults in any interleaving and a retry can succeed.
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

use super::{Faults, SandboxError};

/// What to do to one request, decided before it is served.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Decision {
    pub reset: bool,
    pub stall: bool,
    pub burst_429: bool,
    /// 500 or 503.
    pub error: Option<u16>,
    pub truncate: bool,
    /// Answer 200 with an HTML page.
    pub html: bool,
    /// Drop the connection halfway through the body.
    pub reset_mid_body: bool,
}

#[derive(Debug)]
pub(crate) struct FaultPlan {
    pub(crate) faults: Faults,
    seed: u64,
    seen: Mutex<HashMap<String, u64>>,
    counted: AtomicU64,
}

pub(crate) fn validate(faults: &Faults) -> Result<(), SandboxError> {
    for (name, rate) in [
        ("error_rate", faults.error_rate),
        ("reset_rate", faults.reset_rate),
        ("truncate_rate", faults.truncate_rate),
        ("stall_rate", faults.stall_rate),
        ("html_200_rate", faults.html_200_rate),
        ("reset_mid_body_rate", faults.reset_mid_body_rate),
    ] {
        if !(0.0..=1.0).contains(&rate) {
            return Err(SandboxError::Config(format!("{name} must be within 0..=1, got {rate}")));
        }
    }
    if let Some(burst) = faults.burst_429 {
        if burst.every == 0 || burst.len > burst.every {
            return Err(SandboxError::Config(format!(
                "a 429 burst needs 0 < len <= every, got every={} len={}",
                burst.every, burst.len
            )));
        }
    }
    Ok(())
}

impl FaultPlan {
    pub(crate) fn new(faults: Faults, seed: u64) -> FaultPlan {
        FaultPlan { faults, seed, seen: Mutex::new(HashMap::new()), counted: AtomicU64::new(0) }
    }

    fn any_rate(&self) -> bool {
        let f = &self.faults;
        f.error_rate > 0.0
            || f.reset_rate > 0.0
            || f.truncate_rate > 0.0
            || f.stall_rate > 0.0
            || f.html_200_rate > 0.0
            || f.reset_mid_body_rate > 0.0
    }

    /// Decide the transient faults of one request. Call once per request that may be faulted.
    pub(crate) fn decide(&self, method: &str, path_and_query: &str, range: Option<&str>) -> Decision {
        let mut decision = Decision::default();
        if let Some(burst) = self.faults.burst_429 {
            let n = self.counted.fetch_add(1, Ordering::Relaxed);
            let every = u64::from(burst.every);
            decision.burst_429 = n % every >= every - u64::from(burst.len);
        }
        if !self.any_rate() {
            return decision;
        }
        let request = format!("{method} {path_and_query}\0{}", range.unwrap_or(""));
        let occurrence = {
            // Counting survives a poisoned lock: the map holds plain numbers.
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            let count = seen.entry(request.clone()).or_insert(0);
            *count += 1;
            *count - 1
        };
        let mut hasher = Sha256::new();
        hasher.update(self.seed.to_le_bytes());
        hasher.update(request.as_bytes());
        hasher.update(occurrence.to_le_bytes());
        let mut rng = ChaCha8Rng::from_seed(hasher.finalize().into());
        // Always draw every number in the same order, so changing one rate does not reshuffle
        // which requests the other faults hit.
        let (reset, stall, error, kind, truncate): (f64, f64, f64, bool, f64) =
            (rng.random(), rng.random(), rng.random(), rng.random(), rng.random());
        let f = &self.faults;
        decision.reset = reset < f.reset_rate;
        decision.stall = !decision.reset && stall < f.stall_rate;
        decision.error = (error < f.error_rate).then_some(if kind { 500 } else { 503 });
        decision.truncate = truncate < f.truncate_rate;
        // Drawn last, so adding this fault did not reshuffle the others.
        let html: f64 = rng.random();
        decision.html = decision.error.is_none() && html < f.html_200_rate;
        let mid_body: f64 = rng.random();
        decision.reset_mid_body = mid_body < f.reset_mid_body_rate;
        decision
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_request_same_fate_and_retries_can_differ() {
        let faults = Faults { error_rate: 0.5, ..Faults::default() };
        let a = FaultPlan::new(faults.clone(), 7);
        let b = FaultPlan::new(faults, 7);
        let run = |plan: &FaultPlan| (0..64).map(|_| plan.decide("GET", "/apps", None).error).collect::<Vec<_>>();
        let (ra, rb) = (run(&a), run(&b));
        assert_eq!(ra, rb);
        assert!(ra.iter().any(Option::is_some) && ra.iter().any(Option::is_none));
    }
}
