//! Answers a repeated event id without touching the event log: 200 with the
//! original receipt.
//!
//! A request whose id is being ingested by a concurrent request waits (up to
//! [`DedupeLayer::in_progress_wait`], 2 s by default) for that request to
//! finish, then answers 200 duplicate — or ingests the event itself if the
//! other request failed and released its claim. Only when the other request
//! is still running after the wait is the answer 429 `duplicate_in_progress`
//! with `Retry-After: 1`.
//!
//! The claim is completed when the inner service answers 2xx with a
//! [`Receipt`] in its extensions, and released on any other answer, so a
//! refused request can be retried with the same id.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Request;
use tower_layer::Layer;
use tower_service::Service;

use super::{take_ready, ResponseFuture, ValidatedEvent};
use crate::idempotency::{Claim, IdempotencyStore};
use crate::rejection::{ErrorCode, Rejection};
use crate::response::{GatewayResponse, Receipt};

/// How long a claim holds when the gateway dies before settling it.
const DEFAULT_CLAIM_LEASE: Duration = Duration::from_secs(30);
/// `Retry-After` for a concurrent duplicate still unresolved after the wait.
const IN_PROGRESS_RETRY_AFTER: Duration = Duration::from_secs(1);
/// How long a concurrent duplicate waits for the first request by default.
const DEFAULT_IN_PROGRESS_WAIT: Duration = Duration::from_secs(2);
/// First and longest pause between two looks at an in-progress claim.
const FIRST_POLL: Duration = Duration::from_millis(5);
const MAX_POLL: Duration = Duration::from_millis(100);
/// `Retry-After` when the store is unreachable.
const UNAVAILABLE_RETRY_AFTER: Duration = Duration::from_secs(5);

/// Applies [`Dedupe`].
#[derive(Debug, Clone)]
pub struct DedupeLayer {
    store: Arc<dyn IdempotencyStore>,
    lease: Duration,
    in_progress_wait: Duration,
}

impl DedupeLayer {
    /// Dedupes through `store`.
    pub fn new(store: Arc<dyn IdempotencyStore>) -> Self {
        Self {
            store,
            lease: DEFAULT_CLAIM_LEASE,
            in_progress_wait: DEFAULT_IN_PROGRESS_WAIT,
        }
    }

    /// How long a request waits for a concurrent request with the same id
    /// before answering 429 (default 2 s; zero answers 429 at once).
    #[must_use]
    pub fn in_progress_wait(mut self, wait: Duration) -> Self {
        self.in_progress_wait = wait;
        self
    }

    /// How long an unsettled claim blocks the id (default 30 s).
    #[must_use]
    pub fn claim_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }
}

impl<S> Layer<S> for DedupeLayer {
    type Service = Dedupe<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Dedupe {
            inner,
            config: self.clone(),
        }
    }
}

/// The deduplicating service. See [`DedupeLayer`].
#[derive(Debug, Clone)]
pub struct Dedupe<S> {
    inner: S,
    config: DedupeLayer,
}

impl<S> Service<Request<ValidatedEvent>> for Dedupe<S>
where
    S: Service<Request<ValidatedEvent>, Response = GatewayResponse> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = GatewayResponse;
    type Error = S::Error;
    type Future = ResponseFuture<S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ValidatedEvent>) -> Self::Future {
        let mut inner = take_ready(&mut self.inner);
        let DedupeLayer {
            store,
            lease,
            in_progress_wait,
        } = self.config.clone();
        ResponseFuture::new(async move {
            let id = request.body().event.event_id.clone();
            match claim_waiting(store.as_ref(), &id, lease, in_progress_wait).await {
                Ok(Claim::Won) => {}
                Ok(Claim::Completed(receipt)) => {
                    tracing::info!(event_id = %id, correlation_id = %receipt.correlation_id, "duplicate event answered from the idempotency store");
                    return Ok(receipt.duplicate_response());
                }
                Ok(Claim::InProgress) => {
                    return Ok(Rejection::new(
                        ErrorCode::DuplicateInProgress,
                        "this event id is being ingested by another request; retry shortly",
                    )
                    .retry_after(IN_PROGRESS_RETRY_AFTER)
                    .into_response());
                }
                Err(err) => {
                    tracing::error!(event_id = %id, error = %err, "idempotency store unavailable");
                    return Ok(Rejection::new(
                        ErrorCode::StorageUnavailable,
                        "the idempotency store is unavailable; retry later",
                    )
                    .retry_after(UNAVAILABLE_RETRY_AFTER)
                    .into_response());
                }
            }
            let response = inner.call(request).await?;
            if response
                .extensions()
                .get::<crate::service::ClaimSettled>()
                .is_some()
            {
                return Ok(response);
            }
            let settled = match response.extensions().get::<Receipt>() {
                Some(receipt) if response.status().is_success() => {
                    store.complete(&id, receipt).await
                }
                _ => store.release(&id).await,
            };
            if let Err(err) = settled {
                // The event log still refuses a second record of this id, and
                // the claim expires by itself; the answer stands.
                tracing::warn!(event_id = %id, error = %err, "could not settle the idempotency claim");
            }
            Ok(response)
        })
    }
}

/// Claims `id`, and while another request holds it, looks again with growing
/// pauses until it is settled or `wait` has passed.
async fn claim_waiting(
    store: &dyn IdempotencyStore,
    id: &crate::event::EventId,
    lease: Duration,
    wait: Duration,
) -> Result<Claim, crate::error::StoreError> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut pause = FIRST_POLL;
    loop {
        let claim = store.claim(id, lease).await?;
        let now = tokio::time::Instant::now();
        if claim != Claim::InProgress || now >= deadline {
            return Ok(claim);
        }
        tokio::time::sleep(pause.min(deadline - now)).await;
        pause = (pause * 2).min(MAX_POLL);
    }
}
