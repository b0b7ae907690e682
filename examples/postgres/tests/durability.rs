//! The process holding a delivery is SIGKILLed mid-call; after a restart the
//! event is delivered, the sink saw it at most once more, and Postgres holds
//! a consistent story.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use tokio::process::{Child, Command};
use tokio::sync::Notify;
use wp_bridge_core::clock::{Clock, SystemClock};
use wp_bridge_core::event::{EventId, SinkName};
use wp_bridge_core::event_log::{DeliveryState, EventLog};
use wp_bridge_core::signature::SecretSet;
use wp_bridge_core::testing::{eventually, sample_body};
use wp_bridge_postgres::testing::{fresh_schema, test_database_url};

const SECRET: &str = "durability-test-secret-0123456789";

/// A webhook receiver that hangs on the first call and answers 200 after.
#[derive(Clone, Default)]
struct Receiver {
    calls: Arc<Mutex<Vec<String>>>,
    first_call: Arc<Notify>,
}

async fn receive(State(r): State<Receiver>, Json(body): Json<serde_json::Value>) -> StatusCode {
    let first = {
        let mut calls = r.calls.lock().unwrap();
        calls.push(body["event_id"].as_str().unwrap_or("").to_owned());
        calls.len() == 1
    };
    if first {
        r.first_call.notify_one();
        std::future::pending::<()>().await;
    }
    StatusCode::OK
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn_gateway(schema: &str, port: u16, webhook: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_postgres-gateway"))
        .env("DATABASE_URL", test_database_url())
        .env("WP_BRIDGE_PG_SCHEMA", schema)
        .env("WP_BRIDGE_SECRET", SECRET)
        .env("WP_BRIDGE_LISTEN", format!("127.0.0.1:{port}"))
        .env("WP_BRIDGE_WEBHOOK_URL", webhook)
        .env("WP_BRIDGE_LEASE_SECS", "2")
        .env("WP_BRIDGE_RECONCILE_INTERVAL_SECS", "1")
        .env("WP_BRIDGE_RECONCILE_GRACE_SECS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

async fn post_event(port: u16, id: &str) -> reqwest::StatusCode {
    let body = sample_body(id);
    let now = SystemClock.unix_seconds();
    let url = format!("http://127.0.0.1:{port}/webhooks/wp");
    let client = reqwest::Client::new();
    eventually(Duration::from_secs(20), || {
        let (client, url, body) = (client.clone(), url.clone(), body.clone());
        async move {
            client
                .post(&url)
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
                .ok()
                .map(|r| r.status())
        }
    })
    .await
    .expect("the gateway came up")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_delivery_delivers_after_restart_at_most_once_more() {
    let (stores, schema) = fresh_schema(2).await;
    let receiver = Receiver::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let webhook = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(receiver.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let port = free_port();
    let mut first = spawn_gateway(&schema, port, &webhook);
    assert_eq!(
        post_event(port, "killed-mid-delivery").await,
        reqwest::StatusCode::ACCEPTED
    );
    tokio::time::timeout(Duration::from_secs(20), receiver.first_call.notified())
        .await
        .expect("the sink was called");

    first.start_kill().unwrap(); // SIGKILL: no shutdown hook runs
    first.wait().await.unwrap();
    let log = stores.event_log(SystemClock::shared());
    let id = EventId::new("killed-mid-delivery").unwrap();
    let sink = SinkName::new("webhook");
    let in_flight = log.load(&id).await.unwrap().unwrap();
    let d = in_flight.delivery(&sink).unwrap();
    assert_eq!((d.state, d.attempts), (DeliveryState::InFlight, 1));

    let _second = spawn_gateway(&schema, port, &webhook);
    let delivered = eventually(Duration::from_secs(30), || async {
        let stored = log.load(&id).await.unwrap()?;
        let d = stored.delivery(&sink)?.clone();
        (d.state == DeliveryState::Delivered).then_some(d)
    })
    .await
    .expect("delivered after the restart");

    let calls = receiver.calls.lock().unwrap().clone();
    assert_eq!(
        calls,
        ["killed-mid-delivery", "killed-mid-delivery"],
        "the sink saw it at most once more"
    );
    assert_eq!(delivered.attempts, 2);
    assert!(delivered.delivered_at.is_some());
    let attempts = log.attempts(&id).await.unwrap();
    assert_eq!(
        attempts.len(),
        1,
        "only the finished attempt has a row: {attempts:?}"
    );
    assert_eq!(attempts[0].attempt, 2);
    let status: String = sqlx::query_scalar("SELECT status FROM events WHERE event_id = $1")
        .bind(id.as_str())
        .fetch_one(stores.pool())
        .await
        .unwrap();
    assert_eq!(status, "delivered");
}
