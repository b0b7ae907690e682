//! Postgres backend for wp-bridge: the durable event log, idempotency store
//! and dead-letter store, with embedded migrations.
//!
//! Postgres is the source of truth: an event, its per-sink delivery state,
//! every attempt and every dead letter live here, so the queue can lose
//! everything without losing an event (the core `Reconciler` re-enqueues
//! from here).
//!
//! ```no_run
//! # async fn run() -> Result<(), wp_bridge_postgres::PgError> {
//! use std::sync::Arc;
//! use wp_bridge_core::clock::SystemClock;
//! use wp_bridge_postgres::{PgConfig, PgStores};
//!
//! let stores = PgStores::connect(&PgConfig::new("postgres://wp_bridge@127.0.0.1/wp_bridge")).await?;
//! stores.migrate().await?;
//! let clock = SystemClock::shared();
//! let log = Arc::new(stores.event_log(clock.clone()));
//! let idempotency = Arc::new(stores.idempotency_store(clock.clone()));
//! let dead_letters = Arc::new(stores.dead_letter_store(clock));
//! # Ok(()) }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod config;
mod convert;
mod dead_letter;
mod error;
mod event_log;
mod idempotency;
mod sink_state;
mod stores;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

pub use config::PgConfig;
pub use dead_letter::PgDeadLetterStore;
pub use error::PgError;
pub use event_log::PgEventLog;
pub use idempotency::PgIdempotencyStore;
pub use sink_state::PgSinkState;
pub use stores::PgStores;
