//! Re-enqueues deliveries that the event log says are due but that may have
//! no job in the queue.
//!
//! The event log is the truth and the queue only makes delivery fast, so a
//! job can be lost without losing the event: the gateway crashed between
//! record and enqueue, the process holding an in-memory queue died, Redis
//! restarted empty or was flushed, a worker died mid-delivery. The reconciler
//! sweeps the log every `interval` for deliveries due for longer than
//! `grace` (pending, failed, or in flight under an expired lease) and
//! enqueues them again. A delivery the queue still holds may be enqueued a
//! second time; the event log keeps that from delivering twice.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use std::{sync::Arc, time::{Duration, SystemTime}};
//! use wp_bridge_core::clock::ManualClock;
//! use wp_bridge_core::event::{parse_event, CorrelationId, SinkName};
//! use wp_bridge_core::event_log::{EventLog, MemoryEventLog, NewEvent};
//! use wp_bridge_core::queue::{MemoryQueue, Queue};
//! use wp_bridge_core::reconciler::Reconciler;
//!
//! let clock = ManualClock::starting_now();
//! let log = Arc::new(MemoryEventLog::new(Arc::new(clock.clone())));
//! let queue = Arc::new(MemoryQueue::new(Arc::new(clock.clone())));
//! let body = br#"{"event":"comment.created","event_id":"c-1","site":"https://blog.example",
//!   "data":{"id":1,"post_id":2,"author":{"name":"Ada"},"content":"Hi","created_at":"2026-12-04T10:00:00Z"}}"#;
//! // Recorded, then the process died before the job was enqueued.
//! log.record(NewEvent { event: parse_event(body).unwrap(), raw: body.to_vec().into(),
//!     correlation_id: CorrelationId::generate(), received_at: clock_now(&clock),
//!     sinks: vec![SinkName::new("slack")], traceparent: None }).await.unwrap();
//!
//! let reconciler = Reconciler::new(log, queue.clone()).clock(Arc::new(clock.clone()));
//! assert_eq!(reconciler.sweep().await.unwrap(), 0); // still within the grace period
//! clock.advance(Duration::from_secs(120));
//! assert_eq!(reconciler.sweep().await.unwrap(), 1);
//! assert_eq!(queue.depth().await.unwrap(), 1);
//! assert_eq!(reconciler.sweep().await.unwrap(), 0); // held back while its job is queued
//! # fn clock_now(c: &ManualClock) -> SystemTime { use wp_bridge_core::clock::Clock; c.now() }
//! # }
//! ```

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::clock::{SharedClock, SystemClock};
use crate::error::StoreError;
use crate::event_log::EventLog;
use crate::queue::Queue;

/// Sweeps the event log for deliveries without a job and enqueues them.
#[derive(Debug, Clone)]
#[must_use]
pub struct Reconciler {
    log: Arc<dyn EventLog>,
    queue: Arc<dyn Queue>,
    interval: Duration,
    grace: Duration,
    batch: usize,
    clock: SharedClock,
}

impl Reconciler {
    /// A reconciler sweeping every 30 s with a 60 s grace period.
    pub fn new(log: Arc<dyn EventLog>, queue: Arc<dyn Queue>) -> Self {
        Self {
            log,
            queue,
            interval: Duration::from_secs(30),
            grace: Duration::from_secs(60),
            batch: 500,
            clock: SystemClock::shared(),
        }
    }

    /// Time between sweeps (default 30 s).
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// How long a delivery may be overdue before it counts as lost (default
    /// 60 s); also how long a re-enqueued delivery is held back from the
    /// next sweeps. Keep it above the queue's normal latency.
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Deliveries reclaimed per database round trip (default 500).
    pub fn batch(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// The clock "overdue" is measured on.
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// One sweep: re-enqueues every stalled delivery. Returns how many jobs
    /// were enqueued.
    pub async fn sweep(&self) -> Result<usize, StoreError> {
        let mut enqueued = 0;
        loop {
            let stalled_before = self.clock.now() - self.grace;
            let jobs = self
                .log
                .reclaim_stalled(stalled_before, self.grace, self.batch)
                .await?;
            let sinks: usize = jobs.iter().map(|j| j.sinks.len()).sum();
            for job in &jobs {
                self.queue.enqueue(job, Duration::ZERO).await?;
                tracing::info!(event_id = %job.event_id, correlation_id = %job.correlation_id, sinks = job.sinks.len(), "re-enqueued a stalled delivery");
            }
            enqueued += jobs.len();
            metrics::counter!(crate::metrics::RECONCILED).increment(sinks as u64);
            if sinks < self.batch {
                return Ok(enqueued);
            }
        }
    }

    /// Sweeps every `interval` until `shutdown` is cancelled. Errors are
    /// logged and the next sweep tries again.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            if let Err(err) = self.sweep().await {
                tracing::warn!(error = %err, "reconciler sweep failed; retrying next interval");
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(self.interval) => {}
            }
        }
    }
}
