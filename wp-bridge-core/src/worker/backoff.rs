use std::time::Duration;

use rand::Rng;

/// When to try a failed delivery again, and when to give up.
///
/// Exponential backoff with full jitter: attempt `n` waits a random time in
/// `[0, min(cap, base · 2^(n-1))]`, which spreads retries of many workers
/// instead of synchronising them. A sink's own `Retry-After` is a floor: the
/// wait is never shorter than what the sink asked for (up to
/// `max_retry_after`, so a hostile header cannot park a job for a year).
///
/// ```
/// use std::time::Duration;
/// use wp_bridge_core::worker::RetryPolicy;
///
/// let policy = RetryPolicy::exponential(Duration::from_secs(1), Duration::from_secs(60))
///     .max_attempts(5);
/// for _ in 0..100 {
///     assert!(policy.delay(3, None) <= Duration::from_secs(4));
///     assert!(policy.delay(30, None) <= Duration::from_secs(60));
///     assert!(policy.delay(1, Some(Duration::from_secs(30))) >= Duration::from_secs(30));
/// }
/// assert!(policy.gives_up_after(5));
/// assert!(!policy.gives_up_after(4));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    base: Duration,
    cap: Duration,
    max_attempts: u32,
    max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// 1 s base, 10 min cap, 8 attempts, `Retry-After` honoured up to 1 h.
    fn default() -> Self {
        Self::exponential(Duration::from_secs(1), Duration::from_secs(600))
    }
}

impl RetryPolicy {
    /// Exponential backoff from `base`, never above `cap`.
    pub fn exponential(base: Duration, cap: Duration) -> Self {
        Self {
            base,
            cap,
            max_attempts: 8,
            max_retry_after: Duration::from_secs(3600),
        }
    }

    /// Attempts per sink before dead-lettering (at least 1).
    #[must_use]
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The longest `Retry-After` honoured.
    #[must_use]
    pub fn max_retry_after(mut self, limit: Duration) -> Self {
        self.max_retry_after = limit;
        self
    }

    /// Whether a failure of attempt `attempt` (1-based) is the last one.
    pub fn gives_up_after(&self, attempt: u32) -> bool {
        attempt >= self.max_attempts
    }

    /// The wait after failed attempt `attempt` (1-based).
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exp = attempt.saturating_sub(1).min(31);
        let ceiling = self
            .base
            .checked_mul(1u32 << exp)
            .unwrap_or(self.cap)
            .min(self.cap);
        let jittered = rand::thread_rng().gen_range(Duration::ZERO..=ceiling);
        match retry_after {
            Some(asked) => jittered.max(asked.min(self.max_retry_after)),
            None => jittered,
        }
    }
}
