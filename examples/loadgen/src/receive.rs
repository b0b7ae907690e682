use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use tokio::sync::Notify;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9999")]
    listen: SocketAddr,
    /// Exit once this many distinct events have arrived.
    #[arg(long)]
    expect: usize,
}

#[derive(Default)]
struct Seen {
    ids: HashSet<String>,
    calls: usize,
    first: Option<Instant>,
}

#[derive(Clone)]
struct Receiver {
    seen: Arc<Mutex<Seen>>,
    done: Arc<Notify>,
    expect: usize,
}

async fn receive(State(r): State<Receiver>, Json(body): Json<serde_json::Value>) -> StatusCode {
    let id = body["event_id"].as_str().unwrap_or_default().to_owned();
    let mut seen = r.seen.lock().unwrap_or_else(|e| e.into_inner());
    seen.first.get_or_insert_with(Instant::now);
    seen.calls += 1;
    seen.ids.insert(id);
    if seen.ids.len() >= r.expect {
        r.done.notify_one();
    }
    StatusCode::OK
}

pub(crate) async fn run(args: Args) {
    let receiver = Receiver {
        seen: Arc::default(),
        done: Arc::default(),
        expect: args.expect,
    };
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("error: cannot listen on {}: {err}", args.listen);
            std::process::exit(2);
        }
    };
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(receiver.clone());
    tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, app).await {
            eprintln!("error: {err}");
        }
    });
    eprintln!("receiving on http://{}/hook", args.listen);
    receiver.done.notified().await;
    let seen = receiver.seen.lock().unwrap_or_else(|e| e.into_inner());
    let elapsed = seen
        .first
        .map(|t| t.elapsed().as_secs_f64())
        .unwrap_or_default();
    println!(
        "{}",
        serde_json::json!({
            "distinct_events": seen.ids.len(),
            "calls": seen.calls,
            "first_to_last_seconds": (elapsed * 1000.0).round() / 1000.0,
        })
    );
}
