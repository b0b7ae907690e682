//! Answers a repeated event id without touching the event log: 200 with the
//! original receipt, or 429 `duplicate_in_progress` while a concurrent
//! request for the same id is still being ingested.
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
/// `Retry-After` for a concurrent duplicate.
const IN_PROGRESS_RETRY_AFTER: Duration = Duration::from_secs(1);
/// `Retry-After` when the store is unreachable.
const UNAVAILABLE_RETRY_AFTER: Duration = Duration::from_secs(5);

/// Applies [`Dedupe`].
#[derive(Debug, Clone)]
pub struct DedupeLayer {
    store: Arc<dyn IdempotencyStore>,
    lease: Duration,
}

impl DedupeLayer {
    /// Dedupes through `store`.
    pub fn new(store: Arc<dyn IdempotencyStore>) -> Self {
        Self {
            store,
            lease: DEFAULT_CLAIM_LEASE,
        }
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
        let DedupeLayer { store, lease } = self.config.clone();
        ResponseFuture::new(async move {
            let id = request.body().event.event_id.clone();
            match store.claim(&id, lease).await {
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
