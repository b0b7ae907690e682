//! The in-process rate limit each sink applies before it calls its target.
//!
//! A [`SinkRateLimit`] describes the pace; a [`RateLimiter`] enforces it
//! (governor's GCRA on tokio's clock, so tests can run it on a paused
//! clock). Each sink builds its own limiter from its config; sinks that
//! share a target's budget (two HubSpot sinks on one portal) share one
//! [`RateLimiter`] instead.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::Quota;

use crate::Error;

/// How fast a sink may call its target, and how long a delivery may wait
/// for its turn.
///
/// ```
/// use std::time::Duration;
/// use wp_bridge_sinks::SinkRateLimit;
///
/// // Slack's incoming webhooks: one message a second, short bursts allowed.
/// let slack = SinkRateLimit::per_second(1).with_burst(3);
/// assert_eq!(slack.burst(), 3);
/// // HubSpot's private apps: never more than 100 calls in any 10 s.
/// let hubspot = SinkRateLimit::at_most(100, Duration::from_secs(10));
/// assert!(hubspot.burst() + 10 * 9 <= 100);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SinkRateLimit {
    period: Duration,
    burst: NonZeroU32,
    max_wait: Duration,
}

/// The longest a delivery waits for a permit by default. The waiting
/// delivery holds its worker lease (60 s by default), so this plus the sink
/// timeout must stay below it.
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(30);

const ONE: NonZeroU32 = NonZeroU32::MIN;

impl SinkRateLimit {
    /// A steady `calls` per second, all of which may go at once.
    /// `0` is treated as 1.
    pub fn per_second(calls: u32) -> Self {
        let calls = NonZeroU32::new(calls).unwrap_or(ONE);
        Self {
            period: Duration::from_secs(1) / calls.get(),
            burst: calls,
            max_wait: DEFAULT_MAX_WAIT,
        }
    }

    /// One call per `period`, no burst.
    pub fn every(period: Duration) -> Self {
        Self {
            period: period.max(Duration::from_nanos(1)),
            burst: ONE,
            max_wait: DEFAULT_MAX_WAIT,
        }
    }

    /// Never more than `max` calls in any window of length `window`: a tenth
    /// of them may go at once, the rest are spread evenly. This is how
    /// rolling-window quotas such as HubSpot's "100 per 10 s" are met
    /// without ever touching the limit. `0` is treated as 1.
    pub fn at_most(max: u32, window: Duration) -> Self {
        let max = max.max(1);
        let burst = max.div_ceil(10);
        // burst + (max - burst) spaced calls fit in one window.
        let spaced = (max - burst).max(1);
        Self {
            period: (window / spaced).max(Duration::from_nanos(1)),
            burst: NonZeroU32::new(burst).unwrap_or(ONE),
            max_wait: DEFAULT_MAX_WAIT,
        }
    }

    /// Lets `burst` calls go at once after a quiet spell (at least 1).
    #[must_use]
    pub fn with_burst(mut self, burst: u32) -> Self {
        self.burst = NonZeroU32::new(burst).unwrap_or(ONE);
        self
    }

    /// The longest a delivery waits for a permit; past it the delivery is
    /// handed back as retryable, with the wait as its `retry_after`, instead
    /// of holding a worker (default [`DEFAULT_MAX_WAIT`]).
    #[must_use]
    pub fn with_max_wait(mut self, wait: Duration) -> Self {
        self.max_wait = wait;
        self
    }

    /// The longest a delivery waits for a permit.
    pub fn max_wait(&self) -> Duration {
        self.max_wait
    }

    /// Calls allowed at once.
    pub fn burst(&self) -> u32 {
        self.burst.get()
    }

    /// The steady interval between calls.
    pub fn period(&self) -> Duration {
        self.period
    }

    pub(crate) fn validate(&self, setting: &'static str) -> Result<(), Error> {
        if Quota::with_period(self.period).is_none() {
            return Err(Error::config(
                setting,
                "the rate limit period must be above zero",
            ));
        }
        Ok(())
    }
}

/// governor's clock on tokio's time, so a paused test runtime drives it.
#[derive(Debug, Clone)]
struct TokioClock {
    origin: tokio::time::Instant,
}

impl Clock for TokioClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

type Gcra = governor::RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<Duration>>;

/// Enforces a [`SinkRateLimit`]. Cheap to clone; clones share one budget.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::time::Duration;
/// use wp_bridge_sinks::{RateLimiter, SinkRateLimit};
///
/// let limiter = RateLimiter::new(SinkRateLimit::every(Duration::from_secs(3600)));
/// assert!(limiter.acquire().await.is_ok());
/// // The next permit is an hour away: far past the default wait, so the
/// // caller is told to come back instead of being parked.
/// let wait = limiter.acquire().await.unwrap_err();
/// assert!(wait > Duration::from_secs(3500));
/// # }
/// ```
#[derive(Clone)]
pub struct RateLimiter {
    gcra: Arc<Gcra>,
    limit: SinkRateLimit,
    label: &'static str,
}

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl RateLimiter {
    /// A limiter starting with its full burst available. Must be called
    /// within a tokio runtime.
    pub fn new(limit: SinkRateLimit) -> Self {
        let quota = Quota::with_period(limit.period)
            .unwrap_or_else(|| Quota::per_second(ONE))
            .allow_burst(limit.burst);
        let clock = TokioClock {
            origin: tokio::time::Instant::now(),
        };
        Self {
            gcra: Arc::new(governor::RateLimiter::direct_with_clock(quota, clock)),
            limit,
            label: "sink",
        }
    }

    /// Names the sink in the `wp_bridge_rate_limit_wait_seconds` metric.
    #[must_use]
    pub fn labelled(mut self, sink: &'static str) -> Self {
        self.label = sink;
        self
    }

    /// The pace this limiter enforces.
    pub fn limit(&self) -> SinkRateLimit {
        self.limit
    }

    /// Waits for a permit. When the permit is further away than the
    /// configured `max_wait` (counting what was already waited), answers
    /// `Err(wait)` at once without taking it.
    pub async fn acquire(&self) -> Result<(), Duration> {
        let mut waited = Duration::ZERO;
        loop {
            let clock = self.gcra.clock();
            match self.gcra.check() {
                Ok(()) => return Ok(()),
                Err(not_until) => {
                    let wait = not_until.wait_time_from(clock.now());
                    if waited + wait > self.limit.max_wait {
                        return Err(wait);
                    }
                    // Several waiters may wake for one permit; the losers
                    // check again and wait for the next one.
                    metrics::histogram!(
                        wp_bridge_core::metrics::RATE_LIMIT_WAIT_SECONDS,
                        "sink" => self.label
                    )
                    .record(wait.as_secs_f64());
                    tokio::time::sleep(wait).await;
                    waited += wait;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes `count` permits one after another and returns when each was
    /// granted, in paused time.
    async fn grant_times(limiter: &RateLimiter, count: usize) -> Vec<Duration> {
        let start = tokio::time::Instant::now();
        let mut times = Vec::with_capacity(count);
        for _ in 0..count {
            limiter.acquire().await.unwrap();
            times.push(start.elapsed());
        }
        times
    }

    /// The most permits granted in any window of length `window`.
    fn busiest_window(times: &[Duration], window: Duration) -> usize {
        times
            .iter()
            .map(|start| {
                times
                    .iter()
                    .filter(|t| **t >= *start && **t < *start + window)
                    .count()
            })
            .max()
            .unwrap_or(0)
    }

    #[tokio::test(start_paused = true)]
    async fn at_most_never_exceeds_the_window_over_a_long_burst() {
        let window = Duration::from_secs(10);
        let limiter = RateLimiter::new(SinkRateLimit::at_most(100, window).with_max_wait(window));
        let times = grant_times(&limiter, 600).await;
        assert!(busiest_window(&times, window) <= 100);
        // ... and does not fall far below it either: 600 permits need about
        // 60 s at 100 per 10 s, minus the initial burst.
        let last = *times.last().unwrap();
        assert!(last >= Duration::from_secs(55), "{last:?}");
        assert!(last <= Duration::from_secs(67), "{last:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn per_second_with_burst_lets_the_burst_through_then_paces() {
        let limiter = RateLimiter::new(SinkRateLimit::per_second(1).with_burst(3));
        let times = grant_times(&limiter, 13).await;
        let at_once = times.iter().filter(|t| **t == Duration::ZERO).count();
        assert_eq!(at_once, 3, "{times:?}");
        let in_first_ten_seconds = times
            .iter()
            .filter(|t| **t < Duration::from_secs(10))
            .count();
        assert_eq!(in_first_ten_seconds, 12, "{times:?}");
        for pair in times[3..].windows(2) {
            assert!(pair[1] - pair[0] >= Duration::from_millis(999), "{times:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_one_budget() {
        let window = Duration::from_secs(1);
        let limiter =
            RateLimiter::new(SinkRateLimit::at_most(10, window).with_max_wait(window * 60));
        let start = tokio::time::Instant::now();
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let limiter = limiter.clone();
                tokio::spawn(async move {
                    limiter.acquire().await.unwrap();
                    start.elapsed()
                })
            })
            .collect();
        let mut times = Vec::new();
        for task in tasks {
            times.push(task.await.unwrap());
        }
        assert_eq!(times.len(), 50);
        assert!(busiest_window(&times, window) <= 10, "{times:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_permit_beyond_max_wait_is_refused_without_waiting_or_being_taken() {
        let limiter = RateLimiter::new(
            SinkRateLimit::every(Duration::from_secs(60)).with_max_wait(Duration::from_secs(5)),
        );
        limiter.acquire().await.unwrap();
        let before = tokio::time::Instant::now();
        let wait = limiter.acquire().await.unwrap_err();
        assert_eq!(before.elapsed(), Duration::ZERO);
        assert!(wait > Duration::from_secs(59), "{wait:?}");
        // Nothing was consumed by the refusal: a minute later one permit is there.
        tokio::time::sleep(Duration::from_secs(60)).await;
        limiter.acquire().await.unwrap();
    }

    #[test]
    fn at_most_spreads_the_rest_of_the_window_after_the_burst() {
        let limit = SinkRateLimit::at_most(100, Duration::from_secs(10));
        assert_eq!(limit.burst(), 10);
        assert_eq!(limit.period(), Duration::from_secs(10) / 90);
        let one = SinkRateLimit::at_most(1, Duration::from_secs(1));
        assert_eq!((one.burst(), one.period()), (1, Duration::from_secs(1)));
    }
}
