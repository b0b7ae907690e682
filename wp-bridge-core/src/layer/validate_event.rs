//! Parses the verified body against the event schema and checks that the
//! unsigned `X-Event-Id` header names the same event as the signed body.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use std::convert::Infallible;
//! use bytes::Bytes;
//! use http::{Request, StatusCode};
//! use tower::{service_fn, Layer, ServiceExt};
//! use wp_bridge_core::layer::{ValidateEventLayer, ValidatedEvent, VerifiedBody};
//! use wp_bridge_core::response::{json_response, GatewayResponse};
//! use wp_bridge_core::signature::Verified;
//!
//! let svc = ValidateEventLayer::new().layer(service_fn(|req: Request<ValidatedEvent>| async move {
//!     Ok::<GatewayResponse, Infallible>(json_response(StatusCode::ACCEPTED, req.body().event.event_id.as_str()))
//! }));
//! let body = br#"{"event":"comment.created","event_id":"c-1","site":"https://blog.example",
//!   "data":{"id":1,"post_id":2,"author":{"name":"Ada"},"content":"Hi","created_at":"2026-12-04T10:00:00Z"}}"#;
//! let verified = Verified { key_index: 0, timestamp: 0, skew_secs: 0 };
//! let request = |id: &'static str| Request::post("/").body(VerifiedBody {
//!     raw: Bytes::from_static(body), verified,
//!     sender_event_id: Bytes::from_static(id.as_bytes()), id_signed: false,
//! }).unwrap();
//!
//! assert_eq!(svc.clone().oneshot(request("c-1")).await.unwrap().status(), StatusCode::ACCEPTED);
//! // The header is not signed; it must agree with the signed body.
//! assert_eq!(svc.oneshot(request("c-2")).await.unwrap().status(), StatusCode::BAD_REQUEST);
//! # }
//! ```

use std::task::{Context, Poll};

use bytes::Bytes;
use http::Request;
use tower_layer::Layer;
use tower_service::Service;

use super::{take_ready, ResponseFuture, VerifiedBody};
use crate::event::{parse_envelope, Event, Limits};
use crate::rejection::{ErrorCode, Rejection};
use crate::response::GatewayResponse;
use crate::signature::Verified;

/// A verified and validated event, handed to the next layer.
#[derive(Debug, Clone)]
pub struct ValidatedEvent {
    /// The typed event.
    pub event: Event,
    /// The body exactly as signed.
    pub raw: Bytes,
    /// How the signature was verified.
    pub verified: Verified,
}

/// Applies [`ValidateEvent`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ValidateEventLayer {
    limits: Limits,
}

impl ValidateEventLayer {
    /// Validates with the default [`Limits`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Validates with other size limits.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
}

impl<S> Layer<S> for ValidateEventLayer {
    type Service = ValidateEvent<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ValidateEvent {
            inner,
            limits: self.limits,
        }
    }
}

/// The validating service. See [`ValidateEventLayer`].
#[derive(Debug, Clone)]
pub struct ValidateEvent<S> {
    inner: S,
    limits: Limits,
}

impl<S> Service<Request<VerifiedBody>> for ValidateEvent<S>
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

    fn call(&mut self, request: Request<VerifiedBody>) -> Self::Future {
        let (parts, body) = request.into_parts();
        match validate(&body, self.limits) {
            Ok(event) => {
                let mut inner = take_ready(&mut self.inner);
                let body = ValidatedEvent {
                    event,
                    raw: body.raw,
                    verified: body.verified,
                };
                ResponseFuture::new(
                    async move { inner.call(Request::from_parts(parts, body)).await },
                )
            }
            Err(rejection) => {
                let response = rejection.into_response();
                ResponseFuture::new(async move { Ok(response) })
            }
        }
    }
}

fn validate(body: &VerifiedBody, limits: Limits) -> Result<Event, Rejection> {
    let mut envelope = parse_envelope(&body.raw, limits)?;
    let header_id = body.sender_event_id.as_ref();
    if body.id_signed {
        // The id is signed (Standard Webhooks): a body may leave `event_id`
        // out and use the spec's `type` for the event type.
        envelope.fill_signed_defaults(header_id);
    }
    if let Some(body_id) = envelope.event_id() {
        if body_id.as_bytes() != header_id {
            return Err(Rejection::new(
                ErrorCode::EventIdMismatch,
                "X-Event-Id must equal the signed body's event_id",
            ));
        }
    }
    envelope.into_event()
}
