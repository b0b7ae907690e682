use axum::extract::{ConnectInfo, Request, State};
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::post;
use axum::Router;
use http::{header, HeaderName, HeaderValue};
use tower::ServiceExt;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use wp_bridge_core::layer::ip_allowlist::ClientAddr;
use wp_bridge_core::{ErrorCode, GatewayService, Rejection, WooCommerceGatewayService};

use crate::health::{health_router, ReadinessCheck};
use crate::ApiError;

/// Where WordPress posts events.
pub const INGEST_PATH: &str = "/webhooks/wp";
/// Where Standard Webhooks senders post events.
pub const STANDARD_WEBHOOKS_PATH: &str = "/webhooks/standard";
/// Where WooCommerce's native webhooks post orders.
pub const WOOCOMMERCE_PATH: &str = "/webhooks/woocommerce";

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The gateway's routes: `POST /webhooks/wp`, `GET /healthz` and a
/// `GET /readyz` that is always ready (see [`router_with_readiness`]).
///
/// Every request gets an `X-Request-Id` (kept when the sender set a sane one,
/// generated otherwise), echoed in the response; an accepted event keeps it
/// as its correlation id.
pub fn router(gateway: GatewayService) -> Router {
    router_with(gateway, RouterOptions::default())
}

/// [`router`] with `/readyz` answering 503 while any of `checks` fails.
pub fn router_with_readiness(
    gateway: GatewayService,
    checks: Vec<Arc<dyn ReadinessCheck>>,
) -> Router {
    router_with(
        gateway,
        RouterOptions {
            readiness: checks,
            ..RouterOptions::default()
        },
    )
}

/// Options of [`router_with`].
#[derive(Clone)]
pub struct RouterOptions {
    /// Checks behind `/readyz` (none: always ready).
    pub readiness: Vec<Arc<dyn ReadinessCheck>>,
    /// Longest an ingest request may take, body included; a sender still
    /// trickling its body then gets 408 `request_timeout` (default 30 s).
    pub request_timeout: Duration,
    /// A second gateway for Standard Webhooks senders, served at
    /// `POST /webhooks/standard` (built with `GatewayBuilder::standard_webhooks`).
    pub standard_webhooks: Option<GatewayService>,
    /// The WooCommerce native-webhook stack, served at
    /// `POST /webhooks/woocommerce` (built with `GatewayBuilder::build_woocommerce`).
    pub woocommerce: Option<WooCommerceGatewayService>,
}

impl Default for RouterOptions {
    fn default() -> Self {
        Self {
            readiness: Vec::new(),
            request_timeout: Duration::from_secs(30),
            standard_webhooks: None,
            woocommerce: None,
        }
    }
}

impl std::fmt::Debug for RouterOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouterOptions")
            .field("readiness", &self.readiness.len())
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

#[derive(Clone)]
struct IngestState<G> {
    gateway: G,
    timeout: Duration,
}

/// The gateway's routes with `options`.
pub fn router_with(gateway: GatewayService, options: RouterOptions) -> Router {
    let state = IngestState {
        gateway,
        timeout: options.request_timeout,
    };
    let mut routes = Router::new()
        .route(
            INGEST_PATH,
            post(ingest).fallback(|| async { method_not_allowed("POST") }),
        )
        .with_state(state);
    if let Some(standard) = options.standard_webhooks {
        let state = IngestState {
            gateway: standard,
            timeout: options.request_timeout,
        };
        routes = routes.merge(
            Router::new()
                .route(
                    STANDARD_WEBHOOKS_PATH,
                    post(ingest).fallback(|| async { method_not_allowed("POST") }),
                )
                .with_state(state),
        );
    }
    if let Some(woocommerce) = options.woocommerce {
        let state = IngestState {
            gateway: woocommerce,
            timeout: options.request_timeout,
        };
        routes = routes.merge(
            Router::new()
                .route(
                    WOOCOMMERCE_PATH,
                    post(ingest).fallback(|| async { method_not_allowed("POST") }),
                )
                .with_state(state),
        );
    }
    routes
        .merge(health_router(options.readiness))
        .fallback(|| async { ApiError::new(ErrorCode::NotFound, "no such route") })
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            let request_id = request
                .headers()
                .get(&REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            tracing::info_span!("http", method = %request.method(), path = %request.uri().path(), request_id)
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

async fn ingest<G>(State(state): State<IngestState<G>>, mut request: Request) -> Response
where
    G: tower::Service<
            Request,
            Response = wp_bridge_core::response::GatewayResponse,
            Error = Infallible,
        > + Clone
        + Send
        + Sync
        + 'static,
    G::Future: Send,
{
    // The IP allowlist reads the peer from ClientAddr; serve the router with
    // `into_make_service_with_connect_info::<SocketAddr>()` to provide it.
    if let Some(ConnectInfo(peer)) = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .copied()
    {
        request.extensions_mut().insert(ClientAddr(peer));
    }
    let response = match tokio::time::timeout(state.timeout, state.gateway.oneshot(request)).await {
        Ok(Ok(response)) => response,
        Ok(Err(never)) => match never {},
        // Nothing is stored by a request cut short here: the body had not
        // been read, or a store call did not finish (its transaction rolls
        // back; a claim expires).
        Err(_) => Rejection::new(
            ErrorCode::RequestTimeout,
            "the request did not arrive in time",
        )
        .into_response(),
    };
    if let Some(rejection) = response.extensions().get::<Rejection>() {
        tracing::info!(
            code = %rejection.code(),
            status = rejection.status().as_u16(),
            message = rejection.message(),
            "request rejected"
        );
    }
    response.into_response()
}

fn method_not_allowed(allow: &'static str) -> Response {
    let mut response = ApiError::new(
        ErrorCode::MethodNotAllowed,
        "method not allowed on this path",
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}
