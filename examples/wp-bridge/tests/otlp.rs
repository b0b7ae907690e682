//! With the `otlp` feature, wp-bridge's spans reach an OpenTelemetry
//! collector (a local fake accepting OTLP/HTTP protobuf), carrying the
//! event's correlation id.
#![cfg(feature = "otlp")]
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use common::{free_port, spawn, Receiver, SECRET};
use wp_bridge_core::clock::{Clock, SystemClock};
use wp_bridge_core::signature::SecretSet;
use wp_bridge_core::testing::{eventually, sample_body};
use wp_bridge_postgres::testing::fresh_schema;

#[derive(Clone, Default)]
struct Collector(Arc<Mutex<Vec<Vec<u8>>>>);

async fn traces(State(c): State<Collector>, headers: HeaderMap, body: Bytes) -> &'static str {
    assert_eq!(headers["content-type"], "application/x-protobuf");
    c.0.lock().unwrap().push(body.to_vec());
    ""
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_reach_the_collector_with_the_correlation_id() {
    let (_stores, schema) = fresh_schema(2).await;
    let collector = Collector::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/v1/traces", post(traces))
        .with_state(collector.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let (receiver, webhook) = Receiver::start().await;

    let port = free_port();
    let _app = spawn(
        "all",
        &schema,
        &[
            ("WP_BRIDGE_LISTEN", format!("127.0.0.1:{port}")),
            ("WP_BRIDGE_WEBHOOK_URL", webhook),
            ("WP_BRIDGE_OTLP_ENDPOINT", endpoint),
            ("OTEL_BSP_SCHEDULE_DELAY", "200".into()),
        ],
    );
    let body = sample_body("traced-event");
    let now = SystemClock.unix_seconds();
    let answer: serde_json::Value = eventually(Duration::from_secs(30), || {
        let body = body.clone();
        async move {
            let r = reqwest::Client::new()
                .post(format!("http://127.0.0.1:{port}/webhooks/wp"))
                .header("content-type", "application/json")
                .header("x-wp-timestamp", now.to_string())
                .header(
                    "x-wp-signature",
                    SecretSet::new([SECRET]).unwrap().sign(now, &body),
                )
                .header("x-event-id", "traced-event")
                .body(body)
                .send()
                .await
                .ok()?;
            r.json().await.ok()
        }
    })
    .await
    .unwrap();
    let correlation_id = answer["correlation_id"].as_str().unwrap().to_owned();
    assert!(receiver.wait_for_distinct(1, Duration::from_secs(20)).await);

    let exported = eventually(Duration::from_secs(20), || async {
        let bodies = collector.0.lock().unwrap().clone();
        let all: Vec<u8> = bodies.concat();
        (contains(&all, b"deliver")
            && contains(&all, b"ingest")
            && contains(&all, correlation_id.as_bytes()))
        .then_some(())
    })
    .await;
    assert!(
        exported.is_some(),
        "no ingest/deliver spans with the correlation id reached the collector"
    );
}
