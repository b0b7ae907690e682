//! The gateway's tower middleware, outermost first:
//!
//! ```text
//! RecordMetricsLayer     counts accepted / duplicate / rejected{reason}, times each answer
//! IpAllowlistLayer       403 ip_not_allowed, before the body is touched
//! VerifySignatureLayer   415, 413, 400 missing/invalid headers, 401; reads the body (bounded)
//! ValidateEventLayer     400 invalid_json / event_id_mismatch / invalid_event, 422
//! BackpressureLayer      503 overloaded + Retry-After when the queue is over its bound
//! DedupeLayer            200 duplicate, 429 duplicate_in_progress
//! IngestService          records, enqueues, 202
//! ```
//!
//! The request body type changes on the way in (`B` → [`VerifiedBody`] →
//! [`ValidatedEvent`]), so the compiler refuses a stack that dedupes or
//! ingests anything that was not verified and validated first.
//!
//! Each rejection answers directly with a JSON body and leaves its
//! [`Rejection`](crate::rejection::Rejection) in the response extensions.

pub mod backpressure;
pub mod dedupe;
pub mod ip_allowlist;
pub mod record_metrics;
pub mod validate_event;
pub mod verify_signature;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::response::GatewayResponse;

pub use backpressure::BackpressureLayer;
pub use dedupe::DedupeLayer;
pub use ip_allowlist::IpAllowlistLayer;
pub use record_metrics::RecordMetricsLayer;
pub use validate_event::{ValidateEventLayer, ValidatedEvent};
pub use verify_signature::{VerifiedBody, VerifySignatureLayer};

/// The future every gateway middleware returns.
///
/// Boxed: each middleware awaits a body or a store, and naming those futures
/// would tie the public types to every backend's internals.
pub struct ResponseFuture<E> {
    inner: Pin<Box<dyn Future<Output = Result<GatewayResponse, E>> + Send>>,
}

impl<E> ResponseFuture<E> {
    pub(crate) fn new(
        fut: impl Future<Output = Result<GatewayResponse, E>> + Send + 'static,
    ) -> Self {
        Self {
            inner: Box::pin(fut),
        }
    }
}

impl<E> Future for ResponseFuture<E> {
    type Output = Result<GatewayResponse, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl<E> std::fmt::Debug for ResponseFuture<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

/// Swaps a ready service out of `slot`, leaving a clone behind (the usual
/// tower idiom: the clone may not be ready, the original was polled ready).
pub(crate) fn take_ready<S: Clone>(slot: &mut S) -> S {
    let clone = slot.clone();
    std::mem::replace(slot, clone)
}
