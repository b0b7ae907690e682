//! Assembles the whole ingest stack in the recommended order.

use std::sync::Arc;
use std::time::Duration;

use tower_layer::Layer;

use crate::clock::{SharedClock, SystemClock};
use crate::event::Limits;
use crate::event_log::EventLog;
use crate::idempotency::IdempotencyStore;
use crate::layer::backpressure::Backpressure;
use crate::layer::dedupe::Dedupe;
use crate::layer::ip_allowlist::IpAllowlist;
use crate::layer::record_metrics::RecordMetrics;
use crate::layer::validate_event::ValidateEvent;
use crate::layer::verify_signature::Scheme;
use crate::layer::verify_signature::{VerifySignature, DEFAULT_BODY_LIMIT};
use crate::layer::{
    BackpressureLayer, DedupeLayer, IpAllowlistLayer, RecordMetricsLayer, ValidateEventLayer,
    VerifySignatureLayer,
};
use crate::queue::Queue;
use crate::routing::Routes;
use crate::service::IngestService;
use crate::signature::{SecretSet, SignatureVerifier, StandardWebhooksVerifier, DEFAULT_TOLERANCE};
use crate::source::woocommerce::{WooCommerce, WooCommerceLayer};

/// The complete ingest service: a `tower::Service<http::Request<B>>`
/// answering [`GatewayResponse`](crate::response::GatewayResponse)s.
pub type GatewayService =
    RecordMetrics<IpAllowlist<VerifySignature<ValidateEvent<Backpressure<Dedupe<IngestService>>>>>>;

/// The WooCommerce native-webhook stack: no signature window and no
/// backpressure (WooCommerce never retries; see [`crate::source::woocommerce`]).
pub type WooCommerceGatewayService =
    RecordMetrics<IpAllowlist<WooCommerce<ValidateEvent<Dedupe<IngestService>>>>>;

/// Default queue bound before the gateway answers 503.
pub const DEFAULT_MAX_QUEUE_DEPTH: u64 = 10_000;

/// Builds a [`GatewayService`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::sync::Arc;
/// use bytes::Bytes;
/// use http::{Request, StatusCode};
/// use http_body_util::Full;
/// use tower::ServiceExt;
/// use wp_bridge_core::clock::SystemClock;
/// use wp_bridge_core::event_log::MemoryEventLog;
/// use wp_bridge_core::gateway::GatewayBuilder;
/// use wp_bridge_core::idempotency::MemoryIdempotencyStore;
/// use wp_bridge_core::queue::{MemoryQueue, Queue};
/// use wp_bridge_core::routing::Routes;
/// use wp_bridge_core::signature::SecretSet;
///
/// let secret = "a-long-random-signing-secret";
/// let clock = SystemClock::shared();
/// let queue = Arc::new(MemoryQueue::new(clock.clone()));
/// let gateway = GatewayBuilder::new(SecretSet::new([secret]).unwrap())
///     .routes(Routes::all_to("log"))
///     .build(
///         Arc::new(MemoryIdempotencyStore::new(clock.clone())),
///         Arc::new(MemoryEventLog::new(clock.clone())),
///         queue.clone(),
///     );
///
/// let body = br#"{"event":"comment.created","event_id":"c-1","site":"https://blog.example",
///   "data":{"id":1,"post_id":2,"author":{"name":"Ada"},"content":"Hi","created_at":"2026-12-04T10:00:00Z"}}"#;
/// let now = clock.unix_seconds();
/// let request = Request::post("/webhooks/wp")
///     .header("content-type", "application/json")
///     .header("x-wp-timestamp", now.to_string())
///     .header("x-wp-signature", SecretSet::new([secret]).unwrap().sign(now, body))
///     .header("x-event-id", "c-1")
///     .body(Full::new(Bytes::from_static(body)))
///     .unwrap();
/// let response = gateway.oneshot(request).await.unwrap();
/// assert_eq!(response.status(), StatusCode::ACCEPTED);
/// assert_eq!(queue.depth().await.unwrap(), 1);
/// # }
/// # use wp_bridge_core::clock::Clock as _;
/// ```
#[derive(Debug)]
#[must_use]
pub struct GatewayBuilder {
    scheme: Scheme,
    tolerance: Duration,
    body_limit: usize,
    max_queue_depth: u64,
    overload_retry_after: Duration,
    claim_lease: Duration,
    in_progress_wait: Duration,
    limits: Limits,
    routes: Routes,
    clock: SharedClock,
    ip_allowlist: IpAllowlistLayer,
    depth_cache: Duration,
}

impl GatewayBuilder {
    /// A gateway verifying with `secrets`, all other settings at their defaults.
    pub fn new(secrets: SecretSet) -> Self {
        Self::with_scheme(Scheme::WordPress(SignatureVerifier::new(secrets)))
    }

    /// A gateway for Standard Webhooks senders (`webhook-id`,
    /// `webhook-timestamp`, `webhook-signature`), with `whsec_` secrets
    /// parsed by [`SecretSet::from_standard_webhooks`].
    pub fn standard_webhooks(secrets: SecretSet) -> Self {
        Self::with_scheme(Scheme::StandardWebhooks(StandardWebhooksVerifier::new(
            secrets,
        )))
    }

    /// A gateway verifying with `scheme`.
    pub fn with_scheme(scheme: Scheme) -> Self {
        Self {
            scheme,
            tolerance: DEFAULT_TOLERANCE,
            body_limit: DEFAULT_BODY_LIMIT,
            max_queue_depth: DEFAULT_MAX_QUEUE_DEPTH,
            overload_retry_after: Duration::from_secs(5),
            claim_lease: Duration::from_secs(30),
            in_progress_wait: Duration::from_secs(2),
            limits: Limits::default(),
            routes: Routes::new(),
            clock: SystemClock::shared(),
            ip_allowlist: IpAllowlistLayer::default(),
            depth_cache: Duration::ZERO,
        }
    }

    /// Timestamp window in each direction (default 300 s).
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Largest body in bytes (default 64 KiB).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Queue depth at which new events are refused with 503 (default 10 000).
    pub fn max_queue_depth(mut self, depth: u64) -> Self {
        self.max_queue_depth = depth;
        self
    }

    /// `Retry-After` sent when overloaded (default 5 s).
    pub fn overload_retry_after(mut self, after: Duration) -> Self {
        self.overload_retry_after = after;
        self
    }

    /// How long an unsettled dedupe claim blocks its id (default 30 s).
    pub fn claim_lease(mut self, lease: Duration) -> Self {
        self.claim_lease = lease;
        self
    }

    /// How long a concurrent duplicate waits for the first request before
    /// answering 429 `duplicate_in_progress` (default 2 s).
    pub fn in_progress_wait(mut self, wait: Duration) -> Self {
        self.in_progress_wait = wait;
        self
    }

    /// Event size limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Reuses a queue-depth read for backpressure for this long (default
    /// zero); see [`BackpressureLayer::depth_cache`].
    pub fn depth_cache(mut self, ttl: Duration) -> Self {
        self.depth_cache = ttl;
        self
    }

    /// Accepts requests only from these networks (default: from anyone).
    pub fn ip_allowlist(mut self, allowlist: IpAllowlistLayer) -> Self {
        self.ip_allowlist = allowlist;
        self
    }

    /// Which sinks each event type goes to.
    pub fn routes(mut self, routes: Routes) -> Self {
        self.routes = routes;
        self
    }

    /// The clock for timestamps and record times.
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Assembles the stack over the given backends.
    pub fn build(
        self,
        idempotency: Arc<dyn IdempotencyStore>,
        log: Arc<dyn EventLog>,
        queue: Arc<dyn Queue>,
    ) -> GatewayService {
        let ingest = IngestService::new(log, queue.clone(), self.routes, self.clock.clone());
        let dedupe = DedupeLayer::new(idempotency)
            .claim_lease(self.claim_lease)
            .in_progress_wait(self.in_progress_wait);
        let backpressure = BackpressureLayer::new(queue, self.max_queue_depth)
            .retry_after(self.overload_retry_after)
            .depth_cache(self.depth_cache);
        let validate = ValidateEventLayer::new().limits(self.limits);
        let verify = VerifySignatureLayer::with_scheme(self.scheme)
            .tolerance(self.tolerance)
            .body_limit(self.body_limit)
            .clock(self.clock);
        RecordMetricsLayer.layer(
            self.ip_allowlist
                .layer(verify.layer(validate.layer(backpressure.layer(dedupe.layer(ingest))))),
        )
    }

    /// Assembles the WooCommerce native-webhook stack over the given
    /// backends, for a builder made with the webhooks' secrets
    /// (`GatewayBuilder::new(woocommerce_secrets)`): the body is signed
    /// without a timestamp, and backpressure does not apply.
    pub fn build_woocommerce(
        self,
        idempotency: Arc<dyn IdempotencyStore>,
        log: Arc<dyn EventLog>,
        queue: Arc<dyn Queue>,
    ) -> WooCommerceGatewayService {
        let ingest = IngestService::new(log, queue, self.routes, self.clock.clone());
        let dedupe = DedupeLayer::new(idempotency)
            .claim_lease(self.claim_lease)
            .in_progress_wait(self.in_progress_wait);
        let validate = ValidateEventLayer::new().limits(self.limits);
        let secrets = match &self.scheme {
            Scheme::WordPress(verifier) => verifier.shared_secrets(),
            Scheme::StandardWebhooks(verifier) => verifier.shared_secrets(),
        };
        let source = WooCommerceLayer::shared(secrets)
            .body_limit(self.body_limit)
            .clock(self.clock);
        RecordMetricsLayer.layer(
            self.ip_allowlist
                .layer(source.layer(validate.layer(dedupe.layer(ingest)))),
        )
    }
}
