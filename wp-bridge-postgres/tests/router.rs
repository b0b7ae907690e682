//! The real router on Postgres over HTTP: concurrent duplicates, and an
//! outage of Postgres in the middle of traffic.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

mod common;

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use tokio::net::TcpListener;
use wp_bridge_core::clock::{Clock, SystemClock};
use wp_bridge_core::event::EventId;
use wp_bridge_core::event_log::EventLog;
use wp_bridge_core::queue::MemoryQueue;
use wp_bridge_core::routing::Routes;
use wp_bridge_core::signature::SecretSet;
use wp_bridge_core::testing::{eventually, sample_body, ScriptedSink};
use wp_bridge_core::worker::Worker;
use wp_bridge_core::GatewayBuilder;
use wp_bridge_postgres::testing::PgProxy;
use wp_bridge_postgres::{PgConfig, PgStores};

const SECRET: &str = "postgres-router-secret-0123456789";

/// Serves the router over `stores` on an ephemeral port; returns its URL.
async fn serve(stores: &PgStores) -> (String, Arc<MemoryQueue>) {
    let clock = SystemClock::shared();
    let queue = Arc::new(MemoryQueue::new(clock.clone()));
    let gateway = GatewayBuilder::new(SecretSet::new([SECRET]).unwrap())
        .routes(Routes::all_to("sink"))
        .build(
            Arc::new(stores.idempotency_store(clock.clone())),
            Arc::new(stores.event_log(clock)),
            queue.clone(),
        );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/wp", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, wp_bridge_axum::router(gateway))
            .await
            .unwrap();
    });
    (url, queue)
}

async fn send(client: &reqwest::Client, url: &str, id: &str) -> (StatusCode, Value) {
    let body = sample_body(id);
    let now = SystemClock.unix_seconds();
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("x-wp-timestamp", now.to_string())
        .header(
            "x-wp-signature",
            SecretSet::new([SECRET]).unwrap().sign(now, &body),
        )
        .header("x-event-id", id)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_concurrent_submissions_give_one_202_ninety_nine_200_and_one_delivery() {
    let stores = common::fresh_stores(20).await;
    let (url, queue) = serve(&stores).await;
    let sink = ScriptedSink::new();
    let log = Arc::new(stores.event_log(SystemClock::shared()));
    let worker = Worker::builder(queue, log.clone())
        .sink("sink", Arc::new(sink.clone()))
        .poll_wait(Duration::from_millis(20))
        .build()
        .spawn();

    let client = reqwest::Client::new();
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let client = client.clone();
            let url = url.clone();
            tokio::spawn(async move { send(&client, &url, "pg-race").await })
        })
        .collect();
    let mut accepted = 0;
    let mut duplicates = 0;
    let mut correlation_ids = std::collections::HashSet::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            StatusCode::ACCEPTED => accepted += 1,
            StatusCode::OK => duplicates += 1,
            other => panic!("unexpected {other}: {body}"),
        }
        correlation_ids.insert(body["correlation_id"].as_str().unwrap().to_owned());
    }
    assert_eq!((accepted, duplicates), (1, 99));
    assert_eq!(correlation_ids.len(), 1);

    let id = EventId::new("pg-race").unwrap();
    eventually(Duration::from_secs(10), || async {
        (sink.deliveries_of(&id) == 1).then_some(())
    })
    .await
    .expect("delivered");
    tokio::time::sleep(Duration::from_millis(200)).await;
    worker.shutdown().await;
    assert_eq!(sink.deliveries_of(&id), 1);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(stores.pool())
        .await
        .unwrap();
    assert_eq!(count, 1);
    let attempts = log.attempts(&id).await.unwrap();
    assert_eq!(attempts.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_answers_503_writes_nothing_and_recovers_by_itself() {
    let (direct, schema) = common::fresh_schema(2).await;
    let proxy = PgProxy::start().await;
    let through_proxy = PgStores::connect(
        &PgConfig::new(proxy.url())
            .schema(schema)
            .max_connections(4)
            .acquire_timeout(Duration::from_millis(800)),
    )
    .await
    .unwrap();
    let (url, _queue) = serve(&through_proxy).await;
    let client = reqwest::Client::new();

    let (status, _) = send(&client, &url, "before-outage").await;
    assert_eq!(status, StatusCode::ACCEPTED);

    proxy.cut();
    let started = std::time::Instant::now();
    let (status, body) = send(&client, &url, "during-outage").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "storage_unavailable");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the outage made the gateway hang"
    );
    let log = direct.event_log(SystemClock::shared());
    assert!(log
        .load(&EventId::new("during-outage").unwrap())
        .await
        .unwrap()
        .is_none());
    let claims: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM idempotency_keys WHERE event_id = 'during-outage'",
    )
    .fetch_one(direct.pool())
    .await
    .unwrap();
    assert_eq!(claims, 0, "a claim was left behind");

    proxy.restore();
    let recovered = eventually(Duration::from_secs(10), || async {
        let (status, _) = send(&client, &url, "during-outage").await;
        (status == StatusCode::ACCEPTED).then_some(())
    })
    .await;
    assert!(
        recovered.is_some(),
        "the gateway did not recover after Postgres returned"
    );
    assert!(log
        .load(&EventId::new("during-outage").unwrap())
        .await
        .unwrap()
        .is_some());
}
