//! The error of storage operations, shared by every backend.

use thiserror::Error;

use crate::event::{EventId, SinkName};

/// A storage or queue operation failed.
///
/// Backends map their own errors into [`StoreError::Unavailable`] (retry
/// later) or [`StoreError::Corrupt`] (needs a human); the other variants are
/// outcomes every backend must report the same way.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend could not be reached or timed out; the operation may be retried.
    #[error("{backend} is unavailable: {message}; the operation can be retried once it is reachable again")]
    Unavailable {
        /// Which backend, e.g. `"postgres"`.
        backend: &'static str,
        /// What the driver said (never contains credentials).
        message: String,
    },
    /// The lease is no longer held: it expired and the job may be with another worker.
    #[error("the queue lease is no longer held (it expired or was settled); the job will be or was handled by its current holder")]
    LeaseLost,
    /// No such event in the event log.
    #[error("event {0} is not in the event log")]
    UnknownEvent(EventId),
    /// The event has no delivery to this sink.
    #[error("event {event_id} has no delivery to sink {sink}")]
    UnknownDelivery {
        /// The event.
        event_id: EventId,
        /// The sink.
        sink: SinkName,
    },
    /// The attempt being finished is not the one in flight (another worker
    /// took the delivery over after this one's lease expired, or it is final).
    #[error("delivery of {event_id} to {sink} is no longer held by attempt {attempt}; its state was left unchanged")]
    AttemptConflict {
        /// The event.
        event_id: EventId,
        /// The sink.
        sink: SinkName,
        /// The attempt number that tried to finish.
        attempt: u32,
    },
    /// Stored data could not be decoded.
    #[error("stored data is corrupt: {0}; inspect the record by hand")]
    Corrupt(String),
}

impl StoreError {
    /// A shorthand for [`StoreError::Unavailable`].
    pub fn unavailable(backend: &'static str, message: impl std::fmt::Display) -> Self {
        Self::Unavailable {
            backend,
            message: message.to_string(),
        }
    }
}
