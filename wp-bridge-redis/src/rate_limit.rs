use std::fmt;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use wp_bridge_core::clock::SharedClock;
use wp_bridge_core::event::Event;
use wp_bridge_core::sink::{Delivered, DeliveryContext, DeliveryError, Sink};
use wp_bridge_core::StoreError;

use crate::error::store_error;
use crate::queue::connection;
use crate::scripts::GCRA;
use crate::{RedisConfig, RedisError};

/// A rate limit every worker process shares, kept in Redis with the generic
/// cell rate algorithm (one key per target, one atomic script per call).
///
/// `rate` calls per `period`, with up to `burst` calls at once after a quiet
/// spell: Slack's "1 message per second per webhook" is
/// `limit("slack", 1, 1 s, 1)`. The in-process `governor` limiter of the
/// sinks still applies; this one holds across processes.
#[derive(Clone)]
pub struct RedisRateLimiter {
    conn: ConnectionManager,
    prefix: String,
    clock: SharedClock,
}

impl fmt::Debug for RedisRateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisRateLimiter")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// One limited target.
#[derive(Debug, Clone)]
struct Limit {
    target: String,
    key: String,
    interval_us: u64,
    tolerance_us: u64,
}

impl RedisRateLimiter {
    /// A limiter whose keys live under `{prefix}:rate:`.
    pub async fn connect(config: &RedisConfig, clock: SharedClock) -> Result<Self, RedisError> {
        Ok(Self {
            conn: connection(config).await?,
            prefix: config.prefix.clone(),
            clock,
        })
    }

    /// Wraps `sink` so that, across every process sharing this Redis, at most
    /// `rate` calls per `period` reach it (plus a burst of `burst`).
    pub fn limit<S: Sink>(
        &self,
        target: &str,
        rate: u32,
        period: Duration,
        burst: u32,
        sink: S,
    ) -> RateLimited<S> {
        let interval_us =
            u64::try_from(period.as_micros() / u128::from(rate.max(1))).unwrap_or(u64::MAX);
        RateLimited {
            limiter: self.clone(),
            limit: Arc::new(Limit {
                target: target.to_owned(),
                key: format!("{{{}}}:rate:{target}", self.prefix),
                interval_us,
                tolerance_us: interval_us.saturating_mul(u64::from(burst.max(1) - 1)),
            }),
            inner: sink,
        }
    }

    /// Waits until the limit lets one call through.
    async fn acquire(&self, limit: &Limit) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        loop {
            let now_us = self
                .clock
                .now()
                .duration_since(UNIX_EPOCH)
                .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
                .unwrap_or(0);
            let wait_us: u64 = GCRA
                .key(&limit.key)
                .arg(now_us)
                .arg(limit.interval_us)
                .arg(limit.tolerance_us)
                .invoke_async(&mut conn)
                .await
                .map_err(store_error)?;
            if wait_us == 0 {
                return Ok(());
            }
            let wait = Duration::from_micros(wait_us);
            metrics::histogram!(wp_bridge_core::metrics::RATE_LIMIT_WAIT_SECONDS, "sink" => limit.target.clone())
                .record(wait.as_secs_f64());
            tokio::time::sleep(wait).await;
        }
    }
}

/// A sink behind a [`RedisRateLimiter`] limit.
#[derive(Debug, Clone)]
pub struct RateLimited<S> {
    limiter: RedisRateLimiter,
    limit: Arc<Limit>,
    inner: S,
}

#[async_trait]
impl<S: Sink> Sink for RateLimited<S> {
    async fn deliver(
        &self,
        event: &Event,
        ctx: &DeliveryContext,
    ) -> Result<Delivered, DeliveryError> {
        if let Err(err) = self.limiter.acquire(&self.limit).await {
            // Without the shared limit we cannot know the call is allowed.
            return Err(DeliveryError::retryable(format!(
                "rate limiter unavailable: {err}"
            )));
        }
        self.inner.deliver(event, ctx).await
    }
}
