//! Run with
//!
//! ```sh
//! DATABASE_URL=postgres://postgres@127.0.0.1/wp_bridge WP_BRIDGE_SECRET=… cargo run --release -p postgres-gateway
//! ```
//!
//! The gateway, a worker and the reconciler in one process, with the event
//! log, idempotency and dead letters in Postgres (migrated at start). The
//! queue is in memory: if the process dies, the reconciler of the next start
//! re-enqueues from Postgres everything that was accepted and not delivered.
//! Delivers to `WP_BRIDGE_WEBHOOK_URL` when set, otherwise prints each event
//! as a JSON line on stdout.

mod webhook;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;
use wp_bridge::core::clock::SystemClock;
use wp_bridge::core::queue::MemoryQueue;
use wp_bridge::core::reconciler::Reconciler;
use wp_bridge::core::routing::Routes;
use wp_bridge::core::signature::SecretSet;
use wp_bridge::core::sink::{LogSink, Sink};
use wp_bridge::core::worker::{shutdown_signal, Worker};
use wp_bridge::postgres::{PgConfig, PgStores};
use wp_bridge::GatewayBuilder;

#[derive(Parser)]
#[command(about = "wp-bridge gateway + worker on Postgres")]
struct Args {
    /// Postgres connection URL.
    #[arg(
        long,
        env = "DATABASE_URL",
        value_name = "DATABASE_URL",
        hide_env_values = true
    )]
    database_url: String,
    /// Postgres schema for the tables (default: the connection's search path).
    #[arg(long, env = "WP_BRIDGE_PG_SCHEMA", value_name = "WP_BRIDGE_PG_SCHEMA")]
    schema: Option<String>,
    /// Signing secrets, comma-separated; the first signs, all verify.
    #[arg(
        long,
        env = "WP_BRIDGE_SECRET",
        value_name = "WP_BRIDGE_SECRET",
        hide_env_values = true
    )]
    secret: String,
    /// Address to listen on.
    #[arg(long, env = "WP_BRIDGE_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Deliver to this URL (JSON POST); without it, events are printed on stdout.
    #[arg(
        long,
        env = "WP_BRIDGE_WEBHOOK_URL",
        value_name = "WP_BRIDGE_WEBHOOK_URL",
        hide_env_values = true
    )]
    webhook_url: Option<String>,
    /// How long a worker holds a job before another may take it over, seconds.
    #[arg(long, env = "WP_BRIDGE_LEASE_SECS", default_value_t = 60)]
    lease_secs: u64,
    /// Seconds between reconciler sweeps.
    #[arg(long, env = "WP_BRIDGE_RECONCILE_INTERVAL_SECS", default_value_t = 30)]
    reconcile_interval_secs: u64,
    /// Seconds a delivery may be overdue before the reconciler re-enqueues it.
    #[arg(long, env = "WP_BRIDGE_RECONCILE_GRACE_SECS", default_value_t = 60)]
    reconcile_grace_secs: u64,
    /// Log as JSON lines.
    #[arg(long, env = "WP_BRIDGE_LOG_JSON")]
    log_json: bool,
}

#[derive(Debug, thiserror::Error)]
enum StartError {
    #[error("WP_BRIDGE_SECRET is not usable: {0}")]
    Secret(#[from] wp_bridge::core::signature::SecretError),
    #[error("DATABASE_URL / WP_BRIDGE_PG_SCHEMA: {0}")]
    Postgres(#[from] wp_bridge::postgres::PgError),
    #[error("WP_BRIDGE_WEBHOOK_URL: cannot build the HTTP client: {0}")]
    Webhook(reqwest::Error),
    #[error("WP_BRIDGE_LISTEN: cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Serve(std::io::Error),
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if args.log_json {
        logs.json()
            .flatten_event(true)
            .with_current_span(true)
            .init();
    } else {
        logs.init();
    }
    if let Err(err) = run(args).await {
        tracing::error!("{err}");
        eprintln!("error: {err}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), StartError> {
    let secrets = SecretSet::from_comma_separated(&args.secret)?;
    let mut config = PgConfig::new(args.database_url).max_connections(20);
    if let Some(schema) = args.schema {
        config = config.schema(schema);
    }
    let stores = PgStores::connect(&config).await?;
    stores.migrate().await?;

    let clock = SystemClock::shared();
    let log = Arc::new(stores.event_log(clock.clone()));
    let queue = Arc::new(MemoryQueue::new(clock.clone()));
    let (name, sink): (&str, Arc<dyn Sink>) = match args.webhook_url {
        Some(url) => (
            "webhook",
            Arc::new(
                webhook::WebhookSink::new(url, Duration::from_secs(10))
                    .map_err(StartError::Webhook)?,
            ),
        ),
        None => ("log", Arc::new(LogSink::stdout())),
    };
    let gateway = GatewayBuilder::new(secrets)
        .routes(Routes::all_to(name))
        .build(
            Arc::new(stores.idempotency_store(clock.clone())),
            log.clone(),
            queue.clone(),
        );
    let lease = Duration::from_secs(args.lease_secs);
    let worker = Worker::builder(queue.clone(), log.clone())
        .sink(name, sink)
        .lease(lease)
        .build()
        .spawn();
    let stop_reconciler = CancellationToken::new();
    let reconciler = tokio::spawn(
        Reconciler::new(log, queue)
            .interval(Duration::from_secs(args.reconcile_interval_secs))
            .grace(Duration::from_secs(args.reconcile_grace_secs))
            .run(stop_reconciler.clone()),
    );

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: args.listen,
            source,
        })?;
    eprintln!(
        "wp-bridge on Postgres listening on http://{}/webhooks/wp",
        args.listen
    );
    let served = axum::serve(listener, wp_bridge::axum::router(gateway))
        .with_graceful_shutdown(shutdown_signal())
        .await;
    stop_reconciler.cancel();
    worker.shutdown().await;
    if let Err(err) = reconciler.await {
        tracing::error!(error = %err, "reconciler task ended abnormally");
    }
    served.map_err(StartError::Serve)
}
