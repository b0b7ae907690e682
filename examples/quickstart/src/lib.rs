//! The pieces of the quick start, exposed for its tests.

use std::sync::Arc;

use wp_bridge::core::clock::SystemClock;
use wp_bridge::core::event_log::MemoryEventLog;
use wp_bridge::core::idempotency::MemoryIdempotencyStore;
use wp_bridge::core::queue::MemoryQueue;
use wp_bridge::core::routing::Routes;
use wp_bridge::core::signature::SecretSet;
use wp_bridge::core::sink::{LogSink, Sink};
use wp_bridge::core::worker::Worker;
use wp_bridge::GatewayBuilder;

pub mod sign;

/// The quick start's router and worker, on fresh in-memory backends, every
/// event type routed to `sink` under the name `log`.
pub fn app(secrets: SecretSet, sink: Arc<dyn Sink>) -> (axum::Router, Worker) {
    let clock = SystemClock::shared();
    let log = Arc::new(MemoryEventLog::new(clock.clone()));
    let queue = Arc::new(MemoryQueue::new(clock.clone()));
    let gateway = GatewayBuilder::new(secrets)
        .routes(Routes::all_to("log"))
        .build(
            Arc::new(MemoryIdempotencyStore::new(clock)),
            log.clone(),
            queue.clone(),
        );
    let worker = Worker::builder(queue, log).sink("log", sink).build();
    (wp_bridge::axum::router(gateway), worker)
}

/// The default sink: one JSON line per delivered event on standard output.
pub fn stdout_sink() -> Arc<dyn Sink> {
    Arc::new(LogSink::stdout())
}
