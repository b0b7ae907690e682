//! Redis backend for wp-bridge: the `Queue` on Redis Streams with a consumer
//! group, leases, reclaim of jobs whose worker died, delayed retries and a
//! rate limiter shared by all workers.
//!
//! **Not implemented yet.** This crate holds only its place in the workspace;
//! it exports nothing. Until it lands, use `wp_bridge_core::queue::MemoryQueue`
//! (not durable).
