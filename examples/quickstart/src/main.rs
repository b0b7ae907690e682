//! Run with
//!
//! ```sh
//! cargo run --release -p quickstart
//! ```
//!
//! Starts the gateway on 127.0.0.1:8080 and a worker in the same process, on
//! in-memory backends, delivering every event to standard output as one JSON
//! line. NOT DURABLE: a restart loses every queued event.
//!
//! Slack, HubSpot and OpenAI join when their variables are set
//! (`WP_BRIDGE_SLACK_WEBHOOK_URL`, `WP_BRIDGE_HUBSPOT_TOKEN`,
//! `WP_BRIDGE_OPENAI_API_KEY`; see docs/sinks.md).

use std::net::SocketAddr;

use base64::Engine as _;
use clap::Parser;
use rand::RngCore;
use tracing_subscriber::EnvFilter;
use wp_bridge::core::signature::SecretSet;
use wp_bridge::core::worker::shutdown_signal;

#[derive(Debug, Parser)]
#[command(about = "wp-bridge quick start (in-memory, not durable)")]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "WP_BRIDGE_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Log as JSON lines instead of text.
    #[arg(long, env = "WP_BRIDGE_LOG_JSON")]
    log_json: bool,
}

#[derive(Debug, thiserror::Error)]
enum StartError {
    #[error("WP_BRIDGE_SECRET is not usable: {0}")]
    Secret(#[from] wp_bridge::core::signature::SecretError),
    #[error(transparent)]
    Sinks(#[from] quickstart::sinks::EnvError),
    #[error(
        "cannot listen on {addr}: {source}; is another process using it? set WP_BRIDGE_LISTEN"
    )]
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
    init_logging(args.log_json);
    if let Err(err) = run(args).await {
        tracing::error!("{err}");
        eprintln!("error: {err}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), StartError> {
    let secret = match std::env::var("WP_BRIDGE_SECRET") {
        Ok(secret) if !secret.is_empty() => secret,
        _ => {
            let mut bytes = [0u8; 32];
            rand::thread_rng().fill_bytes(&mut bytes);
            let generated = base64::engine::general_purpose::STANDARD.encode(bytes);
            // Printed once, to the terminal, because the operator must copy it
            // into WordPress; it never goes to the logs.
            eprintln!("No WP_BRIDGE_SECRET set; generated one for this run:\n\n    WP_BRIDGE_SECRET={generated}\n");
            generated
        }
    };
    let secrets = SecretSet::from_comma_separated(&secret)?;
    let configured = quickstart::sinks::Configured::from_env()?;
    let names = configured.names();
    let (router, worker) = quickstart::app_with(secrets, quickstart::stdout_sink(), configured);

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: args.listen,
            source,
        })?;
    let worker = worker.spawn();
    if names != ["log"] {
        eprintln!("Sinks: {}", names.join(", "));
    }
    eprintln!(
        "IN-MEMORY MODE: NOT DURABLE. Events queued here are lost when the process stops.\n\
         Delivered events are printed to stdout as JSON lines; logs go to stderr.\n\
         wp-bridge quick start listening on http://{}/webhooks/wp",
        args.listen
    );
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await;
    worker.shutdown().await;
    served.map_err(StartError::Serve)
}

fn init_logging(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            // Every line carries the whole span stack: correlation_id and
            // event_id live on the outer `ingest` / `job` spans.
            .with_span_list(true)
            .init();
    } else {
        builder.init();
    }
}
