//! Run with
//!
//! ```sh
//! DATABASE_URL=… REDIS_URL=… WP_BRIDGE_SECRETS=… cargo run --release -p wp-bridge-app -- serve
//! DATABASE_URL=… REDIS_URL=… cargo run --release -p wp-bridge-app -- worker
//! ```
//!
//! `serve` runs the gateway and the reconciler, `worker` delivers, `all` runs
//! both in one process (and may use an in-memory queue when `REDIS_URL` is
//! unset). Any number of each can share one Postgres and one Redis.
//! `wp-bridge --help` lists every environment variable.

mod config;
mod dlq;
mod observability;
#[cfg(feature = "otlp")]
mod otlp;
mod sinks;
mod webhook;

use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;
use wp_bridge::axum::admin::{admin_router, AdminState, AdminToken};
use wp_bridge::axum::ReadinessCheck;
use wp_bridge::core::clock::{SharedClock, SystemClock};
use wp_bridge::core::event_log::EventLog;
use wp_bridge::core::monitor::AlertMonitor;
use wp_bridge::core::queue::{MemoryQueue, Queue};
use wp_bridge::core::reconciler::Reconciler;
use wp_bridge::core::worker::{shutdown_signal, RetryPolicy, Worker};
use wp_bridge::postgres::{PgConfig, PgStores};
use wp_bridge::redis::{RedisConfig, RedisQueue};
use wp_bridge::GatewayBuilder;

use crate::config::{Config, ConfigError, VARIABLES};

#[derive(Parser)]
#[command(name = "wp-bridge", about = "Signed WordPress events to AI, CRM and chat services", after_help = VARIABLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The gateway (POST /webhooks/wp), the reconciler, retention and the admin.
    Serve,
    /// A worker delivering queued events.
    Worker,
    /// Gateway, reconciler, retention, admin and worker in one process.
    All,
    /// The dead-letter queue: list, show, replay, discard, stats.
    #[command(subcommand)]
    Dlq(dlq::Dlq),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Serve,
    Worker,
    All,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Serve => "serve",
            Role::Worker => "worker",
            Role::All => "all",
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum AppError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("DATABASE_URL: {0}")]
    Postgres(#[from] wp_bridge::postgres::PgError),
    #[error("REDIS_URL: {0}")]
    Redis(#[from] wp_bridge::redis::RedisError),
    /// Each listener names its own variable: several processes on one host
    /// need their own metrics (and admin) address, or `off`.
    #[error("{var}: cannot listen on {addr}: {source}")]
    Bind {
        var: &'static str,
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Serve(std::io::Error),
    #[error("WP_BRIDGE_ADMIN_TOKEN: {0}")]
    AdminToken(wp_bridge::axum::admin::TokenTooShort),
    #[error("{0}")]
    Dlq(String),
    #[error("{0}")]
    Metrics(String),
    #[error("WP_BRIDGE_ALERT_SLACK_WEBHOOK_URL: cannot build the HTTP client: {0}")]
    Alerts(reqwest::Error),
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let config = match Config::from_env(|k| std::env::var(k).ok()) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err}");
            std::process::exit(2);
        }
    };
    let logging = init_logging(config.log_json);
    let role = match cli.command {
        Command::Serve => Role::Serve,
        Command::Worker => Role::Worker,
        Command::All => Role::All,
        Command::Dlq(command) => {
            let result = dead_letters(command, config).await;
            logging.shutdown();
            if let Err(err) = result {
                eprintln!("error: {err}");
                std::process::exit(1);
            }
            return;
        }
    };
    let result = run(role, config).await;
    if let Err(err) = &result {
        tracing::error!("{err}");
    }
    // Off the async runtime: the OTLP exporter flushes with a blocking client.
    tokio::task::spawn_blocking(move || logging.shutdown())
        .await
        .ok();
    if let Err(err) = result {
        eprintln!("error: {err}");
        std::process::exit(1);
    }
}

/// What must be flushed before exit.
struct Logging {
    #[cfg(feature = "otlp")]
    otlp: Option<otlp::Exporter>,
}

impl Logging {
    fn shutdown(self) {
        #[cfg(feature = "otlp")]
        if let Some(exporter) = self.otlp {
            exporter.shutdown();
        }
    }
}

fn init_logging(json: bool) -> Logging {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    use tracing_subscriber::Layer as _;
    // RUST_LOG filters what is printed; exported spans have their own level.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let printed: Box<dyn tracing_subscriber::Layer<tracing_subscriber::Registry> + Send + Sync> =
        if json {
            tracing_subscriber::fmt::layer()
                .json()
                .flatten_event(true)
                .with_current_span(true)
                // Every line carries the whole span stack: correlation_id and
                // event_id live on the outer `ingest` / `job` spans.
                .with_span_list(true)
                .with_writer(std::io::stderr)
                .boxed()
        } else {
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .boxed()
        };
    let registry = tracing_subscriber::registry().with(printed.with_filter(filter));
    #[cfg(feature = "otlp")]
    {
        let endpoint = std::env::var("WP_BRIDGE_OTLP_ENDPOINT")
            .ok()
            .filter(|e| !e.is_empty());
        let (layer, exporter) = match endpoint.as_deref().map(otlp::layer) {
            Some(Ok((layer, exporter))) => (Some(layer), Some(exporter)),
            Some(Err(err)) => {
                eprintln!("error: {err}");
                std::process::exit(2);
            }
            None => (None, None),
        };
        let level = tracing_subscriber::filter::LevelFilter::INFO;
        registry.with(layer.map(|l| l.with_filter(level))).init();
        Logging { otlp: exporter }
    }
    #[cfg(not(feature = "otlp"))]
    {
        registry.init();
        Logging {}
    }
}

async fn connect(
    config: &Config,
    clock: SharedClock,
) -> Result<(PgStores, Arc<dyn Queue>, Option<RedisConfig>), AppError> {
    let mut pg = PgConfig::new(config.database_url.clone()).max_connections(20);
    if let Some(schema) = &config.pg_schema {
        pg = pg.schema(schema.clone());
    }
    let stores = PgStores::connect(&pg).await?;
    stores.migrate().await?;
    let redis = config
        .redis_url
        .as_ref()
        .map(|url| RedisConfig::new(url.clone()).prefix(config.redis_prefix.clone()));
    let queue: Arc<dyn Queue> = match &redis {
        Some(redis) => Arc::new(RedisQueue::connect(redis, clock.clone()).await?),
        None => Arc::new(MemoryQueue::new(clock)),
    };
    Ok((stores, queue, redis))
}

async fn dead_letters(command: dlq::Dlq, config: Config) -> Result<(), AppError> {
    let clock = SystemClock::shared();
    let (stores, queue, _) = connect(&config, clock.clone()).await?;
    dlq::run(
        command,
        Arc::new(stores.dead_letter_store(clock.clone())),
        Arc::new(stores.event_log(clock)),
        queue,
    )
    .await
    .map_err(AppError::Dlq)
}

async fn run(role: Role, mut config: Config) -> Result<(), AppError> {
    if role != Role::All {
        config.require_shared_queue(role.name())?;
    }
    let secrets = match role {
        Role::Worker => None,
        Role::Serve | Role::All => Some(config.require_secrets()?),
    };
    let clock = SystemClock::shared();
    let handle = match config.metrics_listen {
        Some(_) => Some(observability::install_recorder().map_err(AppError::Metrics)?),
        None => None,
    };
    let (stores, queue, redis) = connect(&config, clock.clone()).await?;
    let log: Arc<dyn EventLog> = Arc::new(stores.event_log(clock.clone()));
    let dead: Arc<dyn wp_bridge::core::dead_letter::DeadLetterStore> =
        Arc::new(stores.dead_letter_store(clock.clone()));
    let monitor = match &config.alert_webhook {
        Some(url) => Some(AlertMonitor::new(
            config.alerts,
            Arc::new(observability::SlackAlerts::new(url.clone()).map_err(AppError::Alerts)?),
            clock.clone(),
        )),
        None => None,
    };
    let mut checks: Vec<Arc<dyn ReadinessCheck>> = vec![
        Arc::new(observability::PostgresReady(stores.clone())),
        Arc::new(observability::QueueReady(queue.clone())),
    ];
    let sinks = sinks::build(
        &config,
        redis.as_ref(),
        Arc::new(stores.sink_state()),
        clock.clone(),
    )
    .await?;

    let shutdown = CancellationToken::new();
    let mut tasks = tokio::task::JoinSet::new();
    if let Some(secrets) = secrets {
        let routes = config
            .routes
            .clone()
            .unwrap_or_else(|| sinks.default_routes());
        // One stack per accepted signing scheme, over the same stores.
        let build = |builder: GatewayBuilder| {
            builder
                .tolerance(config.tolerance)
                .body_limit(config.body_limit)
                .max_queue_depth(config.max_queue_depth)
                .depth_cache(config.depth_cache)
                .ip_allowlist(config.ip_allowlist.clone())
                .routes(routes.clone())
                .build(
                    Arc::new(stores.idempotency_store(clock.clone())),
                    log.clone(),
                    queue.clone(),
                )
        };
        let gateway = build(GatewayBuilder::new(secrets));
        let standard_webhooks = config
            .standard_webhook_secrets
            .take()
            .map(|secrets| build(GatewayBuilder::standard_webhooks(secrets)));
        let woocommerce = config.woocommerce_secrets.take().map(|secrets| {
            GatewayBuilder::new(secrets)
                .body_limit(config.body_limit)
                .ip_allowlist(config.ip_allowlist.clone())
                .routes(routes.clone())
                .build_woocommerce(
                    Arc::new(stores.idempotency_store(clock.clone())),
                    log.clone(),
                    queue.clone(),
                )
        });
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| AppError::Bind {
                var: "WP_BRIDGE_LISTEN",
                addr: config.listen,
                source,
            })?;
        eprintln!(
            "wp-bridge {} listening on http://{}/webhooks/wp",
            role.name(),
            config.listen
        );
        let stop = shutdown.clone();
        let app = wp_bridge::axum::router_with(
            gateway,
            wp_bridge::axum::RouterOptions {
                readiness: checks.clone(),
                request_timeout: config.request_timeout,
                standard_webhooks,
                woocommerce,
            },
        );
        let limits = config.server_limits;
        tasks.spawn(async move {
            wp_bridge::axum::serve(listener, app, limits, async move { stop.cancelled().await })
                .await
                .map_err(AppError::Serve)
        });
        let reconciler = reconciler(&config, log.clone(), queue.clone(), clock.clone());
        let stop = shutdown.clone();
        tasks.spawn(async move {
            reconciler.run(stop).await;
            Ok(())
        });
        if let Some(keep) = config.retention {
            let (log, stop) = (log.clone(), shutdown.clone());
            tasks.spawn(async move {
                retention(log, keep, stop).await;
                Ok(())
            });
        }
        if let Some(token) = &config.admin_token {
            let token = AdminToken::new(token).map_err(AppError::AdminToken)?;
            let admin = AdminState::new(dead.clone(), log.clone(), queue.clone(), token);
            let listener = tokio::net::TcpListener::bind(config.admin_listen)
                .await
                .map_err(|source| AppError::Bind {
                    var: "WP_BRIDGE_ADMIN_LISTEN",
                    addr: config.admin_listen,
                    source,
                })?;
            eprintln!("wp-bridge admin on http://{}/admin", config.admin_listen);
            let stop = shutdown.clone();
            let app = axum::Router::new().nest("/admin", admin_router(admin));
            tasks.spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move { stop.cancelled().await })
                    .await
                    .map_err(AppError::Serve)
            });
        }
    }
    if matches!(role, Role::Worker | Role::All) {
        let mut builder = Worker::builder(queue.clone(), log.clone())
            .lease(config.lease)
            .concurrency(config.concurrency)
            .retry_policy(
                RetryPolicy::exponential(config.retry_base, Duration::from_secs(600))
                    .max_attempts(config.max_attempts),
            )
            .clock(clock.clone());
        for (name, sink, enricher) in sinks.into_workers() {
            builder = if enricher {
                builder.enricher(name, sink)
            } else {
                builder.sink(name, sink)
            };
        }
        if let Some(monitor) = &monitor {
            builder = builder.observer(Arc::new(monitor.clone()));
        }
        let worker = builder.build();
        checks.push(Arc::new(observability::WorkerReady {
            heartbeat: worker.heartbeat(),
            max_age: Duration::from_secs(30),
        }));
        let stop = shutdown.clone();
        tasks.spawn(async move {
            worker.run(stop).await;
            Ok(())
        });
        eprintln!("wp-bridge {} delivering", role.name());
    }

    if let (Some(addr), Some(handle)) = (config.metrics_listen, handle.clone()) {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| AppError::Bind {
                var: "WP_BRIDGE_METRICS_LISTEN",
                addr,
                source,
            })?;
        let app = observability::metrics_router(handle, checks);
        let stop = shutdown.clone();
        tasks.spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await
                .map_err(AppError::Serve)
        });
    }
    {
        let (queue, dead, stop) = (queue.clone(), dead.clone(), shutdown.clone());
        let every = config.monitor_interval;
        tasks.spawn(async move {
            observability::sample(queue, dead, handle, monitor, every, stop).await;
            Ok(())
        });
    }

    tokio::select! {
        () = shutdown_signal() => {}
        Some(ended) = tasks.join_next() => {
            // A task ending on its own is a failure (the server could not serve).
            if let Ok(Err(err)) = ended {
                shutdown.cancel();
                return Err(err);
            }
        }
    }
    shutdown.cancel();
    while let Some(ended) = tasks.join_next().await {
        if let Ok(Err(err)) = ended {
            return Err(err);
        }
    }
    Ok(())
}

/// Purges, every hour, the events older than `keep` whose deliveries are all
/// delivered or discarded. Dead letters are never purged.
async fn retention(log: Arc<dyn EventLog>, keep: Duration, stop: CancellationToken) {
    loop {
        let before = std::time::SystemTime::now() - keep;
        match log.purge(before).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "retention: old delivered events purged"),
            Err(err) => {
                tracing::warn!(error = %err, "retention sweep failed; trying again next hour")
            }
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(Duration::from_secs(3600)) => {}
        }
    }
}

fn reconciler(
    config: &Config,
    log: Arc<dyn EventLog>,
    queue: Arc<dyn Queue>,
    clock: SharedClock,
) -> Reconciler {
    Reconciler::new(log, queue)
        .interval(config.reconcile_interval)
        .grace(config.reconcile_grace)
        .clock(clock)
}
