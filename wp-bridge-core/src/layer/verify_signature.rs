//! Authenticates the request: content type, size, the three signing headers,
//! the timestamp window and the HMAC over the raw body.
//!
//! Everything that can be judged from the headers is judged before a byte of
//! the body is read; the body is then read up to the limit and no further.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use std::convert::Infallible;
//! use bytes::Bytes;
//! use http::{Request, StatusCode};
//! use http_body_util::Full;
//! use tower::{service_fn, Layer, ServiceExt};
//! use wp_bridge_core::layer::{VerifiedBody, VerifySignatureLayer};
//! use wp_bridge_core::response::{json_response, GatewayResponse};
//! use wp_bridge_core::signature::SecretSet;
//!
//! let inner = service_fn(|req: Request<VerifiedBody>| async move {
//!     assert_eq!(req.body().verified.key_index, 0);
//!     Ok::<GatewayResponse, Infallible>(json_response(StatusCode::ACCEPTED, "ok"))
//! });
//! let secret = "a-long-random-signing-secret";
//! let svc = VerifySignatureLayer::new(SecretSet::new([secret]).unwrap()).layer(inner);
//!
//! let body = br#"{"event":"comment.created"}"#;
//! let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
//! let signature = SecretSet::new([secret]).unwrap().sign(now, body);
//! let request = Request::post("/webhooks/wp")
//!     .header("content-type", "application/json")
//!     .header("x-wp-timestamp", now.to_string())
//!     .header("x-wp-signature", signature)
//!     .header("x-event-id", "evt-1")
//!     .body(Full::new(Bytes::from_static(body)))
//!     .unwrap();
//! let response = svc.clone().oneshot(request).await.unwrap();
//! assert_eq!(response.status(), StatusCode::ACCEPTED);
//!
//! let forged = Request::post("/webhooks/wp")
//!     .header("content-type", "application/json")
//!     .header("x-wp-timestamp", now.to_string())
//!     .header("x-wp-signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
//!     .header("x-event-id", "evt-1")
//!     .body(Full::new(Bytes::from_static(body)))
//!     .unwrap();
//! assert_eq!(svc.oneshot(forged).await.unwrap().status(), StatusCode::UNAUTHORIZED);
//! # }
//! ```

use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{header, HeaderMap, Request};
use http_body::Body;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tower_layer::Layer;
use tower_service::Service;

use super::{take_ready, ResponseFuture};
use crate::clock::{SharedClock, SystemClock};
use crate::rejection::{ErrorCode, Rejection};
use crate::response::GatewayResponse;
use crate::signature::{
    SecretSet, SignatureVerifier, StandardWebhooksVerifier, Verified, VerifyError, EVENT_ID_HEADER,
    WEBHOOK_ID_HEADER,
};

/// Default body limit: 64 KiB.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// The verified raw body, handed to the next layer.
#[derive(Debug, Clone)]
pub struct VerifiedBody {
    /// The body exactly as signed.
    pub raw: Bytes,
    /// Which secret matched, the sender's timestamp and clock skew.
    pub verified: Verified,
    /// The event id the sender put in its header (`X-Event-Id`,
    /// `webhook-id`), which the body's `event_id` must equal.
    pub sender_event_id: Bytes,
    /// Whether that id is covered by the signature (Standard Webhooks), so
    /// a body without `event_id` may take it.
    pub id_signed: bool,
}

/// The signing schemes a gateway can accept, one per route.
#[derive(Debug, Clone)]
pub enum Scheme {
    /// `X-WP-Signature` over `timestamp.body` (the WordPress plugin).
    WordPress(SignatureVerifier),
    /// Standard Webhooks: `webhook-signature` over `id.timestamp.body`.
    StandardWebhooks(StandardWebhooksVerifier),
}

impl Scheme {
    fn check_headers(
        &self,
        headers: &HeaderMap,
        now: std::time::SystemTime,
    ) -> Result<(), VerifyError> {
        match self {
            Scheme::WordPress(v) => v.check_headers(headers, now).map(drop),
            Scheme::StandardWebhooks(v) => v.check_headers(headers, now),
        }
    }

    fn verify(
        &self,
        headers: &HeaderMap,
        raw: &[u8],
        now: std::time::SystemTime,
    ) -> Result<Verified, VerifyError> {
        match self {
            Scheme::WordPress(v) => v.verify(headers, raw, now),
            Scheme::StandardWebhooks(v) => v.verify(headers, raw, now),
        }
    }

    fn id_header(&self) -> &'static str {
        match self {
            Scheme::WordPress(_) => EVENT_ID_HEADER,
            Scheme::StandardWebhooks(_) => WEBHOOK_ID_HEADER,
        }
    }

    fn with_tolerance(self, tolerance: Duration) -> Self {
        match self {
            Scheme::WordPress(v) => Scheme::WordPress(v.tolerance(tolerance)),
            Scheme::StandardWebhooks(v) => Scheme::StandardWebhooks(v.tolerance(tolerance)),
        }
    }
}

/// Applies [`VerifySignature`]. Build once; cloning shares the secrets.
#[derive(Debug, Clone)]
pub struct VerifySignatureLayer {
    scheme: Scheme,
    clock: SharedClock,
    body_limit: usize,
}

impl VerifySignatureLayer {
    /// Verifies against `secrets` with a 300 s window and a 64 KiB body limit.
    pub fn new(secrets: SecretSet) -> Self {
        Self::with_scheme(Scheme::WordPress(SignatureVerifier::new(secrets)))
    }

    /// Verifies with `scheme` (e.g. Standard Webhooks).
    pub fn with_scheme(scheme: Scheme) -> Self {
        Self {
            scheme,
            clock: SystemClock::shared(),
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }

    /// The accepted distance between the sender's timestamp and now.
    #[must_use]
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.scheme = self.scheme.with_tolerance(tolerance);
        self
    }

    /// Largest body accepted, in bytes.
    #[must_use]
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// The clock that "now" is read from.
    #[must_use]
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }
}

impl<S> Layer<S> for VerifySignatureLayer {
    type Service = VerifySignature<S>;

    fn layer(&self, inner: S) -> Self::Service {
        VerifySignature {
            inner,
            config: self.clone(),
        }
    }
}

/// The signature-verifying service. See [`VerifySignatureLayer`].
#[derive(Debug, Clone)]
pub struct VerifySignature<S> {
    inner: S,
    config: VerifySignatureLayer,
}

impl<S, B> Service<Request<B>> for VerifySignature<S>
where
    S: Service<Request<VerifiedBody>, Response = GatewayResponse> + Clone + Send + 'static,
    S::Future: Send,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
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
            let (parts, body) = request.into_parts();
            if let Err(rejection) = check_before_body(&config, &parts.headers) {
                return Ok(rejection.into_response());
            }
            let raw = match read_body(body, config.body_limit).await {
                Ok(raw) => raw,
                Err(rejection) => return Ok(rejection.into_response()),
            };
            let verified = match config
                .scheme
                .verify(&parts.headers, &raw, config.clock.now())
            {
                Ok(verified) => verified,
                Err(err) => return Ok(Rejection::from(err).into_response()),
            };
            // Which secret matched tells when a rotation is done; skew tells
            // whether senders' clocks drift toward the window's edge.
            metrics::counter!(crate::metrics::VERIFIED, "key_index" => verified.key_index.to_string())
                .increment(1);
            metrics::histogram!(crate::metrics::CLOCK_SKEW_SECONDS)
                .record(verified.skew_secs as f64);
            let sender_event_id = parts
                .headers
                .get(config.scheme.id_header())
                .map(|v| Bytes::copy_from_slice(v.as_bytes()))
                .unwrap_or_default();
            let id_signed = matches!(config.scheme, Scheme::StandardWebhooks(_));
            let request = Request::from_parts(
                parts,
                VerifiedBody {
                    raw,
                    verified,
                    sender_event_id,
                    id_signed,
                },
            );
            inner.call(request).await
        })
    }
}

fn check_before_body(config: &VerifySignatureLayer, headers: &HeaderMap) -> Result<(), Rejection> {
    if !is_json(headers) {
        return Err(Rejection::new(
            ErrorCode::UnsupportedMediaType,
            "send the event with Content-Type: application/json",
        ));
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > config.body_limit as u64) {
        return Err(too_large(config.body_limit));
    }
    config
        .scheme
        .check_headers(headers, config.clock.now())
        .map_err(Rejection::from)
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return false;
    };
    let essence = value.as_bytes().split(|b| *b == b';').next().unwrap_or(b"");
    let essence = essence.trim_ascii();
    let lower = essence.to_ascii_lowercase();
    lower == b"application/json" || (lower.ends_with(b"+json") && lower.contains(&b'/'))
}

fn too_large(limit: usize) -> Rejection {
    Rejection::new(
        ErrorCode::PayloadTooLarge,
        format!("body is larger than the {limit}-byte limit"),
    )
}

pub(crate) async fn read_body<B>(body: B, limit: usize) -> Result<Bytes, Rejection>
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.downcast_ref::<LengthLimitError>().is_some() => Err(too_large(limit)),
        Err(_) => Err(Rejection::new(
            ErrorCode::IncompleteBody,
            "the request body could not be read to its end",
        )),
    }
}
