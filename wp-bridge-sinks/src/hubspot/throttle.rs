//! Slowing down before HubSpot says 429, from the rate-limit headers on
//! every answer (`X-HubSpot-RateLimit-Max`, `-Remaining`,
//! `-Interval-Milliseconds`).
//!
//! The configured [`SinkRateLimit`](crate::SinkRateLimit) is the steady
//! pace; this is the brake for when the portal's shared budget runs low
//! because other apps use it too. The window is rolling and its start is
//! unknown, so the rule assumes the worst: with `r` calls left in an
//! interval `i`, the next call waits `i / (r + 1)`; with none left, a whole
//! interval.

use std::sync::Mutex;
use std::time::Duration;

use http::HeaderMap;

/// HubSpot's interval when the header is missing.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);

/// When to start braking and how hard.
#[derive(Debug)]
pub(crate) struct Throttle {
    /// Brake once `remaining` is at or below this share of `max`, in
    /// percent.
    low_water_percent: u32,
    /// The longest single pause, so a wild header cannot park a delivery.
    max_pause: Duration,
    not_before: Mutex<Option<tokio::time::Instant>>,
}

impl Throttle {
    pub(crate) fn new(low_water_percent: u32, max_pause: Duration) -> Self {
        Self {
            low_water_percent,
            max_pause,
            not_before: Mutex::new(None),
        }
    }

    /// Waits out the current pause, if any.
    pub(crate) async fn wait(&self) {
        let until = *self.not_before.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(until) = until {
            tokio::time::sleep_until(until).await;
        }
    }

    /// Reads an answer's headers and sets the next pause.
    pub(crate) fn observe(&self, headers: &HeaderMap) {
        let Some(pause) = pause(headers, self.low_water_percent) else {
            return;
        };
        let until = tokio::time::Instant::now() + pause.min(self.max_pause);
        let mut not_before = self.not_before.lock().unwrap_or_else(|e| e.into_inner());
        if not_before.is_none_or(|current| current < until) {
            tracing::debug!(
                pause_ms = pause.as_millis() as u64,
                "HubSpot rate-limit budget is low, slowing down"
            );
            *not_before = Some(until);
        }
    }
}

fn number(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// The pause the headers call for, if any.
fn pause(headers: &HeaderMap, low_water_percent: u32) -> Option<Duration> {
    let remaining = number(headers, "x-hubspot-ratelimit-remaining")?;
    let interval = number(headers, "x-hubspot-ratelimit-interval-milliseconds")
        .map(Duration::from_millis)
        .unwrap_or(DEFAULT_INTERVAL);
    let max = number(headers, "x-hubspot-ratelimit-max").unwrap_or(100);
    let low_water = (max * u64::from(low_water_percent) / 100).max(1);
    if remaining > low_water {
        return None;
    }
    let spread = u32::try_from(remaining + 1).unwrap_or(u32::MAX);
    Some(if remaining == 0 {
        interval
    } else {
        interval / spread
    })
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(max: u64, remaining: u64, interval_ms: u64) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in [
            ("x-hubspot-ratelimit-max", max),
            ("x-hubspot-ratelimit-remaining", remaining),
            ("x-hubspot-ratelimit-interval-milliseconds", interval_ms),
        ] {
            map.insert(name, HeaderValue::from(value));
        }
        map
    }

    #[test]
    fn no_pause_while_the_budget_is_comfortable() {
        assert_eq!(pause(&headers(100, 99, 10_000), 10), None);
        assert_eq!(pause(&headers(100, 11, 10_000), 10), None);
        assert_eq!(pause(&HeaderMap::new(), 10), None);
    }

    #[test]
    fn the_remaining_calls_are_spread_over_the_interval() {
        assert_eq!(
            pause(&headers(100, 10, 10_000), 10),
            Some(Duration::from_secs(10) / 11)
        );
        assert_eq!(
            pause(&headers(100, 1, 10_000), 10),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            pause(&headers(100, 0, 10_000), 10),
            Some(Duration::from_secs(10))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_exhausted_budget_holds_the_next_call_for_an_interval() {
        let throttle = Throttle::new(10, Duration::from_secs(30));
        let start = tokio::time::Instant::now();
        throttle.wait().await;
        assert_eq!(start.elapsed(), Duration::ZERO);
        throttle.observe(&headers(100, 0, 10_000));
        throttle.wait().await;
        assert_eq!(start.elapsed(), Duration::from_secs(10));
        // A later, smaller pause does not shorten a longer one.
        throttle.observe(&headers(100, 0, 60_000));
        throttle.observe(&headers(100, 5, 10_000));
        throttle.wait().await;
        assert_eq!(start.elapsed(), Duration::from_secs(40), "capped at 30 s");
    }
}
