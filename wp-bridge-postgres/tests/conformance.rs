//! The core conformance suites against real Postgres, each case in its own schema.

mod common;

wp_bridge_core::idempotency_store_conformance!(common::fresh_idempotency_store);
wp_bridge_core::event_log_conformance!(common::fresh_event_log);
wp_bridge_core::dead_letter_conformance!(common::fresh_dead_letter_stores);
wp_bridge_core::sink_state_conformance!(common::fresh_sink_state);
