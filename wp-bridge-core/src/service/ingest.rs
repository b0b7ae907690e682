use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Request;
use tower_service::Service;
use tracing::Instrument;

use crate::clock::SharedClock;
use crate::event::{CorrelationId, Job};
use crate::event_log::{EventLog, NewEvent, RecordOutcome};
use crate::layer::{ResponseFuture, ValidatedEvent};
use crate::queue::Queue;
use crate::rejection::{ErrorCode, Rejection};
use crate::response::GatewayResponse;
use crate::routing::Routes;

/// Put in a response when recording the event already completed its
/// idempotency claim, so the dedupe layer need not.
#[derive(Debug, Clone, Copy)]
pub struct ClaimSettled;

/// `Retry-After` when the event log cannot record.
const UNAVAILABLE_RETRY_AFTER: Duration = Duration::from_secs(5);

/// Records a validated event, enqueues its delivery job and answers 202.
///
/// The event is in the event log before anything is enqueued, so a job never
/// names an event the workers cannot load. If enqueueing fails after the
/// record, the answer is still 202: the event is recorded with pending
/// deliveries, which is what a reconciler re-enqueues from (with a durable
/// event log; the in-memory one has nothing to recover from).
#[derive(Debug, Clone)]
pub struct IngestService {
    log: Arc<dyn EventLog>,
    queue: Arc<dyn Queue>,
    routes: Arc<Routes>,
    clock: SharedClock,
}

impl IngestService {
    /// Ingests into `log` and `queue`, routing with `routes`.
    pub fn new(
        log: Arc<dyn EventLog>,
        queue: Arc<dyn Queue>,
        routes: Routes,
        clock: SharedClock,
    ) -> Self {
        Self {
            log,
            queue,
            routes: Arc::new(routes),
            clock,
        }
    }
}

impl Service<Request<ValidatedEvent>> for IngestService {
    type Response = GatewayResponse;
    type Error = Infallible;
    type Future = ResponseFuture<Infallible>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<ValidatedEvent>) -> Self::Future {
        let this = self.clone();
        let (parts, body) = request.into_parts();
        let correlation_id = parts
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| CorrelationId::new(v).ok())
            .unwrap_or_else(CorrelationId::generate);
        let traceparent = parts
            .headers
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .and_then(crate::event::parse_traceparent);
        let event_type = body.event.event_type();
        let span = tracing::info_span!(
            "ingest",
            event_id = %body.event.event_id,
            correlation_id = %correlation_id,
            event_type = %event_type,
            key_index = body.verified.key_index,
            skew_secs = body.verified.skew_secs,
        );
        ResponseFuture::new(
            async move {
                let sinks = this.routes.sinks_for(event_type).to_vec();
                let new = NewEvent {
                    event: body.event,
                    raw: body.raw,
                    correlation_id,
                    received_at: this.clock.now(),
                    sinks,
                    traceparent,
                };
                let receipt = new.receipt();
                let job = Job {
                    event_id: receipt.event_id.clone(),
                    correlation_id: receipt.correlation_id.clone(),
                    sinks: new.sinks.clone(),
                };
                match this.log.record(new).await {
                    Ok(RecordOutcome::Recorded) => {}
                    Ok(RecordOutcome::Duplicate(original)) => {
                        tracing::info!("duplicate event answered from the event log");
                        let mut response = original.duplicate_response();
                        response.extensions_mut().insert(original);
                        return Ok(response);
                    }
                    Err(err) => {
                        tracing::error!(error = %err, "event log unavailable, event refused");
                        return Ok(Rejection::new(
                            ErrorCode::StorageUnavailable,
                            "the event could not be recorded; nothing was stored, retry later",
                        )
                        .retry_after(UNAVAILABLE_RETRY_AFTER)
                        .into_response());
                    }
                }
                if !job.sinks.is_empty() {
                    if let Err(err) = this.queue.enqueue(&job, Duration::ZERO).await {
                        tracing::error!(error = %err, "event recorded but not enqueued; left pending for recovery");
                    }
                }
                tracing::info!(sinks = job.sinks.len(), "event accepted");
                let mut response = receipt.accepted_response();
                response.extensions_mut().insert(receipt);
                if this.log.completes_claims() {
                    response.extensions_mut().insert(ClaimSettled);
                }
                Ok(response)
            }
            .instrument(span),
        )
    }
}
