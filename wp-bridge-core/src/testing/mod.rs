//! Conformance suites every backend runs, and fakes for tests.
//!
//! Each suite is a set of plain generic async functions plus a macro that
//! stamps out one `#[tokio::test]` per case, so each case passes or fails
//! under its own name:
//!
//! ```text
//! // wp-bridge-postgres/tests/conformance.rs
//! mod common;
//! wp_bridge_core::idempotency_store_conformance!(common::fresh_idempotency_store);
//! wp_bridge_core::event_log_conformance!(common::fresh_event_log);
//! ```
//!
//! A factory is `async fn(SharedClock) -> Arc<dyn Trait>` and must return a
//! store isolated from every other call (a fresh schema, key prefix or
//! instance), so cases run in parallel. Backends that compare times in Rust
//! or pass "now" to their server must use the given clock; cases that need
//! time to pass advance it and also poll for a few real seconds, so a
//! backend whose server owns expiry (Redis `PX`) passes too.

pub mod dead_letter;
pub mod event_log;
pub mod fakes;
pub mod idempotency;
pub mod queue;
pub mod sink_state;

use std::future::Future;
use std::time::Duration;

pub use fakes::{sample_body, sample_event, ScriptedSink, SharedBuffer};

/// Polls `check` until it returns `Some`, for at most `within`.
pub async fn eventually<T, F, Fut>(within: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One `#[tokio::test]` per [`IdempotencyStore`](crate::idempotency::IdempotencyStore) case.
#[macro_export]
macro_rules! idempotency_store_conformance {
    ($make:path) => {
        mod idempotency_store_conformance {
            $crate::__conformance_cases!($make, idempotency;
                first_claim_wins_then_in_progress_then_completed,
                concurrent_claims_have_exactly_one_winner,
                expired_claim_can_be_taken_over,
                release_allows_a_retry,
                long_and_non_ascii_ids_round_trip,
                ids_are_independent,
            );
        }
    };
}

/// One `#[tokio::test]` per [`Queue`](crate::queue::Queue) case.
#[macro_export]
macro_rules! queue_conformance {
    ($make:path) => {
        mod queue_conformance {
            $crate::__conformance_cases!($make, queue;
                enqueued_job_round_trips_exactly,
                acked_job_never_returns,
                retried_job_returns_after_its_delay,
                expired_lease_is_redelivered_and_the_old_lease_is_lost,
                two_consumers_never_hold_the_same_job,
                delayed_job_stays_hidden_until_due,
                depth_counts_every_unsettled_job,
                dead_lettered_job_leaves_circulation,
                reserve_on_an_empty_queue_returns_none_after_waiting,
            );
        }
    };
}

/// One `#[tokio::test]` per [`EventLog`](crate::event_log::EventLog) case.
#[macro_export]
macro_rules! event_log_conformance {
    ($make:path) => {
        mod event_log_conformance {
            $crate::__conformance_cases!($make, event_log;
                recorded_event_loads_with_pending_deliveries,
                recording_twice_answers_the_original_receipt,
                concurrent_records_have_exactly_one_winner,
                delivered_is_final,
                in_flight_is_busy_until_its_lease_runs_out,
                every_attempt_is_recorded,
                dead_stays_dead,
                unknown_event_or_sink_is_an_error,
                stalled_pending_deliveries_are_reclaimed_once,
                a_lost_in_flight_delivery_is_reclaimed,
                reclaiming_respects_the_limit,
                purge_keeps_dead_unfinished_and_recent_events,
            );
        }
    };
}

/// One `#[tokio::test]` per [`DeadLetterStore`](crate::dead_letter::DeadLetterStore)
/// case; the factory returns an event log and a dead-letter store over the
/// same storage.
#[macro_export]
macro_rules! dead_letter_conformance {
    ($make:path) => {
        mod dead_letter_conformance {
            $crate::__conformance_cases!($make, dead_letter;
                filters_and_pages_return_exactly_the_matching_rows,
                replay_revives_only_dead_deliveries,
                concurrent_replays_produce_one_job,
                discard_keeps_the_record_but_leaves_the_list,
                stats_and_audit_trail,
            );
        }
    };
}

/// One `#[tokio::test]` per [`SinkState`](crate::sink::SinkState) case.
#[macro_export]
macro_rules! sink_state_conformance {
    ($make:path) => {
        mod sink_state_conformance {
            $crate::__conformance_cases!($make, sink_state;
                values_round_trip_replace_and_stay_in_their_scope,
                concurrent_puts_leave_one_whole_value,
            );
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases {
    ($make:path, $suite:ident; $($case:ident),+ $(,)?) => {
        #[allow(unused_imports)]
        use super::*;
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::testing::$suite::$case($make).await
            }
        )+
    };
}
