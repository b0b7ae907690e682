//! `GET /healthz` (the process answers) and `GET /readyz` (its dependencies
//! answer): cheap and unauthenticated, for load balancers and orchestrators.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

/// How long one readiness check may take before it counts as failing.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// One thing the process needs to be ready: Postgres reachable, Redis
/// reachable, the worker loop alive.
#[async_trait]
pub trait ReadinessCheck: Send + Sync + 'static {
    /// A short name for the `/readyz` answer, e.g. `postgres`.
    fn name(&self) -> &str;
    /// `Err` with a reason when not ready.
    async fn check(&self) -> Result<(), String>;
}

type Checks = Arc<Vec<Arc<dyn ReadinessCheck>>>;

/// `/healthz` and `/readyz` with the given checks.
pub fn health_router(checks: Vec<Arc<dyn ReadinessCheck>>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(Arc::new(checks))
}

async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

async fn readyz(State(checks): State<Checks>) -> (StatusCode, Json<Value>) {
    let results = futures_util::future::join_all(checks.iter().map(|c| async move {
        let outcome = tokio::time::timeout(CHECK_TIMEOUT, c.check())
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {} s", CHECK_TIMEOUT.as_secs())));
        (c.name().to_owned(), outcome)
    }))
    .await;
    let failing: Vec<Value> = results
        .iter()
        .filter_map(|(name, r)| r.as_ref().err().map(|e| json!({"check": name, "error": e})))
        .collect();
    if failing.is_empty() {
        (StatusCode::OK, Json(json!({"status": "ready"})))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unready", "failing": failing})),
        )
    }
}
