//! Refuses new work while the queue is over its bound, so that a slow sink
//! makes senders wait (503 + `Retry-After`) instead of filling memory or
//! Redis. Nothing is stored for a refused request.
//!
//! When the depth cannot be read (Redis is down) the request goes through:
//! the event log is the durable record and the reconciler enqueues the event
//! once the queue is back, so refusing would only turn a queue outage into
//! lost WordPress requests.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use std::{convert::Infallible, sync::Arc, time::Duration};
//! use http::{Request, StatusCode};
//! use tower::{service_fn, Layer, ServiceExt};
//! use wp_bridge_core::clock::SystemClock;
//! use wp_bridge_core::event::{CorrelationId, EventId, Job};
//! use wp_bridge_core::layer::BackpressureLayer;
//! use wp_bridge_core::queue::{MemoryQueue, Queue};
//! use wp_bridge_core::response::{json_response, GatewayResponse};
//!
//! let queue = Arc::new(MemoryQueue::new(SystemClock::shared()));
//! let svc = BackpressureLayer::new(queue.clone(), 1).layer(service_fn(|_: Request<()>| async {
//!     Ok::<GatewayResponse, Infallible>(json_response(StatusCode::ACCEPTED, "ok"))
//! }));
//! assert_eq!(svc.clone().oneshot(Request::new(())).await.unwrap().status(), StatusCode::ACCEPTED);
//!
//! let job = Job { event_id: EventId::new("e").unwrap(), correlation_id: CorrelationId::generate(), sinks: vec![] };
//! queue.enqueue(&job, Duration::ZERO).await.unwrap();
//! let refused = svc.oneshot(Request::new(())).await.unwrap();
//! assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
//! assert_eq!(refused.headers()["retry-after"], "5");
//! # }
//! ```

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Request;
use tower_layer::Layer;
use tower_service::Service;

use super::{take_ready, ResponseFuture};
use crate::queue::Queue;
use crate::rejection::{ErrorCode, Rejection};
use crate::response::GatewayResponse;

/// Default `Retry-After` for an overloaded gateway.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// Applies [`Backpressure`].
#[derive(Debug, Clone)]
pub struct BackpressureLayer {
    queue: Arc<dyn Queue>,
    max_depth: u64,
    retry_after: Duration,
    depth_cache: Duration,
    cached: Arc<std::sync::Mutex<Option<(tokio::time::Instant, u64)>>>,
}

impl BackpressureLayer {
    /// Refuses requests while `queue` holds `max_depth` or more unsettled jobs.
    pub fn new(queue: Arc<dyn Queue>, max_depth: u64) -> Self {
        Self {
            queue,
            max_depth,
            retry_after: DEFAULT_RETRY_AFTER,
            depth_cache: Duration::ZERO,
            cached: Arc::default(),
        }
    }

    /// Reuses a depth read for this long (default zero: every request asks
    /// the queue). A bound that is a few milliseconds stale is still a bound,
    /// and on Redis it saves a round trip per request.
    #[must_use]
    pub fn depth_cache(mut self, ttl: Duration) -> Self {
        self.depth_cache = ttl;
        self
    }

    async fn depth(&self) -> Result<u64, crate::error::StoreError> {
        let now = tokio::time::Instant::now();
        if !self.depth_cache.is_zero() {
            let cached = *self.cached.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((at, depth)) = cached {
                if now.duration_since(at) < self.depth_cache {
                    return Ok(depth);
                }
            }
        }
        let depth = self.queue.depth().await?;
        *self.cached.lock().unwrap_or_else(|e| e.into_inner()) = Some((now, depth));
        Ok(depth)
    }

    /// The `Retry-After` sent with a refusal (default 5 s).
    #[must_use]
    pub fn retry_after(mut self, after: Duration) -> Self {
        self.retry_after = after;
        self
    }
}

impl<S> Layer<S> for BackpressureLayer {
    type Service = Backpressure<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Backpressure {
            inner,
            config: self.clone(),
        }
    }
}

/// The backpressure service. See [`BackpressureLayer`].
#[derive(Debug, Clone)]
pub struct Backpressure<S> {
    inner: S,
    config: BackpressureLayer,
}

impl<S, B> Service<Request<B>> for Backpressure<S>
where
    S: Service<Request<B>, Response = GatewayResponse> + Clone + Send + 'static,
    S::Future: Send,
    B: Send + 'static,
{
    type Response = GatewayResponse;
    type Error = S::Error;
    type Future = ResponseFuture<S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let mut inner = take_ready(&mut self.inner);
        let config = self.config.clone();
        ResponseFuture::new(async move {
            match config.depth().await {
                Ok(depth) if depth < config.max_depth => inner.call(request).await,
                Ok(depth) => {
                    tracing::warn!(
                        depth,
                        bound = config.max_depth,
                        "queue over its bound, shedding load"
                    );
                    Ok(Rejection::new(
                        ErrorCode::Overloaded,
                        "the gateway is over its queue bound; retry after the given delay",
                    )
                    .retry_after(config.retry_after)
                    .into_response())
                }
                Err(err) => {
                    tracing::warn!(error = %err, "queue depth unavailable; accepting into the event log");
                    inner.call(request).await
                }
            }
        })
    }
}
