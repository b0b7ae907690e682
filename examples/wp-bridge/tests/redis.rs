//! Gateways and worker processes sharing Postgres and Redis: many workers,
//! a killed worker, a flushed Redis, a stopped Redis, a shared rate limit.
#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

mod common;

use std::time::{Duration, Instant};

use common::{free_port, kill, post_all, spawn, Receiver};
use wp_bridge_core::clock::SystemClock;
use wp_bridge_core::event::{EventId, SinkName};
use wp_bridge_core::event_log::{DeliveryState, EventLog};
use wp_bridge_core::testing::eventually;
use wp_bridge_postgres::testing::fresh_schema;
use wp_bridge_postgres::PgStores;
use wp_bridge_redis::testing::{fresh_prefix, test_redis_url, PrivateRedis};

fn ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i}")).collect()
}

fn env(port: u16, redis: &str, prefix: &str, webhook: &str) -> Vec<(&'static str, String)> {
    vec![
        ("WP_BRIDGE_LISTEN", format!("127.0.0.1:{port}")),
        ("REDIS_URL", redis.to_owned()),
        ("WP_BRIDGE_REDIS_PREFIX", prefix.to_owned()),
        ("WP_BRIDGE_WEBHOOK_URL", webhook.to_owned()),
        ("WP_BRIDGE_LEASE_SECS", "2".into()),
        ("WP_BRIDGE_RETRY_BASE_MS", "50".into()),
    ]
}

fn with(
    mut env: Vec<(&'static str, String)>,
    extra: &[(&'static str, &str)],
) -> Vec<(&'static str, String)> {
    env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    env
}

async fn all_delivered(stores: &PgStores, ids: &[String], within: Duration) -> bool {
    let log = stores.event_log(SystemClock::shared());
    let sink = SinkName::new("webhook");
    eventually(within, || async {
        for id in ids {
            let stored = log
                .load(&EventId::new(id.clone()).unwrap())
                .await
                .unwrap()?;
            if stored.delivery(&sink)?.state != DeliveryState::Delivered {
                return None;
            }
        }
        Some(())
    })
    .await
    .is_some()
}

fn assert_each_once(receiver: &Receiver, ids: &[String]) {
    let counts = receiver.counts();
    for id in ids {
        assert_eq!(
            counts.get(id),
            Some(&1),
            "{id} was delivered {:?} times",
            counts.get(id)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_deliver_a_thousand_events_each_exactly_once() {
    let (stores, schema) = fresh_schema(2).await;
    let (receiver, webhook) = Receiver::start().await;
    let port = free_port();
    let env = env(port, &test_redis_url(), &fresh_prefix(), &webhook);
    let _gateway = spawn("serve", &schema, &env);
    let _workers: Vec<_> = (0..3).map(|_| spawn("worker", &schema, &env)).collect();

    let events = ids("many", 1000);
    let started = Instant::now();
    post_all(port, &events, 32).await;
    assert!(
        receiver
            .wait_for_distinct(1000, Duration::from_secs(120))
            .await,
        "not all delivered"
    );
    let elapsed = started.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_each_once(&receiver, &events);
    assert!(all_delivered(&stores, &events[..10], Duration::from_secs(5)).await);
    println!(
        "1000 events through 3 workers in {:.2} s",
        elapsed.as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_workers_leased_jobs_go_to_the_others_after_the_lease() {
    let (stores, schema) = fresh_schema(2).await;
    let (receiver, webhook) = Receiver::start().await;
    let port = free_port();
    // The reconciler is kept out of it: the queue's own leases must do this.
    let env = with(
        env(port, &test_redis_url(), &fresh_prefix(), &webhook),
        &[("WP_BRIDGE_RECONCILE_GRACE_SECS", "600")],
    );
    let _gateway = spawn("serve", &schema, &env);
    receiver.hang(true);
    let mut doomed = spawn("worker", &schema, &env);
    let events = ids("leased", 4);
    post_all(port, &events, 4).await;
    eventually(Duration::from_secs(20), || async {
        (receiver.calls().len() >= 4).then_some(())
    })
    .await
    .expect("the first worker holds all four");

    kill(&mut doomed).await;
    receiver.hang(false);
    let _survivor = spawn("worker", &schema, &env);
    assert!(
        all_delivered(&stores, &events, Duration::from_secs(30)).await,
        "jobs were not redelivered"
    );
    for id in &events {
        assert_eq!(
            receiver.counts()[id],
            2,
            "{id}: once to the killed worker, once to the survivor"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flushall_with_five_hundred_pending_is_recovered_by_the_reconciler() {
    let (stores, schema) = fresh_schema(2).await;
    let redis = PrivateRedis::start().await;
    let (receiver, webhook) = Receiver::start().await;
    let port = free_port();
    let env = with(
        env(port, &redis.url(), "wpb", &webhook),
        &[
            ("WP_BRIDGE_RECONCILE_INTERVAL_SECS", "1"),
            ("WP_BRIDGE_RECONCILE_GRACE_SECS", "2"),
        ],
    );
    let _gateway = spawn("serve", &schema, &env);
    let events = ids("flushed", 500);
    post_all(port, &events, 16).await;

    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let depth: u64 = redis::cmd("LLEN")
        .arg("{wpb}:ready")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(depth, 500, "all 500 were queued before the flush");
    let flushed_at = Instant::now();
    let _: () = redis::cmd("FLUSHALL").query_async(&mut conn).await.unwrap();

    let _worker = spawn("worker", &schema, &env);
    assert!(
        receiver
            .wait_for_distinct(500, Duration::from_secs(120))
            .await,
        "not recovered"
    );
    let recovery = flushed_at.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_each_once(&receiver, &events);
    assert!(all_delivered(&stores, &events[..10], Duration::from_secs(5)).await);
    println!("FLUSHALL to 500 delivered: {:.2} s", recovery.as_secs_f64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_accepted_while_redis_is_down_are_delivered_when_it_returns() {
    let (stores, schema) = fresh_schema(2).await;
    let mut redis = PrivateRedis::start().await;
    let (receiver, webhook) = Receiver::start().await;
    let port = free_port();
    let env = with(
        env(port, &redis.url(), "wpb", &webhook),
        &[
            ("WP_BRIDGE_RECONCILE_INTERVAL_SECS", "1"),
            ("WP_BRIDGE_RECONCILE_GRACE_SECS", "2"),
        ],
    );
    let _gateway = spawn("serve", &schema, &env);
    let _worker = spawn("worker", &schema, &env);
    post_all(port, &ids("warmup", 1), 1).await;

    redis.stop().await;
    let events = ids("outage", 20);
    post_all(port, &events, 4).await; // every answer 202: the event log has them
    redis.restart().await;

    assert!(
        all_delivered(&stores, &events, Duration::from_secs(60)).await,
        "not delivered after Redis returned"
    );
    assert!(receiver.wait_for_distinct(21, Duration::from_secs(5)).await);
    assert_each_once(&receiver, &events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_holds_across_three_workers() {
    let (_stores, schema) = fresh_schema(2).await;
    let (receiver, webhook) = Receiver::start().await;
    let port = free_port();
    let env = with(
        env(port, &test_redis_url(), &fresh_prefix(), &webhook),
        &[("WP_BRIDGE_RATE_LIMITS", "webhook=10/s")],
    );
    let _gateway = spawn("serve", &schema, &env);
    let _workers: Vec<_> = (0..3).map(|_| spawn("worker", &schema, &env)).collect();
    let events = ids("limited", 100);
    post_all(port, &events, 16).await;
    assert!(
        receiver
            .wait_for_distinct(100, Duration::from_secs(60))
            .await
    );

    let mut times: Vec<Instant> = receiver.calls().into_iter().map(|(_, t)| t).collect();
    times.sort();
    // Any one-second window: 10 calls, plus 1 for where the window's edges
    // fall between the limiter's clock and the receiver's.
    let busiest = times
        .iter()
        .map(|start| {
            times
                .iter()
                .filter(|t| **t >= *start && **t < *start + Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap();
    assert!(busiest <= 11, "{busiest} calls in one second");
    let span = *times.last().unwrap() - times[0];
    assert!(
        span >= Duration::from_secs(9),
        "100 calls at 10/s took only {span:?}"
    );
    println!(
        "100 calls at 10/s across 3 workers: busiest second {busiest}, span {:.2} s",
        span.as_secs_f64()
    );
}
