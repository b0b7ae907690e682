//! The process holding a delivery is SIGKILLed mid-call; after a restart the
//! event is delivered, the sink saw it at most once more, and Postgres holds
//! a consistent story. (`wp-bridge all` with its in-memory queue: the
//! reconciler is what brings the event back.)
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

mod common;

use std::time::Duration;

use common::{free_port, kill, post_event, spawn, Receiver};
use wp_bridge_core::clock::SystemClock;
use wp_bridge_core::event::{EventId, SinkName};
use wp_bridge_core::event_log::{DeliveryState, EventLog};
use wp_bridge_core::testing::eventually;
use wp_bridge_postgres::testing::fresh_schema;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_delivery_delivers_after_restart_at_most_once_more() {
    let (stores, schema) = fresh_schema(2).await;
    let (receiver, webhook) = Receiver::start().await;
    receiver.hang_first();
    let port = free_port();
    let env = [
        ("WP_BRIDGE_LISTEN", format!("127.0.0.1:{port}")),
        ("WP_BRIDGE_WEBHOOK_URL", webhook),
        ("WP_BRIDGE_LEASE_SECS", "2".into()),
        ("WP_BRIDGE_RECONCILE_INTERVAL_SECS", "1".into()),
        ("WP_BRIDGE_RECONCILE_GRACE_SECS", "1".into()),
    ];
    let mut first = spawn("all", &schema, &env);
    let client = reqwest::Client::new();
    assert_eq!(
        post_event(&client, port, "killed-mid-delivery").await,
        reqwest::StatusCode::ACCEPTED
    );
    tokio::time::timeout(Duration::from_secs(20), receiver.called.notified())
        .await
        .expect("the sink was called");

    kill(&mut first).await; // SIGKILL: no shutdown hook runs
    let log = stores.event_log(SystemClock::shared());
    let id = EventId::new("killed-mid-delivery").unwrap();
    let sink = SinkName::new("webhook");
    let d = log
        .load(&id)
        .await
        .unwrap()
        .unwrap()
        .delivery(&sink)
        .unwrap()
        .clone();
    assert_eq!((d.state, d.attempts), (DeliveryState::InFlight, 1));

    let _second = spawn("all", &schema, &env);
    let delivered = eventually(Duration::from_secs(30), || async {
        let d = log.load(&id).await.unwrap()?.delivery(&sink)?.clone();
        (d.state == DeliveryState::Delivered).then_some(d)
    })
    .await
    .expect("delivered after the restart");

    assert_eq!(
        receiver.counts()["killed-mid-delivery"],
        2,
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
