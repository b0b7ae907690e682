//! The metric names wp-bridge records through the `metrics` facade. Install
//! any `metrics` recorder (the `wp-bridge` binary installs a Prometheus one)
//! to export them; without one, recording costs next to nothing.
//!
//! Names are stable: dashboards and alert rules in `docs/` use them.

/// Events accepted (202). Counter.
pub const ACCEPTED: &str = "wp_bridge_accepted_total";
/// Duplicate submissions answered 200. Counter.
pub const DUPLICATE: &str = "wp_bridge_duplicate_total";
/// Requests refused, by `reason` (the error code). Counter.
pub const REJECTED: &str = "wp_bridge_rejected_total";
/// Time to answer an ingest request, seconds. Histogram.
pub const INGEST_SECONDS: &str = "wp_bridge_ingest_seconds";
/// Requests verified, by `key_index` of the secret that matched. Counter.
pub const VERIFIED: &str = "wp_bridge_verified_total";
/// Gateway clock minus the sender's timestamp, seconds. Histogram.
pub const CLOCK_SKEW_SECONDS: &str = "wp_bridge_clock_skew_seconds";
/// Unsettled jobs in the queue. Gauge (sampled).
pub const QUEUE_DEPTH: &str = "wp_bridge_queue_depth";
/// Jobs a worker is processing right now. Gauge.
pub const JOBS_IN_FLIGHT: &str = "wp_bridge_jobs_in_flight";
/// Delivery attempts, by `sink` and `outcome` (`delivered`, `retry`, `dead`, `interrupted`). Counter.
pub const DELIVERIES: &str = "wp_bridge_deliveries_total";
/// One sink call, by `sink`, seconds. Histogram.
pub const DELIVERY_SECONDS: &str = "wp_bridge_delivery_seconds";
/// From the gateway receiving an event to a sink having it, by `sink`, seconds. Histogram.
pub const END_TO_END_SECONDS: &str = "wp_bridge_end_to_end_seconds";
/// Retries scheduled, by `sink`. Counter.
pub const RETRIES: &str = "wp_bridge_retries_total";
/// Dead letters waiting, by `sink`. Gauge (sampled).
pub const DEAD_LETTERS: &str = "wp_bridge_dead_letters";
/// Each wait for the shared rate limiter, by `sink`, seconds. Histogram
/// (its `_sum` is the total time spent waiting).
pub const RATE_LIMIT_WAIT_SECONDS: &str = "wp_bridge_rate_limit_wait_seconds";
/// Deliveries re-enqueued by the reconciler. Counter.
pub const RECONCILED: &str = "wp_bridge_reconciled_total";

/// Tokens an enricher used, by `kind` (`prompt`, `completion`). Counter.
pub const ENRICHMENT_TOKENS: &str = "wp_bridge_enrichment_tokens_total";
/// What enrichment cost, in micro-dollars (from the configured prices and
/// the reported usage). Counter.
pub const ENRICHMENT_COST_MICRO_USD: &str = "wp_bridge_enrichment_cost_micro_usd_total";
/// Enrichments skipped (delivered without), by `reason` (`cost_cap`,
/// `latency_budget`). Counter.
pub const ENRICHMENT_SKIPPED: &str = "wp_bridge_enrichment_skipped_total";
/// Enrichments answered from the cache, no call paid for. Counter.
pub const ENRICHMENT_CACHE_HITS: &str = "wp_bridge_enrichment_cache_hits_total";

/// Every name above, for documentation checks.
pub const ALL: &[&str] = &[
    ACCEPTED,
    DUPLICATE,
    REJECTED,
    INGEST_SECONDS,
    VERIFIED,
    CLOCK_SKEW_SECONDS,
    QUEUE_DEPTH,
    JOBS_IN_FLIGHT,
    DELIVERIES,
    DELIVERY_SECONDS,
    END_TO_END_SECONDS,
    RETRIES,
    DEAD_LETTERS,
    RATE_LIMIT_WAIT_SECONDS,
    RECONCILED,
    ENRICHMENT_TOKENS,
    ENRICHMENT_COST_MICRO_USD,
    ENRICHMENT_SKIPPED,
    ENRICHMENT_CACHE_HITS,
];
