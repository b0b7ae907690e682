//! Postgres backend for wp-bridge: the durable event log, idempotency store
//! and dead-letter store, with embedded migrations.
//!
//! **Not implemented yet.** This crate holds only its place in the workspace;
//! it exports nothing. Until it lands, use the in-memory stores of
//! `wp_bridge_core` (not durable).
