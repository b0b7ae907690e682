#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// Verifier, event schema, traits, tower layers, worker runtime, in-memory backends.
pub use wp_bridge_core as core;

/// The gateway as an axum router.
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use wp_bridge_axum as axum;

/// Redis queue (in progress).
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use wp_bridge_redis as redis;

/// Postgres event log, idempotency and dead-letter store (in progress).
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use wp_bridge_postgres as postgres;

/// Slack, HubSpot and OpenAI sinks (in progress).
#[cfg(feature = "sinks")]
#[cfg_attr(docsrs, doc(cfg(feature = "sinks")))]
pub use wp_bridge_sinks as sinks;

pub use wp_bridge_core::{GatewayBuilder, GatewayService};
