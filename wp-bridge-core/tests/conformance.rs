//! The conformance suites against the in-memory backends.

use std::sync::Arc;

use wp_bridge_core::clock::SharedClock;
use wp_bridge_core::event_log::{EventLog, MemoryEventLog};
use wp_bridge_core::idempotency::{IdempotencyStore, MemoryIdempotencyStore};
use wp_bridge_core::queue::{MemoryQueue, Queue};

async fn idempotency_store(clock: SharedClock) -> Arc<dyn IdempotencyStore> {
    Arc::new(MemoryIdempotencyStore::new(clock))
}

async fn queue(clock: SharedClock) -> Arc<dyn Queue> {
    Arc::new(MemoryQueue::new(clock))
}

async fn event_log(clock: SharedClock) -> Arc<dyn EventLog> {
    Arc::new(MemoryEventLog::new(clock))
}

wp_bridge_core::idempotency_store_conformance!(idempotency_store);
wp_bridge_core::queue_conformance!(queue);
wp_bridge_core::event_log_conformance!(event_log);

async fn dead_letter_stores(clock: SharedClock) -> wp_bridge_core::testing::dead_letter::Stores {
    let log = Arc::new(MemoryEventLog::new(clock));
    (log.clone(), log)
}

wp_bridge_core::dead_letter_conformance!(dead_letter_stores);

async fn sink_state(_clock: SharedClock) -> Arc<dyn wp_bridge_core::sink::SinkState> {
    Arc::new(wp_bridge_core::sink::MemorySinkState::default())
}

wp_bridge_core::sink_state_conformance!(sink_state);
