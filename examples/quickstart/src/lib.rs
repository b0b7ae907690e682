//! The pieces of the quick start, exposed for its tests.

use std::sync::Arc;

use wp_bridge::core::clock::SystemClock;
use wp_bridge::core::event_log::MemoryEventLog;
use wp_bridge::core::idempotency::MemoryIdempotencyStore;
use wp_bridge::core::queue::MemoryQueue;
use wp_bridge::core::signature::SecretSet;
use wp_bridge::core::sink::{LogSink, Sink};
use wp_bridge::core::worker::Worker;
use wp_bridge::GatewayBuilder;

pub mod sign;
pub mod sinks;

use sinks::Configured;

/// The quick start's router and worker, on fresh in-memory backends, every
/// event type routed to `sink` under the name `log`.
pub fn app(secrets: SecretSet, sink: Arc<dyn Sink>) -> (axum::Router, Worker) {
    app_with(secrets, sink, Configured::log_only())
}

/// The quick start's router and worker with the sinks configured from the
/// environment besides `log` (see [`Configured::from_env`]).
pub fn app_with(
    secrets: SecretSet,
    log_sink: Arc<dyn Sink>,
    configured: Configured,
) -> (axum::Router, Worker) {
    let clock = SystemClock::shared();
    let log = Arc::new(MemoryEventLog::new(clock.clone()));
    let queue = Arc::new(MemoryQueue::new(clock.clone()));
    let gateway = GatewayBuilder::new(secrets)
        .routes(configured.routes)
        .build(
            Arc::new(MemoryIdempotencyStore::new(clock)),
            log.clone(),
            queue.clone(),
        );
    let mut worker = Worker::builder(queue, log).sink("log", log_sink);
    if let Some((name, enricher)) = configured.enricher {
        worker = worker.enricher(name, enricher);
    }
    for (name, sink) in configured.sinks {
        worker = worker.sink(name, sink);
    }
    (wp_bridge::axum::router(gateway), worker.build())
}

/// The default sink: one JSON line per delivered event on standard output.
pub fn stdout_sink() -> Arc<dyn Sink> {
    Arc::new(LogSink::stdout())
}
