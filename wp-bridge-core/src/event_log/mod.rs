//! The durable record of every accepted event and of each sink's delivery.
//!
//! The gateway records an event (with one pending delivery per routed sink)
//! before it answers 202; workers move each delivery forward:
//!
//! ```text
//! Pending ──begin──▶ InFlight ──finish──▶ Delivered   (final)
//!    ▲                 │  ▲  └─────────▶ Dead        (until replayed)
//!    │                 ▼  │
//!    └───────────── Failed (retry due at next_attempt_at)
//! ```
//!
//! `Delivered` is final: `begin_attempt` on it answers
//! [`AttemptStart::AlreadyDelivered`], which is how a duplicate job is kept
//! from delivering twice. A dead delivery can be replayed (back to
//! `Pending` with a fresh attempt budget) or discarded (`Discarded`, kept for
//! audit) through [`DeadLetterStore`](crate::dead_letter::DeadLetterStore).
//!
//! Deliveries that should be queued but are not — the process holding an
//! in-memory queue died, Redis was flushed, the gateway crashed between
//! record and enqueue — are found by [`EventLog::reclaim_stalled`], which the
//! [`Reconciler`](crate::reconciler::Reconciler) calls periodically.

mod memory;

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use serde::Serialize;

use crate::error::StoreError;
use crate::event::{CorrelationId, Event, EventId, Job, SinkName};
use crate::response::Receipt;

pub use memory::{MemoryEventLog, LOST_WORKER};

/// An event to record.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// The validated event.
    pub event: Event,
    /// The body exactly as received and verified.
    pub raw: Bytes,
    /// The id that follows the event everywhere.
    pub correlation_id: CorrelationId,
    /// When the gateway took it.
    pub received_at: SystemTime,
    /// The sinks it is routed to; one pending delivery each.
    pub sinks: Vec<SinkName>,
    /// The sender's W3C `traceparent`, continued on outbound calls.
    pub traceparent: Option<String>,
}

impl NewEvent {
    /// What the sender is told about this event.
    pub fn receipt(&self) -> Receipt {
        Receipt {
            event_id: self.event.event_id.clone(),
            correlation_id: self.correlation_id.clone(),
        }
    }
}

/// The answer to [`EventLog::record`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    /// Newly recorded.
    Recorded,
    /// Already recorded; the original receipt.
    Duplicate(Receipt),
}

/// Where one sink's delivery of one event stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Not attempted yet.
    Pending,
    /// A worker is attempting it.
    InFlight,
    /// Done. Final.
    Delivered,
    /// The last attempt failed; another is due at `next_attempt_at`.
    Failed,
    /// Given up on: a permanent error or the attempt budget ran out.
    Dead,
    /// A dead delivery an operator chose not to replay. Final; kept for audit.
    Discarded,
}

impl DeliveryState {
    /// The lowercase name used in storage and APIs.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::InFlight => "in_flight",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
            Self::Dead => "dead",
            Self::Discarded => "discarded",
        }
    }

    /// Parses [`DeliveryState::as_str`]'s output.
    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::InFlight,
            Self::Delivered,
            Self::Failed,
            Self::Dead,
            Self::Discarded,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }

    /// Whether no worker will attempt this delivery again on its own.
    pub const fn is_final(self) -> bool {
        matches!(self, Self::Delivered | Self::Dead | Self::Discarded)
    }
}

/// One sink's delivery of one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    /// The sink.
    pub sink: SinkName,
    /// Where it stands.
    pub state: DeliveryState,
    /// Attempts begun so far.
    pub attempts: u32,
    /// When the next attempt is due (pending and failed deliveries).
    pub next_attempt_at: Option<SystemTime>,
    /// The last failure's message.
    pub last_error: Option<String>,
    /// The last failure's HTTP status, if the sink spoke HTTP.
    pub last_status_code: Option<u16>,
    /// When the last failure happened (for dead deliveries: when they died).
    pub last_failure_at: Option<SystemTime>,
    /// When it was delivered.
    pub delivered_at: Option<SystemTime>,
    /// The sink's own id for what it created (a Slack ts, a HubSpot record id).
    pub reference: Option<String>,
    /// What the sink produced for later sinks (an enricher's result).
    pub output: Option<serde_json::Value>,
}

/// A recorded event with its deliveries.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    /// The validated event.
    pub event: Event,
    /// The body as received.
    pub raw: Bytes,
    /// Its correlation id.
    pub correlation_id: CorrelationId,
    /// When it was received.
    pub received_at: SystemTime,
    /// One per routed sink.
    pub deliveries: Vec<DeliveryRecord>,
    /// The sender's W3C `traceparent`, if it sent one.
    pub traceparent: Option<String>,
}

impl StoredEvent {
    /// The delivery to `sink`, if the event is routed there.
    pub fn delivery(&self, sink: &SinkName) -> Option<&DeliveryRecord> {
        self.deliveries.iter().find(|d| &d.sink == sink)
    }
}

/// The answer to [`EventLog::begin_attempt`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptStart {
    /// Go ahead: this is attempt number `attempt` (1-based).
    Started {
        /// The attempt number, to pass to `finish_attempt`.
        attempt: u32,
    },
    /// Already delivered: do nothing (a duplicate job).
    AlreadyDelivered,
    /// Another worker's attempt is in flight and its lease has not run out.
    Busy,
    /// Dead-lettered or discarded: only a replay brings it back.
    Dead,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The sink took it.
    Delivered {
        /// The sink's id for what it created.
        reference: Option<String>,
        /// What it produced for later sinks.
        output: Option<serde_json::Value>,
    },
    /// It failed and will be tried again at `next_attempt_at`.
    Retry {
        /// When.
        next_attempt_at: SystemTime,
        /// Why it failed.
        error: String,
        /// HTTP status, if any.
        status_code: Option<u16>,
    },
    /// It failed for good.
    Dead {
        /// Why.
        error: String,
        /// HTTP status, if any.
        status_code: Option<u16>,
    },
}

/// One attempt, as kept for operators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    /// The sink.
    pub sink: SinkName,
    /// 1-based attempt number.
    pub attempt: u32,
    /// When it started.
    pub started_at: SystemTime,
    /// How long the sink call took.
    pub duration: Duration,
    /// How it ended.
    pub outcome: AttemptOutcome,
}

/// The durable record of events and deliveries.
#[async_trait]
pub trait EventLog: Send + Sync + std::fmt::Debug + 'static {
    /// Records an event and one pending delivery per sink, atomically.
    /// Recording an id that is already there changes nothing and answers
    /// [`RecordOutcome::Duplicate`] with the original receipt.
    async fn record(&self, event: NewEvent) -> Result<RecordOutcome, StoreError>;

    /// Whether `record` also completes the event's idempotency claim in the
    /// same transaction (a backend holding both), so the gateway can skip
    /// the separate `IdempotencyStore::complete` round trip.
    fn completes_claims(&self) -> bool {
        false
    }

    /// The event and its deliveries.
    async fn load(&self, id: &EventId) -> Result<Option<StoredEvent>, StoreError>;

    /// Moves a pending or failed delivery (or an in-flight one whose lease
    /// ran out) to in flight for `lease`, counting an attempt.
    async fn begin_attempt(
        &self,
        id: &EventId,
        sink: &SinkName,
        lease: Duration,
    ) -> Result<AttemptStart, StoreError>;

    /// Records how attempt `attempt` ended and moves the delivery on.
    /// Fails with [`StoreError::AttemptConflict`] (recording the attempt but
    /// changing no state) when that attempt no longer holds the delivery.
    async fn finish_attempt(
        &self,
        id: &EventId,
        sink: &SinkName,
        attempt: u32,
        started_at: SystemTime,
        duration: Duration,
        outcome: AttemptOutcome,
    ) -> Result<(), StoreError>;

    /// Every attempt on the event, oldest first.
    async fn attempts(&self, id: &EventId) -> Result<Vec<AttemptRecord>, StoreError>;

    /// Finds up to `limit` deliveries that may have no job in the queue:
    /// pending or failed and due since before `stalled_before`, or in flight
    /// under a lease that ran out before it. Each one found is held back
    /// until `now + hold` (so the next sweep skips it while its new job is
    /// queued) and returned as jobs, one per event.
    async fn reclaim_stalled(
        &self,
        stalled_before: SystemTime,
        hold: Duration,
        limit: usize,
    ) -> Result<Vec<Job>, StoreError>;

    /// Retention: deletes the events received before `before` whose every
    /// delivery is delivered or discarded, with their history. An event with
    /// a dead, failed, pending or in-flight delivery is never purged, so dead
    /// letters do not disappear silently. Returns how many events went.
    async fn purge(&self, before: SystemTime) -> Result<u64, StoreError>;
}
