//! Slack incoming webhooks: one message per event, built from the event
//! and the enricher's judgement.
//!
//! Incoming webhooks take no idempotency key, so a call that timed out after
//! Slack took it is posted again on retry; the timeout is kept short to make
//! that rare.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use std::time::Duration;
//! use wp_bridge_sinks::slack::{SlackConfig, SlackSink};
//! use wp_bridge_sinks::SinkRateLimit;
//!
//! let sink = SlackSink::new(
//!     SlackConfig::new("https://hooks.slack.com/services/T000/B000/XXXX")
//!         .timeout(Duration::from_secs(5))
//!         .rate_limit(SinkRateLimit::per_second(1).with_burst(3)),
//! )
//! .unwrap();
//! // The webhook URL is a credential: it never shows in Debug output.
//! assert!(!format!("{sink:?}").contains("XXXX"));
//! # }
//! ```

mod api;
mod message;

use std::fmt;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use wp_bridge_core::event::Event;
use wp_bridge_core::sink::{Delivered, DeliveryContext, DeliveryError, Sink};

use crate::enrichment::Enrichment;
use crate::http::{self, Outbound};
use crate::rate_limit::{RateLimiter, SinkRateLimit};
use crate::{Error, Secret};

/// Settings of a [`SlackSink`].
#[derive(Debug, Clone)]
#[must_use]
pub struct SlackConfig {
    webhook_url: Secret,
    timeout: Duration,
    rate_limit: SinkRateLimit,
    max_retry_after: Duration,
    enrichment_key: String,
}

impl SlackConfig {
    /// Posts to this incoming-webhook URL (`https://hooks.slack.com/services/…`).
    pub fn new(webhook_url: impl Into<Secret>) -> Self {
        Self {
            webhook_url: webhook_url.into(),
            timeout: Duration::from_secs(10),
            rate_limit: SinkRateLimit::per_second(1).with_burst(3),
            max_retry_after: Duration::from_secs(15 * 60),
            enrichment_key: "openai".to_owned(),
        }
    }

    /// The whole call, connect to last byte (default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Calls per webhook (default one a second, bursts of 3: Slack's
    /// documented limit).
    pub fn rate_limit(mut self, limit: SinkRateLimit) -> Self {
        self.rate_limit = limit;
        self
    }

    /// The longest `Retry-After` passed on to the worker (default 15 min).
    pub fn max_retry_after(mut self, limit: Duration) -> Self {
        self.max_retry_after = limit;
        self
    }

    /// The enricher whose output goes into the message (default `openai`;
    /// any enrichment of the right shape is used when that one is absent).
    pub fn enrichment_key(mut self, name: impl Into<String>) -> Self {
        self.enrichment_key = name.into();
        self
    }
}

/// Posts each event to a Slack incoming webhook.
#[derive(Clone)]
pub struct SlackSink {
    url: reqwest::Url,
    out: Outbound,
    max_retry_after: Duration,
    enrichment_key: String,
}

impl fmt::Debug for SlackSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlackSink")
            .field("webhook_url", &"[redacted]")
            .field("limiter", &self.out.limiter)
            .field("timeout", &self.out.timeout)
            .finish_non_exhaustive()
    }
}

impl SlackSink {
    /// A sink with its own rate limiter. Must be called within a tokio
    /// runtime.
    pub fn new(config: SlackConfig) -> Result<Self, Error> {
        config.rate_limit.validate("Slack rate limit")?;
        let limiter = RateLimiter::new(config.rate_limit).labelled("slack");
        Self::with_limiter(config, limiter)
    }

    /// A sink drawing on `limiter`, shared with other sinks posting to the
    /// same webhook.
    pub fn with_limiter(config: SlackConfig, limiter: RateLimiter) -> Result<Self, Error> {
        if config.webhook_url.is_blank() {
            return Err(Error::config(
                "Slack webhook URL",
                "it is empty: create an incoming webhook in Slack and copy its URL",
            ));
        }
        let url = http::endpoint(config.webhook_url.expose(), "Slack webhook URL")?;
        Ok(Self {
            url,
            out: Outbound {
                client: http::client(config.timeout)?,
                limiter,
                target: "Slack",
                timeout: config.timeout,
            },
            max_retry_after: config.max_retry_after,
            enrichment_key: config.enrichment_key,
        })
    }
}

#[async_trait]
impl Sink for SlackSink {
    async fn deliver(
        &self,
        event: &Event,
        ctx: &DeliveryContext,
    ) -> Result<Delivered, DeliveryError> {
        let enrichment = Enrichment::from_context(ctx, &self.enrichment_key);
        let body = message::message(event, enrichment.as_ref());
        let request = self.out.client.post(self.url.clone()).json(&body);
        let answer = self.out.send(request, ctx).await?;
        api::classify(&answer, self.max_retry_after, SystemTime::now())?;
        // Incoming webhooks return no message id.
        Ok(Delivered::default())
    }
}
