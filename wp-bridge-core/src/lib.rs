//! The core of wp-bridge: the WordPress signature verifier, the event schema,
//! the storage and sink traits with in-memory backends, the tower layers of
//! the ingest path and the worker runtime.
//!
//! This crate depends on no storage backend and no HTTP framework beyond
//! `http` and `tower`; `wp-bridge-axum` serves it, `wp-bridge-postgres` and
//! `wp-bridge-redis` store it, `wp-bridge-sinks` delivers it.
//!
//! ```text
//! WordPress ──signed POST──▶ GatewayService ──record──▶ EventLog
//!                                   │ └──────enqueue──▶ Queue ──reserve──▶ Worker ──▶ Sink
//!                                   └── 202 {event_id, correlation_id}
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod clock;
pub mod dead_letter;
pub mod error;
pub mod event;
pub mod event_log;
pub mod gateway;
pub mod idempotency;
pub mod layer;
pub mod metrics;
pub mod monitor;
pub mod queue;
pub mod reconciler;
pub mod rejection;
pub mod response;
pub mod routing;
pub mod service;
pub mod signature;
pub mod sink;
pub mod source;
pub mod worker;

#[cfg(any(test, feature = "testing"))]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
// Test code: a failed unwrap is a failed test, which is the point.
#[allow(clippy::unwrap_used)]
pub mod testing;

pub use error::StoreError;
pub use gateway::{GatewayBuilder, GatewayService, WooCommerceGatewayService};
pub use rejection::{ErrorCode, Rejection};
