//! Counts every answer of the gateway — accepted, duplicate, rejected by
//! reason — and times it. The outermost layer, so it sees the rejections of
//! every other layer through the [`Rejection`] they leave in the response.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use std::convert::Infallible;
//! use http::{Request, StatusCode};
//! use tower::{service_fn, Layer, ServiceExt};
//! use wp_bridge_core::layer::RecordMetricsLayer;
//! use wp_bridge_core::response::{json_response, GatewayResponse};
//!
//! let svc = RecordMetricsLayer.layer(service_fn(|_: Request<()>| async {
//!     Ok::<GatewayResponse, Infallible>(json_response(StatusCode::ACCEPTED, "ok"))
//! }));
//! assert_eq!(svc.oneshot(Request::new(())).await.unwrap().status(), StatusCode::ACCEPTED);
//! # }
//! ```

use std::task::{Context, Poll};
use std::time::Instant;

use http::{Request, StatusCode};
use tower_layer::Layer;
use tower_service::Service;

use super::{take_ready, ResponseFuture};
use crate::metrics as names;
use crate::rejection::Rejection;
use crate::response::GatewayResponse;

/// Applies [`RecordMetrics`].
#[derive(Debug, Clone, Copy, Default)]
pub struct RecordMetricsLayer;

impl<S> Layer<S> for RecordMetricsLayer {
    type Service = RecordMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RecordMetrics { inner }
    }
}

/// The metrics-recording service. See [`RecordMetricsLayer`].
#[derive(Debug, Clone)]
pub struct RecordMetrics<S> {
    inner: S,
}

impl<S, B> Service<Request<B>> for RecordMetrics<S>
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
        ResponseFuture::new(async move {
            let started = Instant::now();
            let response = inner.call(request).await?;
            metrics::histogram!(names::INGEST_SECONDS).record(started.elapsed().as_secs_f64());
            if let Some(rejection) = response.extensions().get::<Rejection>() {
                metrics::counter!(names::REJECTED, "reason" => rejection.code().as_str())
                    .increment(1);
            } else if response.status() == StatusCode::ACCEPTED {
                metrics::counter!(names::ACCEPTED).increment(1);
            } else if response.status() == StatusCode::OK {
                metrics::counter!(names::DUPLICATE).increment(1);
            }
            Ok(response)
        })
    }
}
