//! WooCommerce's native webhooks as a source: `X-WC-Webhook-Signature` =
//! base64(HMAC-SHA256(secret, raw body)), no timestamp; the unsigned ping
//! (`webhook_id=N`) answered with exactly 200; `order.created` payloads
//! mapped to the `order.created` event; other topics acknowledged and
//! ignored.
//!
//! The dedupe key is built from (`X-WC-Webhook-ID`, topic, SHA-256 of the
//! body), because WooCommerce's delivery id changes on every attempt.
//!
//! WooCommerce never retries a delivery and disables a webhook after a run
//! of non-2xx answers, so this source is never shed for load: the event goes
//! to the durable event log even when the queue is over its bound (see
//! docs/security.md).

use std::sync::Arc;
use std::task::{Context, Poll};

use base64::Engine as _;
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body::Body;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tower_layer::Layer;
use tower_service::Service;

use crate::clock::{SharedClock, SystemClock};
use crate::layer::verify_signature::{read_body, VerifiedBody, DEFAULT_BODY_LIMIT};
use crate::layer::{take_ready, ResponseFuture};
use crate::rejection::{ErrorCode, Rejection};
use crate::response::{json_response, GatewayResponse};
use crate::signature::{SecretSet, Verified, VerifyError};

/// `X-WC-Webhook-Signature`.
pub const SIGNATURE_HEADER: &str = "x-wc-webhook-signature";
/// `X-WC-Webhook-ID`: the configured webhook's id.
pub const WEBHOOK_ID_HEADER: &str = "x-wc-webhook-id";
/// `X-WC-Webhook-Topic`, e.g. `order.created`.
pub const TOPIC_HEADER: &str = "x-wc-webhook-topic";
/// `X-WC-Webhook-Source`: the shop's home URL.
pub const SOURCE_HEADER: &str = "x-wc-webhook-source";

/// Applies [`WooCommerce`].
#[derive(Debug, Clone)]
pub struct WooCommerceLayer {
    secrets: Arc<SecretSet>,
    body_limit: usize,
    clock: SharedClock,
}

impl WooCommerceLayer {
    /// Verifies with the webhooks' secrets (the first is the current one;
    /// all verify).
    pub fn new(secrets: SecretSet) -> Self {
        Self::shared(Arc::new(secrets))
    }

    /// Like [`WooCommerceLayer::new`], with secrets already shared.
    pub fn shared(secrets: Arc<SecretSet>) -> Self {
        Self {
            secrets,
            body_limit: DEFAULT_BODY_LIMIT,
            clock: SystemClock::shared(),
        }
    }

    /// Largest body in bytes (default 64 KiB).
    #[must_use]
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// The clock the verification time is read from.
    #[must_use]
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }
}

impl<S> Layer<S> for WooCommerceLayer {
    type Service = WooCommerce<S>;

    fn layer(&self, inner: S) -> Self::Service {
        WooCommerce {
            inner,
            config: self.clone(),
        }
    }
}

/// The WooCommerce translating service. See [`WooCommerceLayer`].
#[derive(Debug, Clone)]
pub struct WooCommerce<S> {
    inner: S,
    config: WooCommerceLayer,
}

fn header<'h>(headers: &'h http::HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// Maps a WooCommerce REST order to the `order.created` event's envelope.
pub fn map_order(order: &Value, event_id: &str, site: &str) -> Value {
    let text = |v: &Value| match v {
        Value::String(s) => Value::from(s.as_str()),
        Value::Number(n) => Value::from(n.to_string()),
        _ => Value::Null,
    };
    let billing = &order["billing"];
    let created = order["date_created_gmt"].as_str().map(|t| {
        if t.ends_with('Z') || t.contains('+') {
            t.to_owned()
        } else {
            format!("{t}Z")
        }
    });
    json!({
        "event": "order.created",
        "event_id": event_id,
        "site": site,
        "data": {
            "id": order["id"],
            "status": order["status"],
            "total": text(&order["total"]),
            "currency": order["currency"],
            "customer": {
                "email": billing["email"],
                "first_name": billing["first_name"].as_str().unwrap_or(""),
                "last_name": billing["last_name"].as_str().unwrap_or(""),
            },
            "line_items": order["line_items"].as_array().map(|items| items.iter().map(|i| json!({
                "product_id": i["product_id"],
                "name": i["name"],
                "quantity": i["quantity"],
                "total": text(&i["total"]),
            })).collect::<Vec<_>>()),
            "created_at": created,
        }
    })
}

impl<S, B> Service<Request<B>> for WooCommerce<S>
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
            let raw = match read_body(body, config.body_limit).await {
                Ok(raw) => raw,
                Err(rejection) => return Ok(rejection.into_response()),
            };
            let Some(signature) = header(&parts.headers, SIGNATURE_HEADER) else {
                // The ping WooCommerce sends when a webhook is saved: unsigned,
                // and it must be answered with exactly 200.
                if raw.starts_with(b"webhook_id=") {
                    return Ok(json_response(
                        StatusCode::OK,
                        &json!({"status": "ok", "ping": true}),
                    ));
                }
                return Ok(
                    Rejection::from(VerifyError::MissingHeader("X-WC-Webhook-Signature"))
                        .into_response(),
                );
            };
            let tag = base64::engine::general_purpose::STANDARD
                .decode(signature)
                .ok()
                .filter(|t| t.len() == 32);
            let Some(key_index) = tag.and_then(|t| config.secrets.matching_key_for(&[&raw], &t))
            else {
                return Ok(Rejection::from(VerifyError::BadSignature).into_response());
            };
            let topic = header(&parts.headers, TOPIC_HEADER).unwrap_or("");
            if topic != "order.created" {
                // Acknowledged, so WooCommerce does not count a failure.
                return Ok(json_response(
                    StatusCode::OK,
                    &json!({"status": "ignored", "topic": topic}),
                ));
            }
            let webhook = header(&parts.headers, WEBHOOK_ID_HEADER).unwrap_or("0");
            let site = header(&parts.headers, SOURCE_HEADER)
                .unwrap_or("")
                .trim_end_matches('/')
                .to_owned();
            let digest = Sha256::digest(&raw);
            let hash: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
            let event_id: String = format!("wc-{webhook}-{topic}-{hash}")
                .chars()
                .take(128)
                .collect();
            let Ok(order) = serde_json::from_slice::<Value>(&raw) else {
                return Ok(Rejection::new(
                    ErrorCode::InvalidJson,
                    "the WooCommerce payload is not JSON",
                )
                .into_response());
            };
            let mapped = map_order(&order, &event_id, &site);
            let now = config.clock.unix_seconds();
            let request = Request::from_parts(
                parts,
                VerifiedBody {
                    raw: Bytes::from(mapped.to_string()),
                    verified: Verified {
                        key_index,
                        timestamp: now,
                        skew_secs: 0,
                    },
                    sender_event_id: Bytes::from(event_id),
                    id_signed: true,
                },
            );
            inner.call(request).await
        })
    }
}
