use std::net::SocketAddr;

use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:18070")]
    listen: SocketAddr,
}

/// Reads the body and answers what the gateway answers, doing nothing else.
async fn accept(body: axum::body::Bytes) -> (StatusCode, Json<serde_json::Value>) {
    let _ = body.len();
    (
        StatusCode::ACCEPTED,
        Json(
            serde_json::json!({"status": "accepted", "event_id": "bare", "correlation_id": "bare"}),
        ),
    )
}

pub(crate) async fn run(args: Args) {
    let app = Router::new()
        .route("/webhooks/wp", post(accept))
        .route("/healthz", axum::routing::get(|| async { "ok" }));
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("error: cannot listen on {}: {err}", args.listen);
            std::process::exit(2);
        }
    };
    if let Err(err) = axum::serve(listener, app).await {
        eprintln!("error: {err}");
    }
}
