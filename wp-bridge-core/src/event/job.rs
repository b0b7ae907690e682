use serde::{Deserialize, Serialize};

use super::{CorrelationId, EventId, SinkName};

/// What the queue carries: only ids and the sinks still to deliver to.
/// The payload itself stays in the event log, the source of truth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// The event to deliver.
    pub event_id: EventId,
    /// Carried into every log line and sink call.
    pub correlation_id: CorrelationId,
    /// Sinks this job delivers to.
    pub sinks: Vec<SinkName>,
}
