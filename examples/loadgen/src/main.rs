//! Run with
//!
//! ```sh
//! cargo run --release -p loadgen -- send --secret "$WP_BRIDGE_SECRET" --requests 20000 --concurrency 64
//! cargo run --release -p loadgen -- receive --listen 127.0.0.1:9999 --expect 2000
//! ```
//!
//! `send` posts signed `comment.created` events, each with a new event id,
//! to the gateway at a fixed concurrency over keep-alive connections, and
//! prints throughput and latency percentiles as one JSON line. All requests
//! are signed before the clock starts, so signing is not measured. Targets
//! only the address given (loopback by default).
//!
//! `receive` is a webhook endpoint for `WP_BRIDGE_WEBHOOK_URL`: it answers
//! 200, counts distinct event ids, and exits printing the elapsed time once
//! it has seen `--expect` of them.

mod bare;
mod receive;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use wp_bridge_core::signature::SecretSet;

#[derive(Parser)]
#[command(about = "Signed-event load generator for the wp-bridge gateway")]
enum Command {
    /// Post signed events and report latency and throughput.
    Send(Args),
    /// Receive webhook deliveries and report when all have arrived.
    Receive(receive::Args),
    /// A bare axum handler answering 202: the baseline the gateway is
    /// compared with in the same run.
    Bare(bare::Args),
}

#[derive(clap::Args)]
struct Args {
    /// The gateway's ingest URL.
    #[arg(long, default_value = "http://127.0.0.1:8080/webhooks/wp")]
    url: String,
    /// The signing secret.
    #[arg(long, env = "WP_BRIDGE_SECRET", hide_env_values = true)]
    secret: String,
    /// Requests to send (each a new event).
    #[arg(long, default_value_t = 10_000)]
    requests: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// A label printed with the results.
    #[arg(long, default_value = "")]
    label: String,
    /// Percentage of requests that repeat the request before them (a
    /// sender retrying); one of each pair is answered 202, the other 200.
    #[arg(long, default_value_t = 0)]
    duplicates: u8,
}

fn body(run: u128, i: usize) -> Vec<u8> {
    serde_json::json!({
        "event": "comment.created",
        "event_id": format!("load-{run}-{i}"),
        "site": "https://blog.example",
        "data": {
            "id": i, "post_id": 4,
            "author": {"name": "Load Test", "email": "load@example.com"},
            "content": "A comment of ordinary length, to look like real traffic on a blog post.",
            "created_at": "2026-12-04T10:00:00Z"
        }
    })
    .to_string()
    .into_bytes()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    match Command::parse() {
        Command::Send(args) => send(args).await,
        Command::Receive(args) => receive::run(args).await,
        Command::Bare(args) => bare::run(args).await,
    }
}

async fn send(args: Args) {
    let secrets = match SecretSet::new([args.secret.as_bytes()]) {
        Ok(secrets) => secrets,
        Err(err) => {
            eprintln!("error: WP_BRIDGE_SECRET: {err}");
            std::process::exit(2);
        }
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let run = now.as_nanos();
    let requests: Arc<Vec<(String, String, Vec<u8>)>> = Arc::new(
        (0..args.requests)
            .map(|i| {
                let body = body(run, i);
                let signature = secrets.sign(now.as_secs(), &body);
                (format!("load-{run}-{i}"), signature, body)
            })
            .collect(),
    );
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_else(|err| {
            eprintln!("error: cannot build the HTTP client: {err}");
            std::process::exit(2);
        });
    let next = Arc::new(AtomicUsize::new(0));
    let timestamp = now.as_secs().to_string();
    let started = Instant::now();
    let duplicates = usize::from(args.duplicates.min(100));
    let tasks: Vec<_> = (0..args.concurrency)
        .map(|_| {
            let (client, requests, next, url, timestamp) = (
                client.clone(),
                requests.clone(),
                next.clone(),
                args.url.clone(),
                timestamp.clone(),
            );
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut failures = 0usize;
                let (mut accepted, mut answered_duplicate) = (0usize, 0usize);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= requests.len() {
                        return (latencies, failures, accepted, answered_duplicate);
                    }
                    // Every n-th request repeats the one before it: a retry.
                    let repeat = duplicates > 0
                        && i > 0
                        && (i * duplicates / 100) != ((i - 1) * duplicates / 100);
                    // The pair may race (concurrency > 1), so either of the
                    // two may be the one accepted: 200 is right for both.
                    let paired = repeat
                        || (duplicates > 0
                            && i + 1 < requests.len()
                            && ((i + 1) * duplicates / 100) != (i * duplicates / 100));
                    let (id, signature, body) = &requests[if repeat { i - 1 } else { i }];
                    let sent = Instant::now();
                    let response = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .header("x-wp-timestamp", &timestamp)
                        .header("x-wp-signature", signature)
                        .header("x-event-id", id)
                        .body(body.clone())
                        .send()
                        .await;
                    let ok = match response {
                        Ok(r) => {
                            let status = r.status();
                            let _ = r.bytes().await;
                            match status {
                                reqwest::StatusCode::ACCEPTED => {
                                    accepted += 1;
                                    true
                                }
                                reqwest::StatusCode::OK if paired => {
                                    answered_duplicate += 1;
                                    true
                                }
                                _ => false,
                            }
                        }
                        Err(_) => false,
                    };
                    latencies.push(sent.elapsed());
                    if !ok {
                        failures += 1;
                    }
                }
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(args.requests);
    let (mut failures, mut accepted, mut answered_duplicate) = (0, 0, 0);
    for task in tasks {
        if let Ok((l, f, a, d)) = task.await {
            latencies.extend(l);
            failures += f;
            accepted += a;
            answered_duplicate += d;
        }
    }
    let elapsed = started.elapsed();
    latencies.sort();
    println!(
        "{}",
        serde_json::json!({
            "label": args.label,
            "requests": args.requests,
            "concurrency": args.concurrency,
            "duplicates_pct": args.duplicates,
            "accepted_202": accepted,
            "duplicate_200": answered_duplicate,
            "unexpected": failures,
            "seconds": (elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
            "requests_per_second": (args.requests as f64 / elapsed.as_secs_f64()).round(),
            "p50_ms": (percentile(&latencies, 50.0) * 1000.0).round() / 1000.0,
            "p99_ms": (percentile(&latencies, 99.0) * 1000.0).round() / 1000.0,
            "max_ms": (percentile(&latencies, 100.0) * 1000.0).round() / 1000.0,
        })
    );
    if failures > 0 {
        std::process::exit(1);
    }
}
