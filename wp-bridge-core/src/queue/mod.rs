//! The work queue between the gateway and the workers.
//!
//! Delivery is at-least-once: a reserved job is leased, and comes back when
//! the lease runs out before it is settled (`ack`, `retry` or `dead_letter`).
//! The event log, not the queue, decides whether a sink still needs the
//! event, so a job seen twice never delivers twice.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use std::time::Duration;
//! use wp_bridge_core::clock::SystemClock;
//! use wp_bridge_core::event::{CorrelationId, EventId, Job, SinkName};
//! use wp_bridge_core::queue::{MemoryQueue, Queue};
//!
//! let queue = MemoryQueue::new(SystemClock::shared());
//! let job = Job {
//!     event_id: EventId::new("evt-1").unwrap(),
//!     correlation_id: CorrelationId::generate(),
//!     sinks: vec![SinkName::new("log")],
//! };
//! queue.enqueue(&job, Duration::ZERO).await.unwrap();
//! assert_eq!(queue.depth().await.unwrap(), 1);
//!
//! let reserved = queue.reserve(Duration::from_secs(30), Duration::ZERO).await.unwrap().unwrap();
//! assert_eq!(reserved.job, job);
//! queue.ack(&reserved.lease).await.unwrap();
//! assert_eq!(queue.depth().await.unwrap(), 0);
//! # }
//! ```

mod memory;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

use crate::error::StoreError;
use crate::event::Job;

pub use memory::MemoryQueue;

/// Identifies one reservation of a job. Settling with a stale lease (one that
/// expired and was handed on) fails with [`StoreError::LeaseLost`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LeaseId(String);

impl LeaseId {
    /// Wraps a backend's lease token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The backend's token.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LeaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A job handed to one worker until its lease runs out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reserved {
    /// The job.
    pub job: Job,
    /// The lease to settle it with.
    pub lease: LeaseId,
    /// How many times this job has been reserved, this time included.
    pub reservations: u32,
}

/// A queue of [`Job`]s with leases and delayed redelivery.
#[async_trait]
pub trait Queue: Send + Sync + fmt::Debug + 'static {
    /// Adds a job, visible after `delay` (zero: now).
    async fn enqueue(&self, job: &Job, delay: Duration) -> Result<(), StoreError>;

    /// Takes the next visible job for `lease`, waiting up to `wait` for one.
    /// No order is promised.
    async fn reserve(
        &self,
        lease: Duration,
        wait: Duration,
    ) -> Result<Option<Reserved>, StoreError>;

    /// The job is done; it never comes back.
    async fn ack(&self, lease: &LeaseId) -> Result<(), StoreError>;

    /// Puts the job back, visible again after `delay`.
    async fn retry(&self, lease: &LeaseId, delay: Duration) -> Result<(), StoreError>;

    /// Removes the job from circulation and keeps it, with `reason`, for inspection.
    async fn dead_letter(&self, lease: &LeaseId, reason: &str) -> Result<(), StoreError>;

    /// Jobs not yet settled: visible, delayed and leased. Used for backpressure.
    async fn depth(&self) -> Result<u64, StoreError>;
}
