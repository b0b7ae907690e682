//! The worker runtime: reserve a job, deliver the event to each of its sinks,
//! retry, dead-letter, settle the job.
//!
//! Every attempt is recorded in the event log, and the event log decides
//! whether a sink still needs the event, so a job delivered twice by the
//! queue never reaches a sink twice once it succeeded.

mod backoff;
mod runtime;
mod shutdown;

pub use backoff::RetryPolicy;
pub use runtime::{Worker, WorkerBuilder, WorkerHandle};
pub use shutdown::shutdown_signal;
