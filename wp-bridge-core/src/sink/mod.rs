//! Where events go: the [`Sink`] trait and the [`LogSink`].
//!
//! A sink says whether a failure is worth retrying; the worker never parses
//! HTTP statuses itself.

mod log;
mod state;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use thiserror::Error;

use crate::event::{CorrelationId, Event, EventId, SinkName};

pub use log::LogSink;
pub use state::{MemorySinkState, SinkState};

/// What a sink is told besides the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryContext {
    /// The event.
    pub event_id: EventId,
    /// Send this on outbound calls (as `X-Request-Id`) and log it.
    pub correlation_id: CorrelationId,
    /// The name this sink is configured under.
    pub sink: SinkName,
    /// 1-based attempt number for this sink.
    pub attempt: u32,
    /// What the event's enrichers (see `WorkerBuilder::enricher`) produced,
    /// by enricher name; empty when there is none or it was skipped.
    pub enrichment: BTreeMap<SinkName, serde_json::Value>,
    /// The sender's W3C `traceparent`, if it sent one.
    pub traceparent: Option<String>,
}

impl DeliveryContext {
    /// The `traceparent` to send on an outbound call: the sender's trace
    /// continued with a fresh span id, or none when the sender sent none.
    pub fn outbound_traceparent(&self) -> Option<String> {
        self.traceparent
            .as_deref()
            .map(crate::event::child_traceparent)
    }
}

/// A successful delivery.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivered {
    /// The sink's own id for what it created, kept so a replay can update
    /// instead of duplicating.
    pub reference: Option<String>,
    /// A result to hand to the event's later sinks (an enricher's summary or
    /// classification); recorded with the delivery.
    pub output: Option<serde_json::Value>,
}

/// A failed delivery and whether to try again.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DeliveryError {
    /// Temporary (429, 5xx, timeout, connection refused): retry later, not
    /// before `retry_after` when the sink said so.
    #[error("{message} (will retry)")]
    Retryable {
        /// What happened.
        message: String,
        /// The sink's requested wait.
        retry_after: Option<Duration>,
        /// HTTP status, if any.
        status_code: Option<u16>,
    },
    /// Will never succeed as sent (bad request, revoked token, archived
    /// channel): dead-letter it; fix the cause, then replay.
    #[error("{message} (permanent: fix the cause, then replay)")]
    Permanent {
        /// What happened and what to fix.
        message: String,
        /// HTTP status, if any.
        status_code: Option<u16>,
    },
}

impl DeliveryError {
    /// A retryable error.
    pub fn retryable(message: impl Into<String>) -> Self {
        Self::Retryable {
            message: message.into(),
            retry_after: None,
            status_code: None,
        }
    }

    /// A permanent error.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self::Permanent {
            message: message.into(),
            status_code: None,
        }
    }

    /// The HTTP status, if any.
    pub fn status_code(&self) -> Option<u16> {
        match self {
            Self::Retryable { status_code, .. } | Self::Permanent { status_code, .. } => {
                *status_code
            }
        }
    }

    /// The message without the retry verdict.
    pub fn message(&self) -> &str {
        match self {
            Self::Retryable { message, .. } | Self::Permanent { message, .. } => message,
        }
    }
}

/// A destination for events.
#[async_trait]
pub trait Sink: Send + Sync + fmt::Debug + 'static {
    /// Delivers one event. Must be safe to call again for the same event
    /// after a failure (use `ctx.event_id` as the remote idempotency key
    /// where the API has one).
    async fn deliver(
        &self,
        event: &Event,
        ctx: &DeliveryContext,
    ) -> Result<Delivered, DeliveryError>;
}

/// A shared sink is a sink, so wrappers (rate limits, enrichment) compose
/// with sinks chosen at run time.
#[async_trait]
impl<S: Sink + ?Sized> Sink for Arc<S> {
    async fn deliver(
        &self,
        event: &Event,
        ctx: &DeliveryContext,
    ) -> Result<Delivered, DeliveryError> {
        (**self).deliver(event, ctx).await
    }
}
