//! Redis backend for wp-bridge: the [`RedisQueue`] shared by every worker,
//! and the [`RedisRateLimiter`] that holds a sink's rate across all of them.
//!
//! The queue is a reliable-queue design on plain Redis types, every step an
//! atomic Lua script (see [`RedisQueue`]); Postgres stays the source of truth,
//! and the core `Reconciler` refills the queue from it if Redis loses data.
//!
//! ```no_run
//! # async fn run() -> Result<(), wp_bridge_redis::RedisError> {
//! use std::sync::Arc;
//! use wp_bridge_core::clock::SystemClock;
//! use wp_bridge_redis::{RedisConfig, RedisQueue};
//!
//! let queue = RedisQueue::connect(&RedisConfig::new("redis://127.0.0.1:6379").prefix("wp-bridge"), SystemClock::shared()).await?;
//! # Ok(()) }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod config;
mod error;
mod queue;
mod rate_limit;
mod scripts;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

pub use config::RedisConfig;
pub use error::RedisError;
pub use queue::RedisQueue;
pub use rate_limit::{RateLimited, RedisRateLimiter};
