//! Store factories for the conformance suites: a fresh schema per test.
#![allow(dead_code)] // Each test binary uses a different part.

use std::sync::Arc;

use wp_bridge_core::clock::SharedClock;
use wp_bridge_core::event_log::EventLog;
use wp_bridge_core::idempotency::IdempotencyStore;
use wp_bridge_core::testing::dead_letter::Stores;
pub(crate) use wp_bridge_postgres::testing::fresh_schema;
use wp_bridge_postgres::PgStores;

/// A fresh, migrated schema of its own.
pub(crate) async fn fresh_stores(max_connections: u32) -> PgStores {
    fresh_schema(max_connections).await.0
}

pub(crate) async fn fresh_idempotency_store(clock: SharedClock) -> Arc<dyn IdempotencyStore> {
    Arc::new(fresh_stores(5).await.idempotency_store(clock))
}

pub(crate) async fn fresh_event_log(clock: SharedClock) -> Arc<dyn EventLog> {
    Arc::new(fresh_stores(5).await.event_log(clock))
}

pub(crate) async fn fresh_dead_letter_stores(clock: SharedClock) -> Stores {
    let stores = fresh_stores(5).await;
    (
        Arc::new(stores.event_log(clock.clone())),
        Arc::new(stores.dead_letter_store(clock)),
    )
}

pub(crate) async fn fresh_sink_state(
    _clock: SharedClock,
) -> Arc<dyn wp_bridge_core::sink::SinkState> {
    Arc::new(fresh_stores(5).await.sink_state())
}
