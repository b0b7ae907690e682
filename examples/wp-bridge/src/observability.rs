//! Metrics export, readiness checks, gauges sampled from the stores, and
//! the Slack alert notifier.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio_util::sync::CancellationToken;
use wp_bridge::axum::{health_router, ReadinessCheck};
use wp_bridge::core::dead_letter::DeadLetterStore;
use wp_bridge::core::metrics as names;
use wp_bridge::core::monitor::{Alert, AlertMonitor, AlertNotifier};
use wp_bridge::core::queue::Queue;
use wp_bridge::postgres::PgStores;

/// Latency buckets, seconds: sub-millisecond ingest to minutes end to end.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0, 300.0, 1800.0,
];
/// Clock skew buckets, seconds, both signs (the window is ±300 s).
const SKEW_BUCKETS: &[f64] = &[-300.0, -60.0, -10.0, -2.0, 0.0, 2.0, 10.0, 60.0, 300.0];

/// Installs the Prometheus recorder for the `metrics` facade. Histograms
/// are exported as buckets, so dashboards can aggregate them across
/// processes with `histogram_quantile`.
pub(crate) fn install_recorder() -> Result<PrometheusHandle, String> {
    let error = |e: metrics_exporter_prometheus::BuildError| {
        format!("cannot install the metrics recorder: {e}")
    };
    PrometheusBuilder::new()
        .set_buckets(LATENCY_BUCKETS)
        .map_err(error)?
        .set_buckets_for_metric(
            Matcher::Full(names::CLOCK_SKEW_SECONDS.into()),
            SKEW_BUCKETS,
        )
        .map_err(error)?
        .install_recorder()
        .map_err(error)
}

/// `/metrics`, `/healthz` and `/readyz` for the metrics listener.
pub(crate) fn metrics_router(
    handle: PrometheusHandle,
    checks: Vec<Arc<dyn ReadinessCheck>>,
) -> Router {
    Router::new()
        .route("/metrics", get(move || std::future::ready(handle.render())))
        .merge(health_router(checks))
}

/// Postgres answers.
pub(crate) struct PostgresReady(pub(crate) PgStores);

#[async_trait]
impl ReadinessCheck for PostgresReady {
    fn name(&self) -> &str {
        "postgres"
    }
    async fn check(&self) -> Result<(), String> {
        if self.0.ping().await {
            Ok(())
        } else {
            Err("Postgres does not answer".into())
        }
    }
}

/// The queue answers.
pub(crate) struct QueueReady(pub(crate) Arc<dyn Queue>);

#[async_trait]
impl ReadinessCheck for QueueReady {
    fn name(&self) -> &str {
        "queue"
    }
    async fn check(&self) -> Result<(), String> {
        self.0.depth().await.map(drop).map_err(|e| e.to_string())
    }
}

/// The worker's poll loops come round.
pub(crate) struct WorkerReady {
    pub(crate) heartbeat: Arc<AtomicU64>,
    pub(crate) max_age: Duration,
}

#[async_trait]
impl ReadinessCheck for WorkerReady {
    fn name(&self) -> &str {
        "worker"
    }
    async fn check(&self) -> Result<(), String> {
        let last = UNIX_EPOCH + Duration::from_millis(self.heartbeat.load(Ordering::Relaxed));
        let age = SystemTime::now().duration_since(last).unwrap_or_default();
        if age <= self.max_age {
            Ok(())
        } else {
            Err(format!(
                "the worker loop has not come round for {} s",
                age.as_secs()
            ))
        }
    }
}

/// Samples queue depth and dead letters into gauges (and the monitor), runs
/// the exporter's upkeep and the monitor's evaluation, until `stop`.
pub(crate) async fn sample(
    queue: Arc<dyn Queue>,
    dead: Arc<dyn DeadLetterStore>,
    handle: Option<PrometheusHandle>,
    monitor: Option<AlertMonitor>,
    every: Duration,
    stop: CancellationToken,
) {
    loop {
        match queue.depth().await {
            Ok(depth) => {
                metrics::gauge!(names::QUEUE_DEPTH).set(depth as f64);
                if let Some(m) = &monitor {
                    m.observe_pending(depth);
                }
            }
            Err(err) => tracing::debug!(error = %err, "queue depth not sampled"),
        }
        match dead.stats().await {
            Ok(stats) => {
                for (sink, n) in &stats.by_sink {
                    metrics::gauge!(names::DEAD_LETTERS, "sink" => sink.clone()).set(*n as f64);
                }
                if let Some(m) = &monitor {
                    m.observe_dead_letters(stats.total);
                }
            }
            Err(err) => tracing::debug!(error = %err, "dead letters not sampled"),
        }
        if let Some(m) = &monitor {
            m.evaluate().await;
        }
        if let Some(h) = &handle {
            h.run_upkeep();
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}

/// Posts alerts to a Slack incoming webhook (a separate one from the event
/// sinks'), as `{"text": …}`.
pub(crate) struct SlackAlerts {
    client: reqwest::Client,
    url: String,
}

impl std::fmt::Debug for SlackAlerts {
    // The webhook URL is a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SlackAlerts")
    }
}

impl SlackAlerts {
    pub(crate) fn new(url: String) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { client, url })
    }
}

#[async_trait]
impl AlertNotifier for SlackAlerts {
    async fn notify(&self, alert: &Alert) -> Result<(), String> {
        let response = self
            .client
            .post(&self.url)
            .json(&serde_json::json!({"text": alert.to_string()}))
            .send()
            .await
            .map_err(|e| format!("alert webhook unreachable: {}", e.without_url()))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("alert webhook answered {}", response.status()))
        }
    }
}
