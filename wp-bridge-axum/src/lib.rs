//! The wp-bridge gateway as an axum [`Router`](axum::Router).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use wp_bridge_core::clock::SystemClock;
//! use wp_bridge_core::event_log::MemoryEventLog;
//! use wp_bridge_core::idempotency::MemoryIdempotencyStore;
//! use wp_bridge_core::queue::MemoryQueue;
//! use wp_bridge_core::routing::Routes;
//! use wp_bridge_core::signature::SecretSet;
//! use wp_bridge_core::GatewayBuilder;
//!
//! let clock = SystemClock::shared();
//! let gateway = GatewayBuilder::new(SecretSet::from_comma_separated("new-secret-0123456789")?)
//!     .routes(Routes::all_to("log"))
//!     .build(
//!         Arc::new(MemoryIdempotencyStore::new(clock.clone())),
//!         Arc::new(MemoryEventLog::new(clock.clone())),
//!         Arc::new(MemoryQueue::new(clock)),
//!     );
//! let app = wp_bridge_axum::router(gateway);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```

pub mod admin;
mod error;
mod health;
mod routes;
pub mod server;

pub use error::ApiError;
pub use health::{health_router, ReadinessCheck};
pub use routes::{
    router, router_with, router_with_readiness, RouterOptions, INGEST_PATH, STANDARD_WEBHOOKS_PATH,
    WOOCOMMERCE_PATH,
};
pub use server::{serve, ServerLimits};
